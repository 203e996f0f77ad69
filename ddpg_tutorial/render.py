"""Rendering a policy to an animated GIF, headless."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from ddpg_tutorial.checkpoint import atomic_write
from ddpg_tutorial.envs import make_env
from ddpg_tutorial.errors import DDPGError


def record_episode(policy: Callable[[np.ndarray], np.ndarray], env_id: str,
                   seed: int = 0) -> tuple[list[np.ndarray], float]:
    """Run one episode with ``policy`` ((obs_dim,) -> (act_dim,)) and keep every frame.

    Frames are (H, W, 3) uint8 arrays from Gymnasium's ``rgb_array`` render mode.
    Returns the frames and the episode return.
    """
    cannot = DDPGError(f"'{env_id}' cannot render to images (no rgb_array mode); "
                       "pick an environment that supports render_mode='rgb_array'")
    probe = make_env(env_id)  # Gymnasium only warns when asked for a mode the env lacks
    modes = probe.metadata.get("render_modes", [])
    probe.close()
    if "rgb_array" not in modes:
        raise cannot
    env = make_env(env_id, render_mode="rgb_array")
    obs, _ = env.reset(seed=seed)
    frames, total, done = [], 0.0, False
    while not done:
        frame = env.render()
        if frame is None:
            raise cannot
        frames.append(frame)
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        total += float(reward)
        done = terminated or truncated
    env.close()
    return frames, total


def write_gif(frames: list[np.ndarray], path: str | Path, fps: int = 30, size: int = 256) -> None:
    """Write ``frames`` as a looping GIF, each scaled to ``size`` pixels wide, atomically."""
    images = []
    for frame in frames:
        image = Image.fromarray(frame)
        height = round(image.height * size / image.width)
        images.append(image.resize((size, height), Image.Resampling.LANCZOS))
    atomic_write(path, lambda f: images[0].save(
        f, format="GIF", save_all=True, append_images=images[1:],
        duration=round(1000 / fps), loop=0))


def render_gif(policy: Callable[[np.ndarray], np.ndarray], env_id: str, path: str | Path,
               seed: int = 0) -> float:
    """Record one greedy episode of ``policy`` on ``env_id`` into the GIF at ``path``.

    Returns the episode's return.
    """
    frames, episode_return = record_episode(policy, env_id, seed)
    write_gif(frames, path)
    return episode_return
