"""SAC (Haarnoja et al. 2018): a stochastic actor that maximises return plus entropy, with
twin critics and a temperature tuned automatically.

It shares the replay buffer, the training loop, evaluation and checkpoints with DDPG; the
agent and its update are its own. The objective adds ``alpha * H(pi(.|s))`` to every reward,
so the critics learn soft values, the actor trades value against entropy, and the temperature
``alpha`` is adjusted so that the policy's entropy stays near ``target_entropy``.
"""

from __future__ import annotations

import copy
import math
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ddpg_tutorial.base import Agent, adam, soft_update, weight_penalty
from ddpg_tutorial.buffer import Batch
from ddpg_tutorial.config import SACConfig
from ddpg_tutorial.networks import SquashedGaussianActor, TwinCritic


class SACMetrics(NamedTuple):
    """What one call of :meth:`SACAgent.update` measured, 0-dim tensors on the agent's device."""

    critic_loss: torch.Tensor  #: sum of both critics' mean squared soft TD errors
    actor_loss: torch.Tensor  #: mean of alpha log pi(a|s) - min_i Q_i(s, a), a ~ pi(.|s)
    mean_q: torch.Tensor  #: mean Q1(s, a) over the batch, before the critics' step
    alpha: torch.Tensor  #: the temperature used in this update
    entropy: torch.Tensor  #: the policy's entropy, estimated on the batch as -mean log pi(a|s)


