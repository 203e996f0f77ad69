"""Experience replay: a fixed-size ring of transitions, sampled uniformly."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ddpg_tutorial.errors import DDPGError


class Batch(NamedTuple):
    """A minibatch of transitions, each a float32 tensor with batch size ``B``."""

    obs: torch.Tensor  #: (B, obs_dim)
    action: torch.Tensor  #: (B, act_dim)
    reward: torch.Tensor  #: (B, 1)
    next_obs: torch.Tensor  #: (B, obs_dim)
    terminated: torch.Tensor  #: (B, 1), 1.0 where the episode really ended


class ReplayBuffer:
    """Preallocated ring storage of ``capacity`` transitions.

    ``add`` writes one transition in O(1), overwriting the oldest once full;
    ``sample`` draws a batch uniformly (with replacement) in one vectorised
    index per field.  Only ``terminated`` is stored, not ``truncated``: a
    time-limit cut is not an end of the task, so its next state is still
    bootstrapped.
    """

    def __init__(self, capacity: int, obs_dim: int, act_dim: int, seed: int | None = None) -> None:
        self.capacity = capacity
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.action = np.zeros((capacity, act_dim), dtype=np.float32)
        self.reward = np.zeros((capacity, 1), dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.terminated = np.zeros((capacity, 1), dtype=np.float32)
        self.position = 0  # where the next transition goes
        self.size = 0  # how many slots hold data
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.size

    def add(self, obs: np.ndarray, action: np.ndarray, reward: float,
            next_obs: np.ndarray, terminated: bool) -> None:
        """Store one transition; ``obs``/``next_obs`` are (obs_dim,), ``action`` (act_dim,)."""
        i = self.position
        self.obs[i] = obs
        self.action[i] = action
        self.reward[i] = reward
        self.next_obs[i] = next_obs
        self.terminated[i] = terminated
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, device: torch.device | str = "cpu") -> Batch:
        """A uniform batch of ``batch_size`` stored transitions, as tensors on ``device``."""
        if batch_size > self.size:
            raise DDPGError(
                f"cannot sample {batch_size} transitions from a replay buffer holding "
                f"{self.size}; add more transitions first (or use more warm-up steps)"
            )
        idx = self.rng.integers(0, self.size, size=batch_size)
        fields = (self.obs, self.action, self.reward, self.next_obs, self.terminated)
        return Batch(*(torch.from_numpy(f[idx]).to(device) for f in fields))

    def state_dict(self) -> dict:
        """The stored transitions (first ``size`` rows), write position and sampler state."""
        n = self.size
        return {
            "capacity": self.capacity,
            "position": self.position,
            "size": n,
            "rng": self.rng.bit_generator.state,
            **{name: torch.from_numpy(getattr(self, name)[:n].copy())
               for name in ("obs", "action", "reward", "next_obs", "terminated")},
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned (same capacity and dimensions)."""
        if state["capacity"] != self.capacity:
            raise DDPGError(f"replay buffer capacity {state['capacity']} in the saved state "
                            f"does not match {self.capacity}")
        n = state["size"]
        for name in ("obs", "action", "reward", "next_obs", "terminated"):
            getattr(self, name)[:n] = state[name].numpy()
        self.position, self.size = state["position"], n
        self.rng.bit_generator.state = state["rng"]
