"""Exploration noise added to the actor's action while training."""

from __future__ import annotations

import numpy as np

from ddpg_tutorial.errors import DDPGError


class GaussianNoise:
    """Independent draws from N(0, sigma^2) each step.

    ``sample()`` gives shape (act_dim,), ``sample(n)`` shape (n, act_dim): one independent
    draw per row of a batch. ``sigma`` may be annealed linearly to ``sigma_final`` over
    ``anneal_steps`` calls of :meth:`sample`.
    """

    def __init__(
        self,
        act_dim: int,
        sigma: float,
        seed: int | None = None,
        sigma_final: float | None = None,
        anneal_steps: int = 0,
    ) -> None:
        self.act_dim = act_dim
        self.sigma_start = sigma
        self.sigma_final = sigma if sigma_final is None else sigma_final
        self.anneal_steps = anneal_steps
        self.steps = 0
        self.rng = np.random.default_rng(seed)

    @property
    def sigma(self) -> float:
        """The current standard deviation (after annealing so far)."""
        if self.anneal_steps == 0:
            return self.sigma_start
        frac = min(self.steps / self.anneal_steps, 1.0)
        return self.sigma_start + frac * (self.sigma_final - self.sigma_start)

    def shape(self, n: int | None) -> tuple[int, ...]:
        """(act_dim,) for one action, (n, act_dim) for a batch of ``n``."""
        return (self.act_dim,) if n is None else (n, self.act_dim)

    def reset(self, n: int | None = None) -> None:
        """Start of an episode (of ``n`` side by side): nothing to forget for independent
        noise."""

    def sample(self, n: int | None = None) -> np.ndarray:
        """One noise vector, shape (act_dim,), or one per row of a batch, (n, act_dim)."""
        draw = self.sigma * self.rng.standard_normal(self.shape(n))
        self.steps += 1
        return draw

    def state_dict(self) -> dict:
        return {"steps": self.steps, "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.steps = state["steps"]
        self.rng.bit_generator.state = state["rng"]


class OrnsteinUhlenbeckNoise(GaussianNoise):
    """Temporally correlated noise, the Euler discretisation of
    dx = theta (mu - x) dt + sigma dW.

    Each call returns ``x <- x + theta (mu - x) dt + sigma sqrt(dt) eps`` with
    eps ~ N(0, I), shape (act_dim,). ``reset()`` puts ``x`` back at ``mu``; ``reset(n)``
    starts ``n`` independent processes side by side, for ``sample(n)`` of shape (n, act_dim).
    The stationary standard deviation is sigma / sqrt(2 theta) in continuous time
    (small dt); for this recursion it is exactly sigma sqrt(dt) / sqrt(1 - (1 - theta dt)^2),
    which is sigma / sqrt(theta (2 - theta)) at dt = 1.
    """

    def __init__(
        self,
        act_dim: int,
        sigma: float = 0.2,
        theta: float = 0.15,
        mu: float = 0.0,
        dt: float = 1.0,
        seed: int | None = None,
        sigma_final: float | None = None,
        anneal_steps: int = 0,
    ) -> None:
        super().__init__(act_dim, sigma, seed, sigma_final, anneal_steps)
        self.theta = theta
        self.mu = mu
        self.dt = dt
        self.reset()

    def reset(self, n: int | None = None) -> None:
        self.x = np.full(self.shape(n), self.mu, dtype=np.float64)

    def sample(self, n: int | None = None) -> np.ndarray:
        shape = self.shape(n)
        if self.x.shape != shape:
            call = "reset()" if n is None else f"reset({n})"
            raise DDPGError(
                f"this Ornstein-Uhlenbeck noise runs processes of shape "
                f"{self.x.shape}, asked for {shape}; call {call} first"
            )
        eps = self.rng.standard_normal(shape)
        self.x = (
            self.x + self.theta * (self.mu - self.x) * self.dt + self.sigma * np.sqrt(self.dt) * eps
        )
        self.steps += 1
        return self.x.copy()

    def state_dict(self) -> dict:
        return {**super().state_dict(), "x": self.x.tolist()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.x = np.asarray(state["x"], dtype=np.float64)
