"""Greedy evaluation of a policy over a fixed set of episode seeds."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np

EVAL_SEED_BASE = 10_000


def eval_seeds(episodes: int) -> list[int]:
    """The fixed reset seeds of ``episodes`` evaluation episodes: 10000, 10001, ..."""
    return [EVAL_SEED_BASE + i for i in range(episodes)]


def evaluate(policy: Callable[[np.ndarray], np.ndarray], envs: Sequence[gym.Env],
             seeds: Sequence[int]) -> np.ndarray:
    """Return of one episode in each of ``envs``, reset with the matching seed.

    The episodes run side by side so that ``policy`` is called once per time
    step on a batch: (N, obs_dim) -> (N, act_dim), with N the number of
    episodes still running.  Returns shape (len(envs),).
    """
    obs = np.stack([env.reset(seed=int(seed))[0] for env, seed in zip(envs, seeds)])
    returns = np.zeros(len(envs))
    running = np.ones(len(envs), dtype=bool)
    while running.any():
        idx = np.flatnonzero(running)
        actions = policy(obs[idx])
        for i, action in zip(idx, actions):
            obs[i], reward, terminated, truncated, _ = envs[i].step(action)
            returns[i] += reward
            running[i] = not (terminated or truncated)
    return returns
