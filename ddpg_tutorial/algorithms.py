"""The algorithms the library trains, by name: each one's config class, agent class and
presets. The training loop, checkpoints and the command line look them up here, so that they
are written once for all three."""

from __future__ import annotations

from typing import Any

import numpy as np

from ddpg_tutorial.agent import DDPGAgent
from ddpg_tutorial.base import Agent
from ddpg_tutorial.config import ALGORITHM_PRESETS, CONFIGS, Config
from ddpg_tutorial.errors import DDPGError
from ddpg_tutorial.sac import SACAgent
from ddpg_tutorial.td3 import TD3Agent

AGENTS: dict[str, type[Agent]] = {"ddpg": DDPGAgent, "td3": TD3Agent, "sac": SACAgent}
assert set(CONFIGS) == set(AGENTS) == set(ALGORITHM_PRESETS)


def check_algorithm(name: str) -> str:
    if name not in AGENTS:
        raise DDPGError(f"unknown algorithm '{name}'; choose one of {sorted(AGENTS)}")
    return name


def config_from_dict(algorithm: str, data: dict[str, Any]) -> Config:
    """The config of ``algorithm`` saved as ``data`` (:meth:`.Config.to_dict`)."""
    return CONFIGS[check_algorithm(algorithm)].from_dict(data)


def make_agent(
    obs_dim: int,
    action_low: np.ndarray,
    action_high: np.ndarray,
    config: Config,
    seed: int = 0,
    device: str = "cpu",
) -> Agent:
    """The agent of the algorithm ``config`` is for (its class tells: DDPG, TD3 or SAC)."""
    return AGENTS[config.algorithm](obs_dim, action_low, action_high, config, seed, device)
