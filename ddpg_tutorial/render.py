"""Rendering a policy to an animated GIF, headless."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from ddpg_tutorial.envs import make_env
from ddpg_tutorial.errors import DDPGError
from ddpg_tutorial.files import atomic_write


class RenderingUnavailable(DDPGError):
    """The environment cannot draw images on this machine (no OpenGL backend, for example)."""


def gif_frame(frame: np.ndarray, width: int) -> Image.Image:
    """An (H, W, 3) uint8 frame scaled to ``width`` pixels wide, in a 256-colour palette: what
    a GIF stores, about 1/10 of the memory of a full-size RGB frame of 480 x 480."""
    image = Image.fromarray(frame)
    height = round(image.height * width / image.width)
    small = image.resize((width, height), Image.Resampling.LANCZOS)
    return small.convert("P", palette=Image.Palette.ADAPTIVE)


def record_episode(
    policy: Callable[[np.ndarray], np.ndarray], env_id: str, seed: int = 0, width: int = 256
) -> tuple[list[Image.Image], float]:
    """Run one episode with ``policy`` ((obs_dim,) -> (act_dim,)) and keep its frames.

    Each frame from Gymnasium's ``rgb_array`` render mode becomes a GIF frame
    (:func:`gif_frame`) as soon as it is drawn, so the full-size frames never pile up.
    Returns the frames and the episode return.
    """
    probe = make_env(env_id)  # Gymnasium only warns when asked for a mode the env lacks
    modes = probe.metadata.get("render_modes", [])
    probe.close()
    if "rgb_array" not in modes:
        raise DDPGError(
            f"'{env_id}' cannot render to images (no rgb_array mode); "
            "pick an environment that supports render_mode='rgb_array'"
        )
    env = make_env(env_id, render_mode="rgb_array")
    obs, _ = env.reset(seed=seed)
    frames, total, done = [], 0.0, False
    try:
        while not done:
            frames.append(gif_frame(render_frame(env, env_id), width))
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            total += float(reward)
            done = terminated or truncated
    finally:
        env.close()
    return frames, total


def render_frame(env, env_id: str) -> np.ndarray:
    """``env.render()``, with every way it can fail on a headless machine as one
    :class:`RenderingUnavailable` saying how to enable rendering."""
    try:
        with warnings.catch_warnings():  # GLFW warns before failing; the error says it all
            warnings.filterwarnings("ignore", module="glfw")
            frame = env.render()
    except Exception as err:  # OpenGL errors come as FatalError, AttributeError, OSError...
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise RenderingUnavailable(
            f"cannot render '{env_id}' on this machine ({type(err).__name__}: {first_line}); "
            "MuJoCo needs an OpenGL backend: install libEGL (Debian: libegl1) and set "
            "MUJOCO_GL=egl, or libOSMesa and MUJOCO_GL=osmesa"
        ) from None
    if frame is None:
        raise DDPGError(
            f"'{env_id}' returned no image from render(); pick an environment "
            "that supports render_mode='rgb_array'"
        )
    return frame


def write_gif(frames: list[Image.Image], path: str | Path, fps: int = 30) -> None:
    """Write ``frames`` (from :func:`gif_frame`) as a looping GIF, atomically."""
    atomic_write(
        path,
        lambda f: frames[0].save(
            f,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=round(1000 / fps),
            loop=0,
        ),
    )


def render_gif(
    policy: Callable[[np.ndarray], np.ndarray], env_id: str, path: str | Path, seed: int = 0
) -> float:
    """Record one greedy episode of ``policy`` on ``env_id`` into the GIF at ``path``.

    Returns the episode's return.
    """
    frames, episode_return = record_episode(policy, env_id, seed)
    write_gif(frames, path)
    return episode_return
