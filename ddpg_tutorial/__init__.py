"""ddpg_tutorial: Deep Deterministic Policy Gradient (Lillicrap et al. 2015) and its successors
TD3 and SAC, small and readable.

The layout: every algorithm is an agent class (:class:`.Agent`, :mod:`.base`) whose
``update(batch)`` is one function to read top to bottom (:mod:`.agent` for DDPG, :mod:`.td3`,
:mod:`.sac`), with a config class and presets (:mod:`.config`). Everything else is written
once and shared: the replay buffer, the networks, the training loop, evaluation, history,
checkpoints and the command line, which find an algorithm's classes by name in
:mod:`.algorithms`. TD3's agent is DDPG's with a twin critic
and its own update; SAC's agent is its own (a stochastic actor, no noise process).

Modules, one idea each:

- :mod:`~ddpg_tutorial.buffer`: the replay buffer
- :mod:`~ddpg_tutorial.networks`: actor and critic; the twin critic; SAC's squashed Gaussian actor
- :mod:`~ddpg_tutorial.noise`: Ornstein-Uhlenbeck and Gaussian exploration noise
- :mod:`~ddpg_tutorial.base`: the interface every agent has, and the set-up they share
- :mod:`~ddpg_tutorial.agent`: acting and the DDPG update
- :mod:`~ddpg_tutorial.td3`: TD3's agent and update
- :mod:`~ddpg_tutorial.sac`: SAC's agent and update
- :mod:`~ddpg_tutorial.algorithms`: the algorithms by name: config, agent, presets
- :mod:`~ddpg_tutorial.config`: hyperparameters and presets
- :mod:`~ddpg_tutorial.envs`: making and checking Gymnasium environments
- :mod:`~ddpg_tutorial.headless`: rendering without a display
- :mod:`~ddpg_tutorial.evaluation`: greedy evaluation over fixed seeds
- :mod:`~ddpg_tutorial.seeding`: one seed split into independent random streams
- :mod:`~ddpg_tutorial.training`: the training loop, resumable
- :mod:`~ddpg_tutorial.training_state`: crash-safe training states, the replay buffer in chunks
- :mod:`~ddpg_tutorial.run_folder`: a run folder's files, read without PyTorch
- :mod:`~ddpg_tutorial.history`: what a run records, and its CSV files
- :mod:`~ddpg_tutorial.sweep`: many runs, a grid of configurations times seeds, as processes
- :mod:`~ddpg_tutorial.stats`: IQM, confidence intervals, profiles and paired comparisons over
  runs (rliable)
- :mod:`~ddpg_tutorial.tune`: hyperparameter search (Optuna)
- :mod:`~ddpg_tutorial.tune_space`: the hyperparameters the search tries
- :mod:`~ddpg_tutorial.plotting`: learning curves, returns and losses; curves over many runs
- :mod:`~ddpg_tutorial.checkpoint`: agent checkpoints, and safe loading of any saved file
- :mod:`~ddpg_tutorial.files`: atomic writes
- :mod:`~ddpg_tutorial.render`: a policy to an animated GIF
- :mod:`~ddpg_tutorial.source`: showing the library's own source code
- :mod:`~ddpg_tutorial.errors`: the one exception type, :class:`~ddpg_tutorial.errors.DDPGError`
- :mod:`~ddpg_tutorial.cli`: the ``ddpg-tutorial`` command (train, evaluate, render, sweep,
  report, tune, presets)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import ddpg_tutorial.headless  # noqa: F401 (display settings, before any environment is made)

__version__ = "0.3.0"

#: Each public name, and the module it lives in. They are imported when first used, so that
#: ``import ddpg_tutorial`` (and ``ddpg-tutorial presets`` or ``--help``) do not wait for
#: PyTorch.
_EXPORTS = {
    "DDPGAgent": "agent",
    "UpdateMetrics": "agent",
    "make_agent": "algorithms",
    "Agent": "base",
    "soft_update": "base",
    "Batch": "buffer",
    "ReplayBuffer": "buffer",
    "load_agent": "checkpoint",
    "load_policy": "checkpoint",
    "save_agent": "checkpoint",
    "ALGORITHM_PRESETS": "config",
    "PRESETS": "config",
    "SAC_PRESETS": "config",
    "TD3_PRESETS": "config",
    "Config": "config",
    "DDPGConfig": "config",
    "SACConfig": "config",
    "TD3Config": "config",
    "get_preset": "config",
    "DDPGError": "errors",
    "evaluate": "evaluation",
    "History": "history",
    "Actor": "networks",
    "Critic": "networks",
    "SquashedGaussianActor": "networks",
    "TwinCritic": "networks",
    "GaussianNoise": "noise",
    "OrnsteinUhlenbeckNoise": "noise",
    "plot_learning_curve": "plotting",
    "render_gif": "render",
    "SACAgent": "sac",
    "SACMetrics": "sac",
    "TD3Agent": "td3",
    "TD3Metrics": "td3",
    "Trainer": "training",
    "train": "training",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ddpg_tutorial' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"ddpg_tutorial.{_EXPORTS[name]}"), name)
    globals()[name] = value  # the next use finds it directly
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:  # what type checkers and editors see
    from ddpg_tutorial.agent import DDPGAgent, UpdateMetrics
    from ddpg_tutorial.algorithms import make_agent
    from ddpg_tutorial.base import Agent, soft_update
    from ddpg_tutorial.buffer import Batch, ReplayBuffer
    from ddpg_tutorial.checkpoint import load_agent, load_policy, save_agent
    from ddpg_tutorial.config import (
        ALGORITHM_PRESETS,
        PRESETS,
        SAC_PRESETS,
        TD3_PRESETS,
        Config,
        DDPGConfig,
        SACConfig,
        TD3Config,
        get_preset,
    )
    from ddpg_tutorial.errors import DDPGError
    from ddpg_tutorial.evaluation import evaluate
    from ddpg_tutorial.history import History
    from ddpg_tutorial.networks import Actor, Critic, SquashedGaussianActor, TwinCritic
    from ddpg_tutorial.noise import GaussianNoise, OrnsteinUhlenbeckNoise
    from ddpg_tutorial.plotting import plot_learning_curve
    from ddpg_tutorial.render import render_gif
    from ddpg_tutorial.sac import SACAgent, SACMetrics
    from ddpg_tutorial.td3 import TD3Agent, TD3Metrics
    from ddpg_tutorial.training import Trainer, train
