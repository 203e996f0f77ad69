"""Actor and critic networks of Lillicrap et al. (2015), Section 7."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

FINAL_LAYER_BOUND = 3e-3


def linear(in_features: int, out_features: int, bias: bool = True) -> nn.Linear:
    """An ``nn.Linear`` left uninitialised (no draws from the global generator), for
    :func:`fan_in_uniform_` to fill."""
    return nn.utils.skip_init(nn.Linear, in_features, out_features, bias=bias)


def fan_in_uniform_(layer: nn.Linear, bound: float | None = None,
                    generator: torch.Generator | None = None) -> None:
    """Initialise weights and bias (if any) from U(-b, b), with b = 1/sqrt(fan_in) unless given.

    Draws from ``generator``, or from torch's global generator when it is None.
    """
    if bound is None:
        bound = 1.0 / math.sqrt(layer.in_features)
    nn.init.uniform_(layer.weight, -bound, bound, generator=generator)
    if layer.bias is not None:
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


class Actor(nn.Module):
    """Deterministic policy mu(s): (B, obs_dim) -> (B, act_dim), inside [low, high].

    ReLU hidden layers, then tanh, rescaled from [-1, 1] to the action bounds:
    ``action = center + half_range * tanh(z)``. The weights are drawn from ``generator``
    (torch's global generator when None).
    """

    def __init__(self, obs_dim: int, action_low: np.ndarray, action_high: np.ndarray,
                 hidden: Sequence[int] = (400, 300),
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        low = torch.as_tensor(action_low, dtype=torch.float32)
        high = torch.as_tensor(action_high, dtype=torch.float32)
        sizes = [obs_dim, *hidden]
        self.hidden = nn.ModuleList(linear(i, o) for i, o in zip(sizes[:-1], sizes[1:]))
        self.out = linear(sizes[-1], low.numel())
        for layer in self.hidden:
            fan_in_uniform_(layer, generator=generator)
        fan_in_uniform_(self.out, FINAL_LAYER_BOUND, generator)
        self.register_buffer("action_center", (high + low) / 2)
        self.register_buffer("action_half_range", (high - low) / 2)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Actions for a batch of observations: (B, obs_dim) -> (B, act_dim)."""
        x = obs
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.action_center + self.action_half_range * torch.tanh(self.out(x))


class Critic(nn.Module):
    """Action value Q(s, a): (B, obs_dim), (B, act_dim) -> (B, 1).

    The state goes through the first layer alone; the action joins at the
    second layer, which sees the first layer's features h and the action a
    side by side: ``W [h; a] + b``. Its weight matrix is stored as two blocks,
    ``W [h; a] = W_h h + W_a a``, so no concatenated copy of the batch is made. The weights
    are drawn from ``generator`` (torch's global generator when None).
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int] = (400, 300),
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        if len(hidden) < 2:
            raise ValueError("the critic needs at least two hidden layers")
        self.first = linear(obs_dim, hidden[0])
        self.joint_state = linear(hidden[0], hidden[1])  # W_h and the bias b
        self.joint_action = linear(act_dim, hidden[1], bias=False)  # W_a
        self.hidden = nn.ModuleList(linear(i, o) for i, o in zip(hidden[1:-1], hidden[2:]))
        self.out = linear(hidden[-1], 1)
        for layer in (self.first, *self.hidden):
            fan_in_uniform_(layer, generator=generator)
        # The second layer's fan-in is its whole input [h; a], for both blocks.
        joint_bound = 1.0 / math.sqrt(hidden[0] + act_dim)
        fan_in_uniform_(self.joint_state, joint_bound, generator)
        fan_in_uniform_(self.joint_action, joint_bound, generator)
        fan_in_uniform_(self.out, FINAL_LAYER_BOUND, generator)

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """Q-values of a batch: (B, obs_dim), (B, act_dim) -> (B, 1)."""
        h = torch.relu(self.first(obs))
        # W_h h + b from the first block, plus W_a a in the same call (addmm: input + m1 @ m2).
        x = torch.relu(torch.addmm(self.joint_state(h), action, self.joint_action.weight.t()))
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.out(x)
