"""Rendering headless: MuJoCo's OpenGL backend, frames shrunk as they arrive, and what
happens where nothing can render."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_TRAIN_ARGS
from PIL import Image

from ddpg_tutorial import DDPGError
from ddpg_tutorial.cli import main
from ddpg_tutorial.render import RenderingUnavailable, record_episode, render_gif

REPO = Path(__file__).resolve().parent.parent
HAS_MUJOCO = subprocess.run([sys.executable, "-c", "import mujoco"],
                            capture_output=True).returncode == 0


def zero_policy(obs: np.ndarray) -> np.ndarray:
    return np.zeros(1, dtype=np.float32)


def test_frames_are_shrunk_to_palette_images_as_they_arrive():
    frames, _ = record_episode(zero_policy, "DDPGTestRender-v0", width=32)
    assert len(frames) == 50  # one per step
    assert all(isinstance(f, Image.Image) and f.mode == "P" for f in frames)
    assert {f.size for f in frames} == {(32, 24)}  # 64 x 48 scaled to 32 wide


def test_a_render_failure_is_one_clear_error():
    with pytest.raises(RenderingUnavailable) as info:
        render_gif(zero_policy, "DDPGTestBrokenRender-v0", "never.gif")
    message = str(info.value)
    assert isinstance(info.value, DDPGError) and "\n" not in message
    assert "cannot render 'DDPGTestBrokenRender-v0' on this machine (RuntimeError: an OpenGL" \
        in message
    assert "MUJOCO_GL=egl" in message
    assert not Path("never.gif").exists()


def test_training_where_rendering_fails_warns_once_and_exits_0(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train", "--env", "DDPGTestBrokenRender-v0", "--out", str(out), "--steps", "300",
               "--eval-every", "300", *TINY_TRAIN_ARGS, "--set", "warmup_steps=100"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: no policy.gif: cannot render")
    assert "MUJOCO_GL=egl" in lines[0]
    assert sorted(p.name for p in out.iterdir()) == [
        ".lock", "agent.pt", "config.json", "episodes.csv", "evaluations.csv", "learning_curve.png",
        "losses.csv", "replay", "training_state.pt"]


def python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with no display, and ``env`` on top."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MUJOCO_GL")}
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=300, env={**base, "PYTHONPATH": str(REPO), **env})


@pytest.mark.parametrize("env, expected", [
    ({}, "egl"),  # no display, nothing chosen: EGL
    ({"MUJOCO_GL": "osmesa"}, "osmesa"),  # the user's choice stands
    ({"DISPLAY": ":0"}, "unset"),  # a display: MuJoCo's own default
])
def test_mujoco_gl_is_egl_only_without_display_and_without_a_choice(env, expected):
    result = python("import os, ddpg_tutorial; print(os.environ.get('MUJOCO_GL', 'unset'))",
                    **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.skipif(not HAS_MUJOCO, reason="needs the mujoco extra")
def test_a_mujoco_task_renders_headless_with_the_default_backend(tmp_path):
    gif = tmp_path / "ip.gif"
    result = python("import numpy as np\nfrom ddpg_tutorial import render_gif\n"
                    "render_gif(lambda obs: np.zeros(1, np.float32), 'InvertedPendulum-v5', "
                    f"{str(gif)!r})")
    assert result.returncode == 0, result.stderr
    with Image.open(gif) as image:
        assert image.n_frames > 1 and image.width == 256
        image.seek(1)
        assert np.asarray(image.convert("RGB")).std() > 5  # a picture, not a blank frame


@pytest.mark.skipif(not HAS_MUJOCO, reason="needs the mujoco extra")
def test_training_a_mujoco_task_where_rendering_is_impossible_still_exits_0(tmp_path):
    # With no display, MuJoCo's default backend (GLFW, as where no libEGL is found) cannot
    # render: the first frame raises, as in 0.1.0's traceback after a finished run.
    out = tmp_path / "run"
    args = ["train", "--env", "InvertedPendulum-v5", "--out", str(out), "--steps", "300",
            "--eval-every", "300", *TINY_TRAIN_ARGS, "--set", "warmup_steps=100"]
    result = python(f"import sys\nfrom ddpg_tutorial.cli import main\nsys.exit(main({args!r}))",
                    MUJOCO_GL="glfw")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: no policy.gif: cannot render "
                                                   "'InvertedPendulum-v5'"), result.stderr
    assert "MUJOCO_GL=egl" in lines[0]
    assert (out / "learning_curve.png").exists() and not (out / "policy.gif").exists()


@pytest.mark.skipif(not HAS_MUJOCO, reason="needs the mujoco extra")
def test_a_mujoco_gl_that_cannot_load_is_a_one_line_error():
    result = python("import sys\nfrom ddpg_tutorial.cli import main\nsys.exit(main(['train', "
                    "'--env', 'InvertedPendulum-v5', '--out', '/nonexistent/never']))",
                    MUJOCO_GL="no-such-backend")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: cannot make 'InvertedPendulum-v5' with MUJOCO_GL=no-such-backend"), result.stderr
