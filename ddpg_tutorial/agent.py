"""The DDPG agent: acting with exploration noise, and the update step."""

from __future__ import annotations

import copy
from typing import ClassVar, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ddpg_tutorial.base import Agent, Metrics, adam, soft_update, weight_penalty
from ddpg_tutorial.buffer import Batch
from ddpg_tutorial.config import DDPGConfig
from ddpg_tutorial.networks import Actor, Critic, frozen_statistics, running_statistics
from ddpg_tutorial.noise import GaussianNoise, OrnsteinUhlenbeckNoise


class UpdateMetrics(NamedTuple):
    """What one call of :meth:`DDPGAgent.update` measured, each a 0-dim tensor on the agent's
    device: reading one (``float(m.critic_loss)``) waits for the device, so the training loop
    sums them on the device and reads the sums once per episode."""

    critic_loss: torch.Tensor  #: mean squared TD error, before the critic's step
    actor_loss: torch.Tensor  #: -mean Q(s, mu(s)), after the critic's step, before the actor's
    mean_q: torch.Tensor  #: mean Q(s, a) over the batch, before the critic's step


def make_noise(config: DDPGConfig, act_dim: int, seed: int | None) -> GaussianNoise:
    """The exploration noise process that ``config.noise`` names."""
    if config.noise == "ou":
        return OrnsteinUhlenbeckNoise(
            act_dim,
            sigma=config.noise_sigma,
            theta=config.ou_theta,
            dt=config.ou_dt,
            seed=seed,
            sigma_final=config.noise_sigma_final,
            anneal_steps=config.noise_anneal_steps,
        )
    return GaussianNoise(
        act_dim,
        config.noise_sigma,
        seed=seed,
        sigma_final=config.noise_sigma_final,
        anneal_steps=config.noise_anneal_steps,
    )


