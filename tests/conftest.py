"""Shared fixtures: tiny configs, and small Gymnasium environments built to be wrong.

The test environments are registered once, when pytest imports this file, so that both
the library (``gymnasium.make``) and in-process calls of the command line can find them.
"""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from ddpg_tutorial import PRESETS, DDPGConfig

# Two CPU cores are shared by several processes: one PyTorch thread keeps each test fast
# and keeps matrix products bit-identical from run to run.
torch.set_num_threads(1)
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


class _SmallEnv(gym.Env):
    """3-d vector observations, one action in [-2, 2], reward -(|s|^2 + a^2).

    Subclasses change one space to make the environment unusable for DDPG. With
    ``nan_after`` the reward is NaN after that many steps of this instance (training
    diverges); with ``terminate_every`` each episode terminates after that many steps.
    """

    metadata = {"render_modes": []}

    def __init__(self, nan_after: int | None = None, terminate_every: int | None = None,
                 render_mode: str | None = None) -> None:
        self.render_mode = render_mode
        self.terminate_every = terminate_every
        self.episode_steps = 0
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
        self.action_space = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)
        self.nan_after = nan_after
        self.steps_taken = 0
        self.state = np.zeros(3, dtype=np.float32)

    def _obs(self):
        return self.state.copy()

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = self.np_random.uniform(-1, 1, 3).astype(np.float32)
        self.episode_steps = 0
        return self._obs(), {}

    def step(self, action):
        a = float(np.asarray(action, dtype=np.float32).reshape(-1)[0])
        self.state = np.clip(0.9 * self.state + 0.1 * a, -1, 1).astype(np.float32)
        self.steps_taken += 1
        self.episode_steps += 1
        reward = -float(self.state @ self.state) - 0.01 * a * a
        if self.nan_after is not None and self.steps_taken > self.nan_after:
            reward = float("nan")
        terminated = self.episode_steps == self.terminate_every
        return self._obs(), reward, terminated, False, {}


class InfiniteActionEnv(_SmallEnv):
    """30 action dimensions, the last 15 unbounded above (a long message to keep on one line)."""

    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__(render_mode=render_mode)
        high = np.array([1.0] * 15 + [np.inf] * 15, dtype=np.float32)
        self.action_space = gym.spaces.Box(-np.ones(30, np.float32), high, dtype=np.float32)


class ImageObsEnv(_SmallEnv):
    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__(render_mode=render_mode)
        self.observation_space = gym.spaces.Box(0, 255, (8, 8, 3), np.uint8)

    def _obs(self):
        return np.zeros((8, 8, 3), dtype=np.uint8)


class DictObsEnv(_SmallEnv):
    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__(render_mode=render_mode)
        self.observation_space = gym.spaces.Dict(
            {"position": gym.spaces.Box(-1.0, 1.0, (3,), np.float32)})

    def _obs(self):
        return {"position": self.state.copy()}


class RenderEnv(_SmallEnv):
    """Renders small frames, each different (the step count is drawn in), quickly."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def render(self):
        frame = np.zeros((48, 64, 3), dtype=np.uint8)
        frame[:, : self.episode_steps + 1, 0] = 255
        frame[:, :, 1] = int(127 * (1 + self.state[0]))
        return frame


class BrokenRenderEnv(RenderEnv):
    """Claims rgb_array rendering, then fails the way OpenGL does on a headless machine."""

    def render(self):
        raise RuntimeError("an OpenGL platform library has not been loaded into this process")


NAN_AFTER = 300  # the NaN environment's reward is NaN from its 301st step on
TEST_ENVS = {
    "DDPGTestSmall-v0": (_SmallEnv, {}),
    "DDPGTestRender-v0": (RenderEnv, {}),
    "DDPGTestBrokenRender-v0": (BrokenRenderEnv, {}),
    "DDPGTestInfiniteAction-v0": (InfiniteActionEnv, {}),
    "DDPGTestImageObs-v0": (ImageObsEnv, {}),
    "DDPGTestDictObs-v0": (DictObsEnv, {}),
    "DDPGTestNaNReward-v0": (_SmallEnv, {"nan_after": NAN_AFTER}),
    "DDPGTestTerminating-v0": (_SmallEnv, {"terminate_every": 10}),
}
for _env_id, (_cls, _kwargs) in TEST_ENVS.items():
    if _env_id not in gym.registry:
        gym.register(_env_id, entry_point=_cls, max_episode_steps=50, kwargs=_kwargs)


def tiny_config(**changes) -> DDPGConfig:
    """The fast preset shrunk to seconds: small networks, batches and runs."""
    base = PRESETS["fast"].replace(
        actor_hidden=(32, 32), critic_hidden=(32, 32), batch_size=64, buffer_size=10_000,
        warmup_steps=200, total_steps=600, eval_every=200, eval_episodes=2)
    return base.replace(**changes)


# Options that make a command-line training run take seconds.
TINY_TRAIN_ARGS = [
    "--no-progress", "--threads", "1",
    "--set", "actor_hidden=[32,32]", "--set", "critic_hidden=[32,32]",
    "--set", "batch_size=64", "--set", "buffer_size=10000", "--set", "warmup_steps=200",
    "--eval-episodes", "2",
]


def stop_after(trainer, steps: int) -> None:
    """Make ``trainer`` call its own request_stop once ``steps`` environment steps were taken
    (as the command line's signal handler does)."""
    env_step = trainer.env.step

    def step(action):
        if trainer.step + 1 >= steps:
            trainer.request_stop()
        return env_step(action)

    trainer.env.step = step


def is_running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
