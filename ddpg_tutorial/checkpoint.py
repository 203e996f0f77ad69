"""Saving and loading agents and training states: atomic writes, safe reads."""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ddpg_tutorial.algorithms import AGENTS, Agent, config_from_dict, make_agent
from ddpg_tutorial.base import resolve_device
from ddpg_tutorial.envs import EnvSpec
from ddpg_tutorial.errors import DDPGError
from ddpg_tutorial.files import atomic_save

AGENT_FORMAT = "ddpg-tutorial/agent/1"


def safe_load(path: str | Path, what: str, *formats: str) -> dict:
    """Load a file written by :func:`.atomic_save` without running any code from it.

    ``weights_only=True`` refuses anything but tensors and plain Python data. The file's
    ``format`` field must be one of ``formats``; ``what`` names the kind of file in errors
    ("an agent checkpoint"). Every way the file can be wrong becomes a one-line
    :class:`.DDPGError`.
    """
    path = Path(path)
    if path.is_dir():
        raise DDPGError(
            f"'{path}' is a directory, not {what}; pass the file in it, "
            f"for example '{path / 'agent.pt'}'"
        )
    if not path.is_file():
        raise DDPGError(
            f"'{path}' does not exist; pass the path of {what} that 'ddpg-tutorial train' wrote"
        )
    if path.stat().st_size == 0:
        raise DDPGError(f"'{path}' is empty; it is not {what} (was the save interrupted?)")
    # torch.save writes a zip archive; anything else (a text file, a bare pickle) is never
    # handed to the unpickler, whose errors for such files are misleading or tracebacks.
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":
            raise DDPGError(
                f"'{path}' is not a PyTorch file, so it is not {what}; pass a file "
                "that 'ddpg-tutorial train' wrote"
            )
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise DDPGError(
            f"refused to load '{path}': it holds Python objects that loading would "
            "have to execute; only load checkpoints written by ddpg-tutorial"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError):
        raise DDPGError(f"'{path}' is truncated or not a PyTorch file; it is not {what}") from None
    if not isinstance(data, dict) or data.get("format") not in formats:
        raise DDPGError(f"'{path}' is a PyTorch file but not {what} of ddpg-tutorial")
    return data


def save_agent(path: str | Path, agent: Agent, spec: EnvSpec) -> None:
    """Write the agent's algorithm, config and state, and the environment it is for."""
    atomic_save(agent_payload(agent, spec), path)


def agent_payload(agent: Agent, spec: EnvSpec) -> dict:
    """The dictionary :func:`save_agent` writes; a training state embeds it."""
    return {
        "format": AGENT_FORMAT,
        "algorithm": agent.algorithm,
        "env_id": spec.env_id,
        "obs_dim": spec.obs_dim,
        "action_low": torch.from_numpy(spec.action_low),
        "action_high": torch.from_numpy(spec.action_high),
        "config": agent.config.to_dict(),
        "state": agent.state_dict(),
    }


def load_agent(path: str | Path, device: str = "cpu") -> tuple[Agent, EnvSpec]:
    """The agent saved at ``path`` (of whichever algorithm it records; files of version 0.1.0
    record none and are DDPG's) and the :class:`.EnvSpec` it was trained for."""
    data = safe_load(path, "an agent checkpoint", AGENT_FORMAT)
    agent, spec = agent_from_payload(data, device)
    load_agent_state(agent, data["state"])
    return agent, spec


def load_policy(
    path: str | Path, device: str = "cpu"
) -> tuple[Callable[[np.ndarray], np.ndarray], EnvSpec]:
    """The greedy policy of the agent saved at ``path`` and the :class:`.EnvSpec` it was
    trained for. The policy maps an observation (obs_dim,) or a batch (N, obs_dim) to float32
    actions (act_dim,) or (N, act_dim), as the agent's ``act`` does; it is the saved actor
    alone, without the critics and optimisers (the first optimiser PyTorch builds in a process
    imports its compiler, which takes seconds)."""
    data = safe_load(path, "an agent checkpoint", AGENT_FORMAT)
    spec = _spec(data)
    config = config_from_dict(data.get("algorithm", "ddpg"), data["config"])
    agent_class = AGENTS[config.algorithm]
    torch_device = resolve_device(device)
    actor = agent_class.make_actor(
        spec.obs_dim, spec.action_low, spec.action_high, config, torch.Generator(torch_device)
    ).to(torch_device)
    actor.load_state_dict(data["state"]["actor"])

    @torch.no_grad()
    def policy(obs: np.ndarray) -> np.ndarray:
        obs_t = torch.as_tensor(obs, dtype=torch.float32, device=torch_device)
        batch = obs_t.unsqueeze(0) if obs_t.ndim == 1 else obs_t
        action = agent_class.greedy(actor, batch).cpu().numpy()
        return action[0] if obs_t.ndim == 1 else action

    return policy, spec


def load_agent_state(agent: Agent, state: dict) -> bool:
    """Load an agent's ``state`` (its ``state_dict()``) into ``agent``, on whatever device.

    A generator state saved on another kind of device than ``agent``'s cannot be restored (a
    CUDA generator's state is 16 bytes, a CPU one's 5,056): the agent keeps its own generator
    then, which acting greedily never uses. Returns whether the generator state was restored
    (True for files of version 0.1.0, which hold none).
    """
    saved = state.get("generator")
    if saved is None or generator_fits(saved, agent.generator):
        agent.load_state_dict(state)
        return True
    agent.load_state_dict({**state, "generator": agent.generator.get_state()})
    return False


def generator_fits(state: torch.Tensor, generator: torch.Generator) -> bool:
    """Whether ``state`` is the state of a generator on ``generator``'s kind of device."""
    return state.numel() == generator.get_state().numel()


def agent_from_payload(data: dict, device: str = "cpu", seed: int = 0) -> tuple[Agent, EnvSpec]:
    """A new agent of the algorithm, config and environment that ``data`` records (its state
    not yet loaded), and the :class:`.EnvSpec`."""
    spec = _spec(data)
    config = config_from_dict(data.get("algorithm", "ddpg"), data["config"])
    return make_agent(spec.obs_dim, spec.action_low, spec.action_high, config, seed, device), spec


def _spec(data: dict) -> EnvSpec:
    """The environment an agent's saved ``data`` is for."""
    return EnvSpec(
        data["env_id"],
        int(data["obs_dim"]),
        data["action_low"].numpy(),
        data["action_high"].numpy(),
    )


def check_compatible(saved: EnvSpec, env: EnvSpec, path: str | Path) -> None:
    """Raise a :class:`.DDPGError` naming the shapes that differ between two specs."""
    if saved.obs_dim != env.obs_dim or saved.act_dim != env.act_dim:
        raise DDPGError(
            f"checkpoint '{path}' was trained on '{saved.env_id}' with observation shape "
            f"({saved.obs_dim},) and action shape ({saved.act_dim},), but '{env.env_id}' has "
            f"observation shape ({env.obs_dim},) and action shape ({env.act_dim},); "
            "use the environment it was trained on"
        )