class SACAgent(Agent):
    """A :class:`.SquashedGaussianActor`, a :class:`.TwinCritic` with its target copy, their
    optimisers, and the temperature ``alpha = exp(log_alpha)`` with its own optimiser.

    Observations are float arrays of shape (obs_dim,); actions of shape (act_dim,) within
    ``[action_low, action_high]``. The agent's ``torch.Generator`` (from ``seed``'s "agent"
    stream) initialises the networks and draws every action the policy samples.
    """

    algorithm = "sac"
    saved = (
        "actor",
        "critic",
        "critic_target",
        "actor_optimizer",
        "critic_optimizer",
        "alpha_optimizer",
    )

    def __init__(
        self,
        obs_dim: int,
        action_low: np.ndarray,
        action_high: np.ndarray,
        config: SACConfig,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(obs_dim, action_low, action_high, config, seed, device)
        self.config: SACConfig = config
        self.actor = self.make_actor(
            obs_dim, self.action_low, self.action_high, config, self.generator
        )
        self.critic = TwinCritic(
            obs_dim,
            self.act_dim,
            config.critic_hidden,
            self.generator,
            action_layer=config.critic_action_layer,
            final_bound=config.final_layer_bound,
        )
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.log_alpha = torch.tensor(
            math.log(config.initial_alpha), device=self.device, requires_grad=True
        )
        self.target_entropy = (
            -float(self.act_dim) if config.target_entropy is None else config.target_entropy
        )
        self.actor_optimizer = adam(self.actor, config.actor_lr)
        self.critic_optimizer = adam(self.critic, config.critic_lr)
        self.alpha_optimizer = torch.optim.Adam([self.log_alpha], lr=config.alpha_lr)
        self._actor_params = list(self.actor.parameters())
        self._critic_params: list[torch.Tensor] = list(self.critic.parameters())
        self._target_params: list[torch.Tensor] = list(self.critic_target.parameters())

    @classmethod
    def make_actor(
        cls,
        obs_dim: int,
        action_low: np.ndarray,
        action_high: np.ndarray,
        config: SACConfig,
        generator: torch.Generator,
    ) -> SquashedGaussianActor:
        """The squashed Gaussian policy of ``config``."""
        return SquashedGaussianActor(
            obs_dim, action_low, action_high, config.actor_hidden, generator
        )

    @staticmethod
    def greedy(actor: nn.Module, obs: torch.Tensor) -> torch.Tensor:
        """tanh of the Gaussian's mean, rescaled to the bounds."""
        assert isinstance(actor, SquashedGaussianActor)
        return actor.greedy(obs)

    @torch.no_grad()
    def act(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        """An action for ``obs``, float32: sampled from pi(.|s) with ``explore``, otherwise
        tanh of the Gaussian's mean, rescaled to the bounds (the per-dimension median of the
        policy's actions). Shapes as for :meth:`.DDPGAgent.act`."""
        obs_t = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
        batch = obs_t.unsqueeze(0) if obs_t.ndim == 1 else obs_t
        if explore:
            action, _ = self.actor(batch, self.generator)
        else:
            action = self.actor.greedy(batch)
        action = action.cpu().numpy()
        return action[0] if obs_t.ndim == 1 else action

    def _smaller(self, q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
        """min(Q1, Q2), or Q1 alone without ``clipped_double_q``."""
        return torch.minimum(q1, q2) if self.config.clipped_double_q else q1

    @torch.no_grad()
    def estimate_value(self, obs: np.ndarray) -> np.ndarray:
        """min_i Q_i(s, a) (Q1 without ``clipped_double_q``) at the greedy action:
        (N, obs_dim) -> (N,). These are soft values:
        they include the entropy bonuses the policy expects to collect, which the obtained
        return does not."""
        obs_t = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
        return self._smaller(*self.critic(obs_t, self.actor.greedy(obs_t))).squeeze(1).cpu().numpy()

    def update(self, batch: Batch) -> SACMetrics:
        """One SAC step on ``batch``: both critics, the actor, the temperature, the targets."""
        cfg = self.config
        alpha = self.log_alpha.detach().exp()

        # Critics: regress both on the soft TD target
        # y = r + gamma (1 - d) (min_i Q'_i(s', a') - alpha log pi(a'|s')), a' ~ pi(.|s').
        with torch.no_grad():
            next_action, next_log_prob = self.actor(batch.next_obs, self.generator)
            next_q = self._smaller(*self.critic_target(batch.next_obs, next_action))
            soft_next_q = next_q - alpha * next_log_prob
            td_target = batch.reward + cfg.gamma * (1.0 - batch.terminated) * soft_next_q
        q1, q2 = self.critic(batch.obs, batch.action)
        critic_loss = F.mse_loss(q1, td_target) + F.mse_loss(q2, td_target)
        self.critic_optimizer.zero_grad(set_to_none=True)
        (critic_loss + weight_penalty(self.critic, cfg.critic_weight_decay)).backward()
        self.critic_optimizer.step()

        # Actor: minimise alpha log pi(a|s) - min_i Q_i(s, a) with a = f(eps; s) drawn by the
        # reparameterisation trick, so the gradient flows through the sampled action.
        action, log_prob = self.actor(batch.obs, self.generator)
        actor_loss = (alpha * log_prob - self._smaller(*self.critic(batch.obs, action))).mean()
        self.actor_optimizer.zero_grad(set_to_none=True)
        actor_loss.backward(inputs=self._actor_params)
        self.actor_optimizer.step()

        # Temperature: minimise -log_alpha (log pi(a|s) + target entropy). Alpha falls while the
        # policy's entropy -log pi is above the target and rises while it is below.
        if cfg.learn_alpha:
            alpha_loss = -(self.log_alpha * (log_prob.detach() + self.target_entropy)).mean()
            self.alpha_optimizer.zero_grad(set_to_none=True)
            alpha_loss.backward()
            self.alpha_optimizer.step()

        soft_update(self._target_params, self._critic_params, cfg.tau)
        return SACMetrics(
            critic_loss.detach(),
            actor_loss.detach(),
            q1.detach().mean(),
            alpha,
            -log_prob.detach().mean(),
        )

    def state_dict(self) -> dict:
        """Networks, optimisers, the generator, and the temperature."""
        return {**super().state_dict(), "log_alpha": self.log_alpha.detach().clone()}

    def load_state_dict(self, state: dict) -> None:
        state = dict(state)
        with torch.no_grad():
            self.log_alpha.copy_(state.pop("log_alpha"))
        super().load_state_dict(state)
