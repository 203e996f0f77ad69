"""The interface every agent has, and the set-up the three algorithms share.

The training loop, evaluation and checkpoints use an agent through :class:`Agent` alone:
``act``, ``estimate_value``, ``update``, ``start_episode``, ``state_dict`` and
``load_state_dict``. Each algorithm (:class:`.DDPGAgent`, :class:`.TD3Agent`,
:class:`.SACAgent`) builds its own networks and writes its own update.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Protocol

import numpy as np
import torch
from torch import nn

from ddpg_tutorial.buffer import Batch
from ddpg_tutorial.config import Config
from ddpg_tutorial.errors import DDPGError
from ddpg_tutorial.seeding import stream_seeds


def resolve_device(device: str | torch.device) -> torch.device:
    """``'auto'`` picks CUDA when available, otherwise the CPU; ``'cpu'`` and ``'cuda[:N]'``
    are taken as they are, anything else is a :class:`.DDPGError`."""
    device = str(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device != "cpu" and not device.startswith("cuda"):
        raise DDPGError(f"unknown device '{device}'; use cpu, cuda or auto")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise DDPGError(
            f"device '{device}' asked for, but PyTorch sees no CUDA GPU; use --device cpu"
        )
    return torch.device(device)


@torch.no_grad()
def soft_update(targets: list[torch.Tensor], online: list[torch.Tensor], tau: float) -> None:
    """Polyak averaging, in place: theta_target <- (1 - tau) theta_target + tau theta,
    for every pair of tensors at once (one fused call instead of a loop)."""
    torch._foreach_lerp_(targets, online, tau)


def adam(module: nn.Module, lr: float) -> torch.optim.Adam:
    """Adam over ``module``'s parameters (``fused``: one kernel per step, not a loop)."""
    return torch.optim.Adam(module.parameters(), lr=lr, fused=True)


def weight_penalty(module: nn.Module, weight_decay: float) -> torch.Tensor | float:
    """L2 weight decay as a loss term, ``weight_decay / 2 * sum ||W||^2`` over ``module``'s
    weight matrices: biases and batch normalisation's scale and shift are not decayed (the
    DDPG paper's L2, as rllab applies it). Zero without decay."""
    if weight_decay == 0:
        return 0.0
    return weight_decay / 2 * sum(p.pow(2).sum() for p in module.parameters() if p.dim() > 1)


class Metrics(Protocol):
    """What one update measured (:meth:`Agent.update`): a NamedTuple of 0-dim tensors on the
    agent's device, None where the update measured nothing; first these three, then the
    algorithm's own (:class:`.UpdateMetrics`, :class:`.TD3Metrics`, :class:`.SACMetrics`)."""

    @property
    def critic_loss(self) -> torch.Tensor: ...

    @property
    def actor_loss(self) -> torch.Tensor | None: ...

    @property
    def mean_q(self) -> torch.Tensor: ...

    def _asdict(self) -> dict[str, Any]: ...


class Agent(ABC):
    """An agent for observations of shape (obs_dim,) and actions of shape (act_dim,) within
    ``[action_low, action_high]``.

    This class holds what every algorithm's agent shares: its config, its device, the action
    bounds and a ``torch.Generator`` on the device, seeded from ``seed``'s "agent" stream
    (:func:`.stream_seeds`), which initialises the networks and draws any noise an update
    needs. No global generator is touched. A subclass builds its networks and optimisers and
    names, in ``saved``, the attributes whose state dicts a checkpoint holds.
    """

    algorithm: ClassVar[str]
    saved: ClassVar[tuple[str, ...]]

    def __init__(
        self,
        obs_dim: int,
        action_low: np.ndarray,
        action_high: np.ndarray,
        config: Config,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        self.config = config
        self.device = resolve_device(device)
        self.action_low = np.asarray(action_low, dtype=np.float32)
        self.action_high = np.asarray(action_high, dtype=np.float32)
        self.act_dim = self.action_low.size
        self.seeds = stream_seeds(seed)
        self.generator = torch.Generator(self.device).manual_seed(self.seeds["agent"])

    @abstractmethod
    def act(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        """An action for ``obs``, float32 and within the bounds: the greedy one, or with
        ``explore`` the one to take while training. ``obs`` has shape (obs_dim,) or
        (N, obs_dim); the action (act_dim,) or (N, act_dim) to match."""

    @classmethod
    @abstractmethod
    def make_actor(
        cls,
        obs_dim: int,
        action_low: np.ndarray,
        action_high: np.ndarray,
        config: Any,
        generator: torch.Generator,
    ) -> nn.Module:
        """A new actor of this algorithm for ``config``, its weights drawn from ``generator``
        (what the agent acts with, and all :func:`.load_policy` builds)."""

    @staticmethod
    @abstractmethod
    def greedy(actor: nn.Module, obs: torch.Tensor) -> torch.Tensor:
        """The greedy action of an actor from :meth:`make_actor`: (B, obs_dim) -> (B, act_dim)."""

    @abstractmethod
    def estimate_value(self, obs: np.ndarray) -> np.ndarray:
        """The critic's estimate of each state's value under the greedy policy:
        (N, obs_dim) -> (N,)."""

    @abstractmethod
    def update(self, batch: Batch) -> Metrics:
        """One update on a :class:`.Batch`; returns what it measured (:class:`Metrics`)."""

    def start_episode(self) -> None:  # noqa: B027 (a hook that most agents leave empty)
        """Called at every episode start (DDPG's noise process starts again there)."""

    def state_dict(self) -> dict:
        """Everything the agent holds that changes while training: the state dicts of the
        attributes in ``saved`` and the generator's state."""
        return {
            **{name: getattr(self, name).state_dict() for name in self.saved},
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned. An entry the state lacks stays as it is
        (a checkpoint of version 0.1.0 holds only the networks and optimisers); a subclass
        with more to restore takes its own entries out first."""
        for name, value in state.items():
            if name == "generator":
                self.generator.set_state(value)
                continue
            target = getattr(self, name)
            target.load_state_dict(value)
            if isinstance(target, torch.optim.Optimizer):
                # Up to version 0.2 Adam decayed every parameter; the decay is a loss term now.
                for group in target.param_groups:
                    group["weight_decay"] = 0.0
