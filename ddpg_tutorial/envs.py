"""Making Gymnasium environments, and checking that DDPG can act in them."""

from __future__ import annotations

import os
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

import ddpg_tutorial.headless  # noqa: F401 (before any environment, and so MuJoCo, is made)
from ddpg_tutorial.errors import DDPGError


@dataclass(frozen=True)
class EnvSpec:
    """The shapes and bounds an agent must be built for."""

    env_id: str
    obs_dim: int
    action_low: np.ndarray  #: (act_dim,)
    action_high: np.ndarray  #: (act_dim,)

    @property
    def act_dim(self) -> int:
        return int(self.action_low.size)


#: Returns that count as solving a task that registers no ``reward_threshold`` with Gymnasium.
USUAL_THRESHOLDS = {"Pendulum-v1": -200.0}


def return_threshold(env_id: str) -> tuple[float, str] | None:
    """The return that counts as solving ``env_id``, and where the number comes from:
    Gymnasium's ``reward_threshold`` where the task registers one (InvertedPendulum-v5: 950),
    else :data:`USUAL_THRESHOLDS` (Pendulum-v1: -200), else None."""
    try:
        registered = gym.spec(env_id).reward_threshold
    except gym.error.Error:
        registered = None
    if registered is not None:
        return float(registered), "Gymnasium's reward threshold"
    if env_id in USUAL_THRESHOLDS:
        return USUAL_THRESHOLDS[env_id], f"the usual bar on {env_id}"
    return None


def make_env(env_id: str, render_mode: str | None = None) -> gym.Env:
    """``gymnasium.make(env_id)`` with one-line errors for unknown ids and missing extras."""
    try:
        return gym.make(env_id, render_mode=render_mode)
    except gym.error.DependencyNotInstalled as err:
        raise DDPGError(f"environment '{env_id}' needs an extra package: {err}") from None
    except gym.error.Error as err:
        raise DDPGError(
            f"unknown environment id '{env_id}' ({err}); check the spelling and version, "
            "for example Pendulum-v1 or MountainCarContinuous-v0"
        ) from None
    except ModuleNotFoundError as err:
        raise DDPGError(
            f"environment '{env_id}' needs the Python package '{err.name}'; install it with pip"
        ) from None
    except (AttributeError, ImportError, OSError, RuntimeError) as err:
        if "MUJOCO_GL" not in os.environ:
            raise
        # MuJoCo loads the OpenGL backend MUJOCO_GL names when it is imported.
        raise DDPGError(
            f"cannot make '{env_id}' with MUJOCO_GL={os.environ['MUJOCO_GL']} "
            f"({type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err) else ''}); "
            "use MUJOCO_GL=egl (needs libEGL) or osmesa (needs libOSMesa), or unset it"
        ) from None


def check_env(env: gym.Env, env_id: str) -> EnvSpec:
    """The :class:`EnvSpec` of ``env``, or a :class:`.DDPGError` saying why DDPG
    cannot act in it."""
    obs_space, act_space = env.observation_space, env.action_space
    if not isinstance(act_space, gym.spaces.Box):
        raise DDPGError(
            f"'{env_id}' has a {type(act_space).__name__} action space, but DDPG needs a "
            "continuous Box action space; use DQN for discrete actions, or pick a "
            "continuous task such as Pendulum-v1"
        )
    if not (np.all(np.isfinite(act_space.low)) and np.all(np.isfinite(act_space.high))):
        low, high = (
            np.array2string(b, max_line_width=10**9, threshold=8)  # one line
            for b in (act_space.low, act_space.high)
        )
        raise DDPGError(
            f"'{env_id}' has infinite action bounds ({low} to {high}); "
            "DDPG's tanh actor needs finite bounds: wrap the environment with "
            "gymnasium.wrappers.ClipAction or a rescaling wrapper"
        )
    if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
        kind = (
            f"Box of shape {obs_space.shape}"
            if isinstance(obs_space, gym.spaces.Box)
            else type(obs_space).__name__
        )
        raise DDPGError(
            f"'{env_id}' has {kind} observations, but these networks take flat vectors; "
            "use vector observations, or wrap the environment with "
            "gymnasium.wrappers.FlattenObservation"
        )
    return EnvSpec(
        env_id,
        int(obs_space.shape[0]),
        act_space.low.astype(np.float32).ravel(),
        act_space.high.astype(np.float32).ravel(),
    )
