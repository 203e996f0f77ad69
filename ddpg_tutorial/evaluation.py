"""Greedy evaluation of a policy over a fixed set of episode seeds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import gymnasium as gym
import numpy as np

from ddpg_tutorial.seeding import EVAL_SEED_BASE


def eval_seeds(episodes: int, base: int = EVAL_SEED_BASE) -> list[int]:
    """The fixed reset seeds of ``episodes`` evaluation episodes: ``base``, ``base + 1``, ..."""
    return [base + i for i in range(episodes)]


class Evaluation(NamedTuple):
    """What :func:`evaluate` measured, one entry per episode."""

    returns: np.ndarray  #: (N,) the sum of each episode's rewards
    discounted_returns: np.ndarray  #: (N,) sum over t of gamma^t r_t, from each start state
    first_obs: np.ndarray  #: (N, obs_dim) each episode's start state


def evaluate(
    policy: Callable[[np.ndarray], np.ndarray],
    envs: Sequence[gym.Env],
    seeds: Sequence[int],
    gamma: float = 1.0,
) -> Evaluation:
    """One episode in each of ``envs``, reset with the matching seed: its return, its return
    discounted by ``gamma`` (what a critic estimates at the start state), and the start state.

    The episodes run side by side so that ``policy`` is called once per time
    step on a batch: (N, obs_dim) -> (N, act_dim), with N the number of
    episodes still running.
    """
    obs = np.stack([env.reset(seed=int(seed))[0] for env, seed in zip(envs, seeds)])
    first_obs = obs.copy()
    returns, discounted = np.zeros(len(envs)), np.zeros(len(envs))
    running = np.ones(len(envs), dtype=bool)
    t = 0
    while running.any():
        idx = np.flatnonzero(running)
        actions = policy(obs[idx])
        for i, action in zip(idx.tolist(), actions):
            obs[i], reward, terminated, truncated, _ = envs[i].step(action)
            returns[i] += reward
            discounted[i] += gamma**t * float(reward)
            running[i] = not (terminated or truncated)
        t += 1
    return Evaluation(returns, discounted, first_obs)
