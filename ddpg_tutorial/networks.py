"""Actor and critic networks of Lillicrap et al. (2015), Section 7; the twin critic of TD3
and SAC; SAC's squashed Gaussian actor."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

FINAL_LAYER_BOUND = 3e-3


def linear(
    in_features: int, out_features: int, bias: bool = True, generator: torch.Generator | None = None
) -> nn.Linear:
    """An ``nn.Linear`` on ``generator``'s device (the CPU without one), left uninitialised
    (no draws from the global generator) for :func:`fan_in_uniform_` to fill."""
    on = {} if generator is None else {"device": generator.device}
    return nn.utils.skip_init(nn.Linear, in_features, out_features, bias=bias, **on)


def fan_in_uniform_(
    layer: nn.Linear, bound: float | None = None, generator: torch.Generator | None = None
) -> None:
    """Initialise weights and bias (if any) from U(-b, b), with b = 1/sqrt(fan_in) unless given.

    Draws from ``generator``, or from torch's global generator when it is None.
    """
    if bound is None:
        bound = 1.0 / math.sqrt(layer.in_features)
    nn.init.uniform_(layer.weight, -bound, bound, generator=generator)
    if layer.bias is not None:
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def running_statistics(module: nn.Module) -> list[torch.Tensor]:
    """The running means and variances of ``module``'s batch normalisation layers (none
    without them): the target networks average them like weights."""
    return [
        buffer
        for name, buffer in module.named_buffers()
        if name.endswith(("running_mean", "running_var"))
    ]


@contextmanager
def frozen_statistics(module: nn.Module) -> Iterator[None]:
    """Inside, ``module``'s batch normalisation layers still normalise by the batch in
    training mode, but leave their running statistics where they are (momentum 0): an
    update that runs the critic twice on one batch moves them once."""
    norms = [m for m in module.modules() if isinstance(m, nn.BatchNorm1d)]
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.momentum = 0.0
    try:
        yield
    finally:
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum


class Actor(nn.Module):
    """Deterministic policy mu(s): (B, obs_dim) or (obs_dim,) -> (B, act_dim) or (act_dim,),
    inside [low, high].

    ReLU hidden layers, then tanh, rescaled from [-1, 1] to the action bounds:
    ``action = center + half_range * tanh(z)``. With ``batch_norm``, as in Lillicrap et al.
    (2015), the state input and every hidden layer (before its ReLU) are batch-normalised. The
    weights are drawn from ``generator`` (torch's global generator when None), on its device:
    every layer's from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the last layer's from
    U(-final_bound, final_bound) unless ``final_bound`` is None.
    """

    # Buffers (registered below): in the state dict, and moved by .to() with the weights.
    action_center: torch.Tensor
    action_half_range: torch.Tensor

    def __init__(
        self,
        obs_dim: int,
        action_low: np.ndarray,
        action_high: np.ndarray,
        hidden: Sequence[int] = (400, 300),
        generator: torch.Generator | None = None,
        batch_norm: bool = False,
        final_bound: float | None = FINAL_LAYER_BOUND,
    ) -> None:
        super().__init__()
        low = torch.as_tensor(action_low, dtype=torch.float32)
        high = torch.as_tensor(action_high, dtype=torch.float32)
        sizes = [obs_dim, *hidden]
        layers = [linear(i, o, generator=generator) for i, o in zip(sizes[:-1], sizes[1:])]
        self.hidden = nn.ModuleList(layers)
        self.out = linear(sizes[-1], low.numel(), generator=generator)
        for layer in layers:
            fan_in_uniform_(layer, generator=generator)
        fan_in_uniform_(self.out, final_bound, generator)
        device = self.out.weight.device
        # One normalisation for the input and one per hidden layer.
        self.norms = (
            nn.ModuleList(nn.BatchNorm1d(n, device=device) for n in sizes) if batch_norm else None
        )
        self.register_buffer("action_center", ((high + low) / 2).to(device))
        self.register_buffer("action_half_range", ((high - low) / 2).to(device))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Actions for a batch of observations: (B, obs_dim) -> (B, act_dim)."""
        x = obs
        if self.norms is None:
            for layer in self.hidden:
                x = torch.relu(layer(x))
        else:
            x = self.norms[0](x if obs.dim() == 2 else x.unsqueeze(0))  # it needs a batch
            for layer, norm in zip(self.hidden, self.norms[1:]):
                x = torch.relu(norm(layer(x)))
            x = x if obs.dim() == 2 else x.squeeze(0)
        return self.action_center + self.action_half_range * torch.tanh(self.out(x))


class Critic(nn.Module):
    """Action value Q(s, a): (B, obs_dim), (B, act_dim) -> (B, 1).

    ``action_layer`` says where the action enters. At 2 (the DDPG paper's design) the state
    goes through the first layer alone, and the second layer sees its features h and the
    action a side by side: ``W [h; a] + b``. At 1 (TD3's and SAC's papers) the first layer
    sees ``[s; a]``. The layer the action joins stores its weight matrix as two blocks,
    ``W [x; a] = W_x x + W_a a``, so no concatenated copy of the batch is made.

    Every layer's weights start in U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the fan-in of a joined
    layer counting the action, and the last layer's in U(-final_bound, final_bound) unless
    ``final_bound`` is None. With ``batch_norm`` (action at layer 2 only), as in Lillicrap et
    al. (2015), the layers before the action joins are batch-normalised: the state input and
    the first layer (before its ReLU). The weights are drawn from ``generator`` (torch's
    global generator when None), on its device.
    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        hidden: Sequence[int] = (400, 300),
        generator: torch.Generator | None = None,
        batch_norm: bool = False,
        action_layer: int = 2,
        final_bound: float | None = FINAL_LAYER_BOUND,
    ) -> None:
        super().__init__()
        if len(hidden) < 2:
            raise ValueError("the critic needs at least two hidden layers")
        if action_layer not in (1, 2):
            raise ValueError(f"the action joins at layer 1 or 2, not {action_layer}")
        if batch_norm and action_layer != 2:
            raise ValueError("batch normalisation needs the action at the second layer")
        g = generator
        self.action_layer = action_layer
        # The first layer, then (action at 2) the second, each joined: the state's block with
        # the bias b, and the action's block W_a.
        self.first = linear(obs_dim, hidden[0], generator=g)
        if action_layer == 1:
            self.first_action = linear(act_dim, hidden[0], bias=False, generator=g)
            joined, action_block, rest = self.first, self.first_action, hidden
        else:
            self.joint_state = linear(hidden[0], hidden[1], generator=g)
            self.joint_action = linear(act_dim, hidden[1], bias=False, generator=g)
            joined, action_block, rest = self.joint_state, self.joint_action, hidden[1:]
        self.hidden = nn.ModuleList(linear(i, o, generator=g) for i, o in zip(rest[:-1], rest[1:]))
        self.out = linear(hidden[-1], 1, generator=g)
        for layer in (self.first, *self.hidden):
            if layer is not joined:
                fan_in_uniform_(layer, generator=generator)
        joined_bound = 1.0 / math.sqrt(joined.in_features + act_dim)
        fan_in_uniform_(joined, joined_bound, generator)
        fan_in_uniform_(action_block, joined_bound, generator)
        fan_in_uniform_(self.out, final_bound, generator)
        self.norms = (
            nn.ModuleList(
                nn.BatchNorm1d(n, device=self.out.weight.device) for n in (obs_dim, hidden[0])
            )
            if batch_norm
            else None
        )

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """Q-values of a batch: (B, obs_dim), (B, act_dim) -> (B, 1)."""
        # The joined layer: W_x x + b from the first block, plus W_a a in the same call
        # (addmm: input + m1 @ m2).
        if self.action_layer == 1:
            x = torch.relu(torch.addmm(self.first(obs), action, self.first_action.weight.t()))
        else:
            if self.norms is None:
                h = torch.relu(self.first(obs))
            else:
                h = torch.relu(self.norms[1](self.first(self.norms[0](obs))))
            x = torch.relu(torch.addmm(self.joint_state(h), action, self.joint_action.weight.t()))
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.out(x)


class TwinCritic(nn.Module):
    """Two critics with their own weights, side by side, for clipped double Q-learning (TD3,
    SAC): (B, obs_dim), (B, act_dim) -> ((B, 1), (B, 1)). Each is a :class:`Critic`."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        hidden: Sequence[int] = (400, 300),
        generator: torch.Generator | None = None,
        batch_norm: bool = False,
        action_layer: int = 2,
        final_bound: float | None = FINAL_LAYER_BOUND,
    ) -> None:
        super().__init__()
        self.q1 = Critic(obs_dim, act_dim, hidden, generator, batch_norm, action_layer, final_bound)
        self.q2 = Critic(obs_dim, act_dim, hidden, generator, batch_norm, action_layer, final_bound)

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both critics' Q-values: (B, obs_dim), (B, act_dim) -> (B, 1), (B, 1)."""
        return self.q1(obs, action), self.q2(obs, action)


