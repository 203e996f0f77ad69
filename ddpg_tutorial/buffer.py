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
    """Preallocated ring storage of ``capacity`` transitions, on ``device``.

    Each transition is one row of a float32 tensor, ``[obs | action | reward | next_obs |
    terminated]``. ``add`` writes one row in O(1), overwriting the oldest once full;
    ``sample`` draws row indices uniformly (with replacement) on ``device``, with the
    buffer's own generator, and gathers them in one call, so a batch is made where the
    networks are and never crosses from host to device. Only ``terminated`` is stored, not
    ``truncated``: a time-limit cut is not an end of the task, so its next state is still
    bootstrapped.
    """

    def __init__(
        self,
        capacity: int,
        obs_dim: int,
        act_dim: int,
        seed: int | None = None,
        device: torch.device | str = "cpu",
    ) -> None:
        self.capacity = capacity
        self.device = torch.device(device)
        self.widths = (obs_dim, act_dim, 1, obs_dim, 1)  # the fields of Batch, side by side
        self.storage = torch.zeros((capacity, sum(self.widths)), device=self.device)
        # Each field by name: a view of its columns, sharing the storage's memory.
        self.obs, self.action, self.reward, self.next_obs, self.terminated = self.storage.split(
            self.widths, dim=1
        )
        self.added = 0  # transitions added so far; the next one goes to row added % capacity
        self.generator = torch.Generator(self.device)
        if seed is None:
            self.generator.seed()  # a fresh, non-deterministic seed
        else:
            self.generator.manual_seed(seed)

    @property
    def size(self) -> int:
        """How many rows hold data."""
        return min(self.added, self.capacity)

    @property
    def position(self) -> int:
        """The row the next transition goes to."""
        return self.added % self.capacity

    def __len__(self) -> int:
        return self.size

    def add(
        self,
        obs: np.ndarray,
        action: np.ndarray,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool,
    ) -> None:
        """Store one transition; ``obs``/``next_obs`` are (obs_dim,), ``action`` (act_dim,)."""
        row = np.concatenate((obs, action, [reward], next_obs, [terminated]), dtype=np.float32)
        self.storage[self.position] = torch.from_numpy(row)
        self.added += 1

    def sample(self, batch_size: int) -> Batch:
        """A uniform batch of ``batch_size`` stored transitions, as tensors on the buffer's
        device (column views of one gathered (B, row width) tensor)."""
        if batch_size > self.size:
            raise DDPGError(
                f"cannot sample {batch_size} transitions from a replay buffer holding "
                f"{self.size}; add more transitions first (or use more warm-up steps)"
            )
        idx = torch.randint(self.size, (batch_size,), device=self.device, generator=self.generator)
        return Batch(*self.storage.index_select(0, idx).split(self.widths, dim=1))

    def rows(self, start: int, stop: int) -> torch.Tensor:
        """Transitions number ``start`` to ``stop - 1`` in the order they were added (counting
        from 0 at the first ``add``), as one (stop - start, row width) tensor on the CPU.
        Only the last ``size`` transitions are still stored."""
        if not self.added - self.size <= start <= stop <= self.added:
            raise DDPGError(
                f"transitions {start} to {stop} are not in the replay buffer, "
                f"which holds {self.added - self.size} to {self.added}"
            )
        idx = torch.arange(start, stop, device=self.device) % self.capacity
        return self.storage.index_select(0, idx).cpu()

    def put_rows(self, start: int, rows: torch.Tensor) -> None:
        """Write ``rows``, transitions number ``start`` onwards, where :meth:`rows` reads them."""
        idx = torch.arange(start, start + len(rows), device=self.device) % self.capacity
        self.storage[idx] = rows.to(self.device)

    def state_dict(self, with_rows: bool = True) -> dict:
        """Capacity, counter and sampler state, and (unless ``with_rows`` is False) the stored
        transitions, oldest first."""
        state = {
            "capacity": self.capacity,
            "added": self.added,
            "generator": self.generator.get_state(),
        }
        if with_rows:
            state["rows"] = self.rows(self.added - self.size, self.added)
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned (same capacity and dimensions)."""
        if state["capacity"] != self.capacity:
            raise DDPGError(
                f"replay buffer capacity {state['capacity']} in the saved state "
                f"does not match {self.capacity}"
            )
        self.added = state["added"]
        if "generator" in state:  # absent from states of version 0.1.0
            self.generator.set_state(state["generator"])
        if "rows" in state:
            self.put_rows(self.added - len(state["rows"]), state["rows"])
