"""TD3 (Fujimoto, van Hoof and Meger 2018): DDPG with three changes to its update.

Everything but the update is DDPG's (:class:`.DDPGAgent`): the actor, acting with noise,
checkpoints. The critic is a pair of critics, and the update makes the changes:

1. **Clipped double Q-learning**: the TD target takes the smaller of two target critics
   (``clipped_double_q=False`` takes the first alone, as DDPG would, for ablations).
2. **Target policy smoothing**: the target action gets clipped Gaussian noise.
3. **Delayed policy updates**: the actor and all targets move once every ``policy_delay``
   critic updates.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from ddpg_tutorial.agent import DDPGAgent
from ddpg_tutorial.base import soft_update, weight_penalty
from ddpg_tutorial.buffer import Batch
from ddpg_tutorial.config import TD3Config
from ddpg_tutorial.networks import TwinCritic, frozen_statistics


class TD3Metrics(NamedTuple):
    """What one call of :meth:`TD3Agent.update` measured, 0-dim tensors on the agent's device."""

    critic_loss: torch.Tensor  #: sum of both critics' mean squared TD errors
    actor_loss: torch.Tensor | None  #: -mean Q1(s, mu(s)); None on updates without an actor step
    mean_q: torch.Tensor  #: mean Q1(s, a) over the batch, before the critics' step


class TD3Agent(DDPGAgent):
    """DDPG's agent with a :class:`.TwinCritic` and TD3's update."""

    algorithm = "td3"
    critic_class = TwinCritic
    config: TD3Config
    critic: TwinCritic

    def __init__(
        self,
        obs_dim: int,
        action_low: np.ndarray,
        action_high: np.ndarray,
        config: TD3Config,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(obs_dim, action_low, action_high, config, seed, device)
        self.updates = 0  # critic updates so far: every policy_delay-th also moves the actor
        self._low = torch.as_tensor(self.action_low, device=self.device)
        self._high = torch.as_tensor(self.action_high, device=self.device)
        self._half_range = (self._high - self._low) / 2

    @torch.no_grad()
    def estimate_value(self, obs: np.ndarray) -> np.ndarray:
        """Q1(s, mu(s)), the estimate the actor climbs: (N, obs_dim) -> (N,)."""
        obs_t = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
        return self.critic.q1(obs_t, self.actor(obs_t)).squeeze(1).cpu().numpy()

    def update(self, batch: Batch) -> TD3Metrics:
        """One TD3 step on ``batch``: both critics; every ``policy_delay``-th call also the
        actor, then all targets."""
        cfg = self.config
        self.normalise_by_batch(True)

        # Critics: regress both Q1 and Q2 on one target, the smaller of the two target critics
        # at a smoothed target action a' = clip(mu'(s') + half_range * clip(sigma eps, -c, c),
        # low, high), eps ~ N(0, I), sigma = target_noise and c = target_noise_clip.
        with torch.no_grad():
            eps = torch.randn(batch.action.shape, generator=self.generator, device=self.device)
            smoothing = (cfg.target_noise * eps).clamp(
                -cfg.target_noise_clip, cfg.target_noise_clip
            )
            next_action = self.actor_target(batch.next_obs) + self._half_range * smoothing
            next_action = next_action.clamp(self._low, self._high)
            next_q1, next_q2 = self.critic_target(batch.next_obs, next_action)
            next_q = torch.minimum(next_q1, next_q2) if cfg.clipped_double_q else next_q1
            td_target = batch.reward + cfg.gamma * (1.0 - batch.terminated) * next_q
        q1, q2 = self.critic(batch.obs, batch.action)
        critic_loss = F.mse_loss(q1, td_target) + F.mse_loss(q2, td_target)
        self.critic_optimizer.zero_grad(set_to_none=True)
        (critic_loss + weight_penalty(self.critic, cfg.critic_weight_decay)).backward()
        self.critic_optimizer.step()
        self.updates += 1

        # Actor and targets, delayed: ascend Q1(s, mu(s)) once every policy_delay updates.
        actor_loss = None
        if self.updates % cfg.policy_delay == 0:
            with frozen_statistics(self.critic):
                actor_loss = -self.critic.q1(batch.obs, self.actor(batch.obs)).mean()
            self.actor_optimizer.zero_grad(set_to_none=True)
            actor_loss.backward(inputs=self._actor_params)
            self.actor_optimizer.step()
            soft_update(self._target_params, self._online_params, cfg.tau)
            actor_loss = actor_loss.detach()
        self.normalise_by_batch(False)
        return TD3Metrics(critic_loss.detach(), actor_loss, q1.detach().mean())

    def state_dict(self) -> dict:
        """:meth:`.Agent.state_dict` and the count of updates (it times the delay)."""
        return {**super().state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        state = dict(state)
        self.updates = state.pop("updates", 0)
        super().load_state_dict(state)