class SquashedGaussianActor(nn.Module):
    """Stochastic policy pi(a|s) of SAC: a Gaussian N(m(s), diag(sigma(s)^2)) over an unbounded
    u, squashed by tanh into (-1, 1) and scaled to the bounds: ``center + half_range * tanh(u)``.

    ``forward(obs, generator)`` samples with the reparameterisation u = m + sigma * eps,
    eps ~ N(0, I), and returns the actions (B, act_dim) and log pi (B, 1). The log-probability
    is that of the squashed action tanh(u) in (-1, 1)^act_dim (the space in which SAC's target
    entropy -act_dim is set, as in the reference implementations), by the change of variables
    log pi = log N(u; m, sigma) - sum_i log(1 - tanh(u_i)^2).
    ``greedy(obs)`` is the deterministic action ``center + half_range * tanh(m(s))``.
    """

    LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0  # the bounds of log sigma(s) in SAC's reference code

    # Buffers (registered below): in the state dict, and moved by .to() with the weights.
    action_center: torch.Tensor
    action_half_range: torch.Tensor

    def __init__(
        self,
        obs_dim: int,
        action_low: np.ndarray,
        action_high: np.ndarray,
        hidden: Sequence[int] = (256, 256),
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        low = torch.as_tensor(action_low, dtype=torch.float32)
        high = torch.as_tensor(action_high, dtype=torch.float32)
        sizes = [obs_dim, *hidden]
        self.hidden = nn.ModuleList(
            linear(i, o, generator=generator) for i, o in zip(sizes[:-1], sizes[1:])
        )
        self.mean = linear(sizes[-1], low.numel(), generator=generator)
        self.log_std = linear(sizes[-1], low.numel(), generator=generator)
        for layer in (*self.hidden, self.mean, self.log_std):
            fan_in_uniform_(layer, generator=generator)
        device = self.mean.weight.device
        self.register_buffer("action_center", ((high + low) / 2).to(device))
        self.register_buffer("action_half_range", ((high - low) / 2).to(device))

    def distribution(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation of the Gaussian over u: (B, obs_dim) -> 2 x (B, act_dim)."""
        x = obs
        for layer in self.hidden:
            x = torch.relu(layer(x))
        log_std = self.log_std(x).clamp(self.LOG_STD_MIN, self.LOG_STD_MAX)
        return self.mean(x), log_std.exp()

    def forward(
        self, obs: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sampled actions (B, act_dim), differentiable in the weights, and log pi (B, 1)."""
        mean, std = self.distribution(obs)
        eps = torch.randn(mean.shape, generator=generator, device=mean.device)
        u = mean + std * eps
        gaussian_log_prob = (-0.5 * eps.pow(2) - std.log() - 0.5 * math.log(2 * math.pi)).sum(
            dim=1, keepdim=True
        )
        # log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), stable for large |u|.
        log_det = (2 * (math.log(2) - u - F.softplus(-2 * u))).sum(dim=1, keepdim=True)
        action = self.action_center + self.action_half_range * torch.tanh(u)
        return action, gaussian_log_prob - log_det

    def greedy(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic action of the policy's mean: (B, obs_dim) -> (B, act_dim)."""
        mean, _ = self.distribution(obs)
        return self.action_center + self.action_half_range * torch.tanh(mean)
