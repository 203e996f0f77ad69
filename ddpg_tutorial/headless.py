"""Rendering without a display: the defaults that ``import ddpg_tutorial`` sets.

pygame (behind Gymnasium's classic-control rendering) must not look for a display. MuJoCo
renders through OpenGL, and with no display its default (GLFW) cannot. EGL is the headless
backend Gymnasium documents. It is chosen only when the user has set none and libEGL is
installed (without it, importing mujoco would fail, and training with it), and before mujoco is
first imported: it reads MUJOCO_GL then. So the package sets these when it is imported, before
any environment is made.
"""

import ctypes.util
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
if (
    "MUJOCO_GL" not in os.environ
    and ctypes.util.find_library("EGL")
    and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
):
    os.environ["MUJOCO_GL"] = "egl"
