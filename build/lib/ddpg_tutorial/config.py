"""Hyperparameters of a DDPG run, with named presets and validation."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

from ddpg_tutorial.errors import DDPGError

NoiseKind = Literal["ou", "gaussian"]


def _field(default: Any, doc: str) -> Any:
    """A config field with its one-line description (:func:`describe` shows it)."""
    return dataclasses.field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class DDPGConfig:
    """Every number that shapes a DDPG run.

    Exploration noise is expressed in units of the action half-range
    ``(high - low) / 2``, so the same ``noise_sigma`` means the same thing for
    any action bounds. After ``warmup_steps`` of random actions, the agent makes
    one update on a batch of ``batch_size`` transitions every ``update_every``
    environment steps.
    """

    actor_hidden: tuple[int, ...] = _field((400, 300), "sizes of the actor's hidden layers")
    critic_hidden: tuple[int, ...] = _field(
        (400, 300), "sizes of the critic's hidden layers; the action joins at the second")
    actor_lr: float = _field(1e-4, "Adam learning rate of the actor")
    critic_lr: float = _field(1e-3, "Adam learning rate of the critic")
    critic_weight_decay: float = _field(1e-2, "L2 weight decay of the critic's Adam")
    gamma: float = _field(0.99, "discount factor of future rewards")
    tau: float = _field(1e-3, "target networks move this fraction towards the online ones "
                              "per update")
    batch_size: int = _field(64, "transitions per update, sampled uniformly from the buffer")
    buffer_size: int = _field(1_000_000, "replay buffer capacity; the oldest are overwritten")
    noise: NoiseKind = _field("ou", "exploration noise: 'ou' (Ornstein-Uhlenbeck) or "
                                    "'gaussian'")
    noise_sigma: float = _field(0.2, "noise scale, in units of the action half-range")
    noise_sigma_final: float | None = _field(
        None, "noise scale after annealing (None: no annealing)")
    noise_anneal_steps: int = _field(0, "steps over which noise_sigma moves linearly to "
                                        "noise_sigma_final")
    ou_theta: float = _field(0.15, "Ornstein-Uhlenbeck mean-reversion rate")
    ou_dt: float = _field(1.0, "Ornstein-Uhlenbeck time step of one environment step")
    warmup_steps: int = _field(1_000, "steps of uniformly random actions before learning")
    update_every: int = _field(1, "one update every this many environment steps")
    total_steps: int = _field(60_000, "environment steps of the whole run")
    eval_every: int = _field(1_000, "environment steps between greedy evaluations")
    eval_episodes: int = _field(10, "episodes per greedy evaluation, with fixed seeds")

    def __post_init__(self) -> None:
        # Lists (from JSON) become tuples so that configs compare and hash.
        for name in ("actor_hidden", "critic_hidden"):
            sizes = getattr(self, name)
            try:
                object.__setattr__(self, name, tuple(int(n) for n in sizes))
            except (TypeError, ValueError):
                raise DDPGError(f"config field '{name}' must be a list of layer sizes such as "
                                f"[400, 300], got {sizes!r}") from None
        validate(self)

    def replace(self, **changes: Any) -> DDPGConfig:
        """A copy with some fields changed (validated like any config)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise DDPGError(
                f"unknown config field(s) {sorted(unknown)}; "
                f"valid fields are {[f.name for f in dataclasses.fields(self)]}"
            )
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly dictionary (tuples become lists)."""
        data = dataclasses.asdict(self)
        data["actor_hidden"] = list(self.actor_hidden)
        data["critic_hidden"] = list(self.critic_hidden)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DDPGConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        return cls().replace(**data)


def _check(ok: bool, name: str, allowed: str, value: Any) -> None:
    if not ok:
        raise DDPGError(f"config field '{name}' must be {allowed}, got {value!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate(config: DDPGConfig) -> None:
    """Raise :class:`.DDPGError` naming the first field outside its allowed range."""
    c = config
    for name in ("actor_lr", "critic_lr", "critic_weight_decay", "gamma", "tau", "noise_sigma",
                 "ou_theta", "ou_dt"):
        _check(_is_number(getattr(c, name)), name, "a finite number", getattr(c, name))
    _check(c.noise_sigma_final is None or _is_number(c.noise_sigma_final), "noise_sigma_final",
           "None or a finite number", c.noise_sigma_final)
    for name in ("actor_hidden", "critic_hidden"):
        sizes = getattr(c, name)
        _check(len(sizes) >= 2 and all(n > 0 for n in sizes), name,
               "at least two positive layer sizes", list(sizes))
    for name in ("actor_lr", "critic_lr", "noise_sigma", "ou_theta", "ou_dt"):
        value = getattr(c, name)
        _check(value > 0, name, "> 0", value)
    _check(c.critic_weight_decay >= 0, "critic_weight_decay", ">= 0", c.critic_weight_decay)
    _check(0 <= c.gamma <= 1, "gamma", "in [0, 1]", c.gamma)
    _check(0 < c.tau <= 1, "tau", "in (0, 1]", c.tau)
    for name in ("batch_size", "buffer_size", "update_every", "total_steps",
                 "eval_every", "eval_episodes"):
        value = getattr(c, name)
        _check(_is_int(value) and value > 0, name, "a positive integer", value)
    _check(_is_int(c.warmup_steps) and c.warmup_steps >= 0, "warmup_steps",
           "an integer >= 0", c.warmup_steps)
    _check(_is_int(c.noise_anneal_steps) and c.noise_anneal_steps >= 0,
           "noise_anneal_steps", "an integer >= 0", c.noise_anneal_steps)
    _check(c.noise in ("ou", "gaussian"), "noise", "'ou' or 'gaussian'", c.noise)
    _check(c.noise_sigma_final is None or c.noise_sigma_final >= 0, "noise_sigma_final",
           "None or >= 0", c.noise_sigma_final)
    _check(c.batch_size <= c.buffer_size, "batch_size", f"<= buffer_size ({c.buffer_size})",
           c.batch_size)
    _check(c.warmup_steps < c.total_steps, "warmup_steps",
           f"smaller than total_steps ({c.total_steps}); raise --steps or lower the warm-up",
           c.warmup_steps)


PRESETS: dict[str, DDPGConfig] = {
    # Lillicrap et al. (2015), Section 7: every number as published.
    "paper": DDPGConfig(),
    # Tuned for Pendulum-v1 on a laptop CPU (see the benchmark for the measurements).
    "fast": DDPGConfig(
        actor_hidden=(160, 160),
        critic_hidden=(160, 160),
        actor_lr=1e-3,
        critic_lr=2e-3,
        critic_weight_decay=0.0,
        gamma=0.98,
        tau=1e-2,
        batch_size=256,
        update_every=2,
        buffer_size=200_000,
        noise="gaussian",
        noise_sigma=0.1,
        warmup_steps=1_000,
        total_steps=10_000,
    ),
}


def describe(name: str) -> str:
    """The one-line description of the config field ``name``."""
    return next(f.metadata["doc"] for f in dataclasses.fields(DDPGConfig) if f.name == name)


def get_preset(name: str) -> DDPGConfig:
    """The preset called ``name``, or a :class:`.DDPGError` listing the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise DDPGError(f"unknown preset '{name}'; choose one of {sorted(PRESETS)}") from None