class DDPGAgent(Agent):
    """Actor, critic, their target copies and optimisers, and the exploration noise.

    Observations are float arrays of shape (obs_dim,); actions of shape
    (act_dim,) within ``[action_low, action_high]``. ``seed`` picks the agent's own random
    streams (:func:`.stream_seeds`): a ``torch.Generator`` on the agent's device, which
    initialises the networks (and draws any noise an update needs), and the exploration
    noise's NumPy generator. No global generator is touched.
    """

    algorithm = "ddpg"
    critic_class: ClassVar[type[nn.Module]] = Critic
    saved = (
        "actor",
        "critic",
        "actor_target",
        "critic_target",
        "actor_optimizer",
        "critic_optimizer",
        "noise",
    )

    def __init__(
        self,
        obs_dim: int,
        action_low: np.ndarray,
        action_high: np.ndarray,
        config: DDPGConfig,
        seed: int = 0,
        device: str = "cpu",
    ) -> None:
        super().__init__(obs_dim, action_low, action_high, config, seed, device)
        self.config: DDPGConfig = config
        self.actor = self.make_actor(
            obs_dim, self.action_low, self.action_high, config, self.generator
        )
        self.critic = self.critic_class(
            obs_dim,
            self.act_dim,
            config.critic_hidden,
            self.generator,
            config.batch_norm,
            config.critic_action_layer,
            config.final_layer_bound,
        ).eval()
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.actor_optimizer = adam(self.actor, config.actor_lr)
        self.critic_optimizer = adam(self.critic, config.critic_lr)
        self.noise = make_noise(config, self.act_dim, self.seeds["noise"])
        # Parameter lists, gathered once: the update runs thousands of times. The targets also
        # average batch normalisation's running statistics, when there are any.
        self._actor_params = list(self.actor.parameters())
        self._online_params = [
            *self._actor_params,
            *self.critic.parameters(),
            *running_statistics(self.actor),
            *running_statistics(self.critic),
        ]
        self._target_params = [
            *self.actor_target.parameters(),
            *self.critic_target.parameters(),
            *running_statistics(self.actor_target),
            *running_statistics(self.critic_target),
        ]
        self._noise_scale = (self.action_high - self.action_low) / 2

    @classmethod
    def make_actor(
        cls,
        obs_dim: int,
        action_low: np.ndarray,
        action_high: np.ndarray,
        config: DDPGConfig,
        generator: torch.Generator,
    ) -> Actor:
        """The deterministic actor of ``config``, in evaluation mode (batch normalisation, if
        any, then uses its running statistics)."""
        return Actor(
            obs_dim,
            action_low,
            action_high,
            config.actor_hidden,
            generator,
            config.batch_norm,
            config.final_layer_bound,
        ).eval()

    @staticmethod
    def greedy(actor: nn.Module, obs: torch.Tensor) -> torch.Tensor:
        """The actor's action: mu(s)."""
        return actor(obs)

    @torch.no_grad()
    def act(self, obs: np.ndarray, explore: bool = False) -> np.ndarray:
        """The actor's action for ``obs``, float32; with ``explore`` add noise and clip to the
        bounds.

        ``obs`` has shape (obs_dim,) or (N, obs_dim); the action has shape
        (act_dim,) or (N, act_dim) to match, with an independent noise draw for each row.
        """
        obs_t = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
        action = self.actor(obs_t).cpu().numpy()
        if explore:
            noise = self.noise.sample(None if action.ndim == 1 else len(action))
            action = action + (self._noise_scale * noise).astype(np.float32)
            action = np.clip(action, self.action_low, self.action_high)
        return action

    @torch.no_grad()
    def estimate_value(self, obs: np.ndarray) -> np.ndarray:
        """The critic's estimate Q(s, mu(s)) of each state's value under the greedy policy:
        (N, obs_dim) -> (N,). Set against the discounted return the policy then obtains, it
        measures over- or underestimation."""
        obs_t = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
        return self.critic(obs_t, self.actor(obs_t)).squeeze(1).cpu().numpy()

    def normalise_by_batch(self, on: bool) -> None:
        """Batch normalisation: the online networks normalise by the batch's statistics
        inside an update (``on``), by their running statistics everywhere else. The target
        networks always use their running statistics. Without it, nothing to do."""
        if self.config.batch_norm:
            self.actor.train(on)
            self.critic.train(on)

    def update(self, batch: Batch) -> Metrics:
        """One DDPG step on ``batch``: critic, then actor, then both targets."""
        gamma, tau = self.config.gamma, self.config.tau
        self.normalise_by_batch(True)

        # Critic: regress Q(s, a) on the TD target y = r + gamma (1 - terminated) Q'(s', mu'(s')).
        with torch.no_grad():
            next_q = self.critic_target(batch.next_obs, self.actor_target(batch.next_obs))
            td_target = batch.reward + gamma * (1.0 - batch.terminated) * next_q
        q = self.critic(batch.obs, batch.action)
        critic_loss = F.mse_loss(q, td_target)
        self.critic_optimizer.zero_grad(set_to_none=True)
        (critic_loss + weight_penalty(self.critic, self.config.critic_weight_decay)).backward()
        self.critic_optimizer.step()

        # Actor: ascend Q(s, mu(s)). Backward computes gradients for the actor's weights only;
        # the critic's weights get none (nor do its batch-norm statistics move a second time).
        with frozen_statistics(self.critic):
            actor_loss = -self.critic(batch.obs, self.actor(batch.obs)).mean()
        self.actor_optimizer.zero_grad(set_to_none=True)
        actor_loss.backward(inputs=self._actor_params)
        self.actor_optimizer.step()

        soft_update(self._target_params, self._online_params, tau)
        self.normalise_by_batch(False)
        return UpdateMetrics(critic_loss.detach(), actor_loss.detach(), q.detach().mean())

    def start_episode(self) -> None:
        """Called at every episode start: the noise process starts again at its mean."""
        self.noise.reset()
