"""Hyperparameters of DDPG, TD3 and SAC runs, with named presets and validation.

:class:`Config` holds what every algorithm shares (networks, optimisers, the replay buffer,
the schedule of a run); :class:`DDPGConfig`, :class:`TD3Config` and :class:`SACConfig` add
their own fields. Every field has a one-line description (:func:`describe`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, get_args

from ddpg_tutorial.errors import DDPGError

NoiseKind = Literal["ou", "gaussian"]
#: The values of the fields that take a name (``noise``), which ``--set`` matches in any case.
CHOICES = get_args(NoiseKind)
#: What ``--set`` reads as None, True and False besides JSON's null, true and false.
SPELLINGS = {"none": None, "null": None, "true": True, "false": False}


#: Fields added in version 0.3, with the values every run of earlier versions used.
ADDED_FIELDS = {"critic_action_layer": 2, "final_layer_bound": 3e-3}


def _field(default: Any, doc: str) -> Any:
    """A config field with its one-line description (:func:`describe` shows it)."""
    return dataclasses.field(default=default, metadata={"doc": doc})


def _check(ok: bool, name: str, allowed: str, value: Any) -> None:
    if not ok:
        raise DDPGError(f"config field '{name}' must be {allowed}, got {value!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Config:
    """The fields every algorithm shares. After ``warmup_steps`` of random actions, the agent
    makes one update on a batch of ``batch_size`` transitions every ``update_every``
    environment steps. The defaults are the numbers of Lillicrap et al. (2015)."""

    algorithm: ClassVar[str] = ""

    actor_hidden: tuple[int, ...] = _field((400, 300), "sizes of the actor's hidden layers")
    critic_hidden: tuple[int, ...] = _field((400, 300), "sizes of the critic's hidden layers")
    critic_action_layer: int = _field(
        2,
        "the critic's layer the action enters: 1 (with the state) or 2 (beside the first "
        "layer's features, the DDPG paper's design)",
    )
    final_layer_bound: float | None = _field(
        3e-3,
        "the last layers of the critics and of a deterministic actor start in U(-b, b) "
        "(None: the fan-in bound of the layers before, PyTorch's default)",
    )
    actor_lr: float = _field(1e-4, "Adam learning rate of the actor")
    critic_lr: float = _field(1e-3, "Adam learning rate of the critic")
    critic_weight_decay: float = _field(
        1e-2, "L2 penalty on the critic's weight matrices (not biases), added to its loss"
    )
    gamma: float = _field(0.99, "discount factor of future rewards")
    tau: float = _field(
        1e-3, "target networks move this fraction towards the online ones per update"
    )
    batch_size: int = _field(64, "transitions per update, sampled uniformly from the buffer")
    buffer_size: int = _field(1_000_000, "replay buffer capacity; the oldest are overwritten")
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
                raise DDPGError(
                    f"config field '{name}' must be a list of layer sizes such as "
                    f"[400, 300], got {sizes!r}"
                ) from None
        self.validate()

    def validate(self) -> None:
        """Raise :class:`.DDPGError` naming the first field outside its allowed range."""
        for name in ("actor_lr", "critic_lr", "critic_weight_decay", "gamma", "tau"):
            _check(_is_number(getattr(self, name)), name, "a finite number", getattr(self, name))
        for name in ("actor_hidden", "critic_hidden"):
            sizes = getattr(self, name)
            _check(
                len(sizes) >= 2 and all(n > 0 for n in sizes),
                name,
                "at least two positive layer sizes",
                list(sizes),
            )
        for name in ("actor_lr", "critic_lr"):
            _check(getattr(self, name) > 0, name, "> 0", getattr(self, name))
        _check(
            self.critic_weight_decay >= 0, "critic_weight_decay", ">= 0", self.critic_weight_decay
        )
        _check(
            self.critic_action_layer in (1, 2) and _is_int(self.critic_action_layer),
            "critic_action_layer",
            "1 or 2",
            self.critic_action_layer,
        )
        bound = self.final_layer_bound
        _check(
            bound is None or (_is_number(bound) and bound > 0),
            "final_layer_bound",
            "None or a finite number > 0",
            bound,
        )
        _check(0 <= self.gamma <= 1, "gamma", "in [0, 1]", self.gamma)
        _check(0 < self.tau <= 1, "tau", "in (0, 1]", self.tau)
        for name in (
            "batch_size",
            "buffer_size",
            "update_every",
            "total_steps",
            "eval_every",
            "eval_episodes",
        ):
            value = getattr(self, name)
            _check(_is_int(value) and value > 0, name, "a positive integer", value)
        _check(
            _is_int(self.warmup_steps) and self.warmup_steps >= 0,
            "warmup_steps",
            "an integer >= 0",
            self.warmup_steps,
        )
        _check(
            self.batch_size <= self.buffer_size,
            "batch_size",
            f"<= buffer_size ({self.buffer_size})",
            self.batch_size,
        )
        _check(
            self.warmup_steps < self.total_steps,
            "warmup_steps",
            f"smaller than total_steps ({self.total_steps}); raise --steps or lower the warm-up",
            self.warmup_steps,
        )

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed (validated like any config)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise DDPGError(
                f"unknown config field(s) {sorted(unknown)} for {self.algorithm}; "
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
    def from_dict(cls, data: dict[str, Any]) -> Config:
        """Inverse of :meth:`to_dict`; unknown keys are an error. A field that ``data`` lacks
        because it was saved before the field existed takes the value that version used."""
        return cls().replace(**{**ADDED_FIELDS, **data})


@dataclass(frozen=True)
class DDPGConfig(Config):
    """Every number that shapes a DDPG run.

    Exploration noise is expressed in units of the action half-range
    ``(high - low) / 2``, so the same ``noise_sigma`` means the same thing for
    any action bounds.
    """

    algorithm: ClassVar[str] = "ddpg"

    noise: NoiseKind = _field("ou", "exploration noise: 'ou' (Ornstein-Uhlenbeck) or 'gaussian'")
    noise_sigma: float = _field(0.2, "noise scale, in units of the action half-range")
    noise_sigma_final: float | None = _field(
        None, "noise scale after annealing (None: no annealing)"
    )
    noise_anneal_steps: int = _field(
        0, "steps over which noise_sigma moves linearly to noise_sigma_final"
    )
    ou_theta: float = _field(0.15, "Ornstein-Uhlenbeck mean-reversion rate")
    ou_dt: float = _field(1.0, "Ornstein-Uhlenbeck time step of one environment step")
    batch_norm: bool = _field(
        False,
        "batch-normalise the state input, the actor's hidden "
        "layers and the critic's first layer (the paper's "
        "placement)",
    )

    def validate(self) -> None:
        super().validate()
        _check(isinstance(self.batch_norm, bool), "batch_norm", "true or false", self.batch_norm)
        if self.batch_norm:
            _check(
                self.critic_action_layer == 2,
                "critic_action_layer",
                "2 with batch_norm (the paper normalises the layers before the action joins)",
                self.critic_action_layer,
            )
            _check(
                self.batch_size >= 2,
                "batch_size",
                ">= 2 with batch_norm (a batch of one has no variance to normalise by)",
                self.batch_size,
            )
        for name in ("noise_sigma", "ou_theta", "ou_dt"):
            value = getattr(self, name)
            _check(_is_number(value), name, "a finite number", value)
            _check(value > 0, name, "> 0", value)
        _check(
            self.noise_sigma_final is None or _is_number(self.noise_sigma_final),
            "noise_sigma_final",
            "None or a finite number",
            self.noise_sigma_final,
        )
        _check(
            self.noise_sigma_final is None or self.noise_sigma_final >= 0,
            "noise_sigma_final",
            "None or >= 0",
            self.noise_sigma_final,
        )
        _check(
            _is_int(self.noise_anneal_steps) and self.noise_anneal_steps >= 0,
            "noise_anneal_steps",
            "an integer >= 0",
            self.noise_anneal_steps,
        )
        _check(self.noise in ("ou", "gaussian"), "noise", "'ou' or 'gaussian'", self.noise)
        annealed = self.noise_sigma_final is not None
        _check(
            annealed == (self.noise_anneal_steps > 0),
            "noise_anneal_steps",
            "> 0 with noise_sigma_final and 0 without it (set both, or neither)",
            self.noise_anneal_steps,
        )


@dataclass(frozen=True)
class TD3Config(DDPGConfig):
    """A TD3 run (Fujimoto et al. 2018): DDPG's fields, with the TD3 paper's values as
    defaults, and the three changes of TD3. Target-policy noise is in units of the action
    half-range, like the exploration noise."""

    algorithm: ClassVar[str] = "td3"

    critic_action_layer: int = _field(
        1,
        "the critics' layer the action enters: 1 (with the state, the TD3 paper's design) "
        "or 2 (beside the first layer's features)",
    )
    final_layer_bound: float | None = _field(
        None,
        "the last layers of the actor and critics start in U(-b, b) (None: the fan-in "
        "bound of the layers before, PyTorch's default and the TD3 paper's)",
    )
    actor_lr: float = _field(1e-3, "Adam learning rate of the actor")
    critic_weight_decay: float = _field(
        0.0, "L2 penalty on the critics' weight matrices (not biases), added to their loss"
    )
    tau: float = _field(
        5e-3, "target networks move this fraction towards the online ones per actor update"
    )
    batch_size: int = _field(100, "transitions per update, sampled uniformly from the buffer")
    noise: NoiseKind = _field(
        "gaussian", "exploration noise: 'ou' (Ornstein-Uhlenbeck) or 'gaussian'"
    )
    noise_sigma: float = _field(0.1, "noise scale, in units of the action half-range")
    clipped_double_q: bool = _field(
        True,
        "the TD target takes the smaller of the two target "
        "critics (False: the first alone, for ablations)",
    )
    policy_delay: int = _field(2, "critic updates per actor and target update")
    target_noise: float = _field(
        0.2, "std of the noise on the target action (target policy smoothing), in half-ranges"
    )
    target_noise_clip: float = _field(
        0.5, "the target-action noise is clipped to [-clip, clip] half-ranges"
    )

    def validate(self) -> None:
        super().validate()
        _check(
            isinstance(self.clipped_double_q, bool),
            "clipped_double_q",
            "true or false",
            self.clipped_double_q,
        )
        _check(
            _is_int(self.policy_delay) and self.policy_delay > 0,
            "policy_delay",
            "a positive integer",
            self.policy_delay,
        )
        for name in ("target_noise", "target_noise_clip"):
            value = getattr(self, name)
            _check(_is_number(value) and value >= 0, name, "a finite number >= 0", value)


@dataclass(frozen=True)
class SACConfig(Config):
    """A SAC run (Haarnoja et al. 2018, with the automatically tuned temperature), with the
    values of their second paper (Soft Actor-Critic Algorithms and Applications) as
    defaults. There is no exploration noise: the policy itself is stochastic."""

    algorithm: ClassVar[str] = "sac"

    actor_hidden: tuple[int, ...] = _field((256, 256), "sizes of the actor's hidden layers")
    critic_hidden: tuple[int, ...] = _field((256, 256), "sizes of the critics' hidden layers")
    critic_action_layer: int = _field(
        1,
        "the critics' layer the action enters: 1 (with the state, the SAC paper's design) "
        "or 2 (beside the first layer's features)",
    )
    final_layer_bound: float | None = _field(
        None,
        "the critics' last layers start in U(-b, b) (None: the fan-in bound of the "
        "layers before, PyTorch's default and the SAC paper's)",
    )
    actor_lr: float = _field(3e-4, "Adam learning rate of the actor")
    critic_lr: float = _field(3e-4, "Adam learning rate of the critics")
    critic_weight_decay: float = _field(
        0.0, "L2 penalty on the critics' weight matrices (not biases), added to their loss"
    )
    tau: float = _field(
        5e-3, "target critics move this fraction towards the online ones per update"
    )
    batch_size: int = _field(256, "transitions per update, sampled uniformly from the buffer")
    alpha_lr: float = _field(3e-4, "Adam learning rate of the temperature (of log alpha)")
    initial_alpha: float = _field(1.0, "the temperature alpha at the start")
    learn_alpha: bool = _field(
        True, "tune the temperature towards target_entropy (False: keep initial_alpha fixed)"
    )
    target_entropy: float | None = _field(
        None, "entropy the temperature steers the policy to (None: -dim(A))"
    )
    clipped_double_q: bool = _field(
        True,
        "the soft TD target and the actor take the smaller of the two critics "
        "(False: the first alone, for ablations)",
    )

    def validate(self) -> None:
        super().validate()
        for name in ("alpha_lr", "initial_alpha"):
            value = getattr(self, name)
            _check(_is_number(value) and value > 0, name, "a finite number > 0", value)
        for name in ("learn_alpha", "clipped_double_q"):
            value = getattr(self, name)
            _check(isinstance(value, bool), name, "true or false", value)
        _check(
            self.target_entropy is None or _is_number(self.target_entropy),
            "target_entropy",
            "None or a finite number",
            self.target_entropy,
        )


# The fast presets: Pendulum-v1 in 10,000 steps on a laptop CPU. DDPG's and TD3's are the best
# configurations ``ddpg-tutorial tune`` found (20 trials each, tuning seeds 1000-1002), rounded
# to two significant digits; on the seeds 100-109 they reached -200 in fewer steps than the
# hand-made presets of version 0.2 (benchmarks/README.md). SAC's tuned configuration did not
# beat its hand-made preset there, so that one stays. DDPG's batch size is 64, not the tuned
# 256: tuned for training seconds (seeds 1000-1002) and chosen on the seeds 300-309, it reached
# -200 sooner on 8 of 10 seeds, at about 500 more steps ("Presets tuned for seconds").
_SHORT: dict[str, Any] = dict(
    critic_weight_decay=0.0, buffer_size=200_000, warmup_steps=1_000, total_steps=10_000
)
_DDPG_NETWORKS: dict[str, Any] = dict(critic_action_layer=2, final_layer_bound=3e-3)

PRESETS: dict[str, DDPGConfig] = {
    # Lillicrap et al. (2015), Section 7: their numbers and their batch normalisation; warm-up,
    # run length, the OU time step and noise in half-range units are this library's choices.
    "paper": DDPGConfig(batch_norm=True),
    "fast": DDPGConfig(
        **_SHORT,
        actor_hidden=(128, 128),
        critic_hidden=(128, 128),
        actor_lr=2.4e-4,
        critic_lr=2.7e-3,
        gamma=0.99,
        tau=0.015,
        batch_size=64,
        update_every=1,
        noise="ou",
        noise_sigma=0.16,
    ),
}

TD3_PRESETS: dict[str, TD3Config] = {
    # Fujimoto et al. (2018), Section 6.1 and Appendix C: 400-300 networks, Adam 1e-3, batch
    # 100, tau 0.005, policy delay 2, target noise 0.2 clipped at 0.5, exploration N(0, 0.1).
    # The critics take the action at their input and every layer starts in PyTorch's default
    # range, as in the paper's code; its random warm-up was 10,000 steps on HalfCheetah and
    # Ant (--set warmup_steps=10000 there), 1,000 elsewhere.
    "paper": TD3Config(),
    # The tuning could not switch off clipped double Q-learning or target smoothing (neither
    # was searched: target_noise in [0.05, 0.3]); it chose no policy delay. Its networks are
    # DDPG's design: the action at the critics' second layer, last layers small.
    "fast": TD3Config(
        **_SHORT,
        **_DDPG_NETWORKS,
        actor_hidden=(256, 256),
        critic_hidden=(256, 256),
        actor_lr=4.9e-4,
        critic_lr=2.1e-3,
        gamma=0.97,
        tau=0.023,
        batch_size=128,
        update_every=1,
        noise="ou",
        noise_sigma=0.45,
        policy_delay=1,
        target_noise=0.23,
    ),
}

SAC_PRESETS: dict[str, SACConfig] = {
    # Haarnoja et al. (2018b), Table 1: 256-256 networks, Adam 3e-4, batch 256, tau 0.005,
    # target entropy -dim(A), one gradient step per environment step; the critics take the
    # action at their input and every layer starts in PyTorch's default range.
    "paper": SACConfig(gamma=0.99),
    # The critics of DDPG's design: the action at their second layer, last layers small.
    "fast": SACConfig(
        **_SHORT,
        **_DDPG_NETWORKS,
        actor_hidden=(160, 160),
        critic_hidden=(160, 160),
        actor_lr=1e-3,
        critic_lr=1e-3,
        alpha_lr=1e-3,
        gamma=0.98,
        tau=1e-2,
        batch_size=256,
        update_every=2,
    ),
}

#: Every algorithm's config class, by algorithm name.
CONFIGS: dict[str, type[Config]] = {"ddpg": DDPGConfig, "td3": TD3Config, "sac": SACConfig}

#: Every algorithm's presets, by algorithm name.
ALGORITHM_PRESETS: Mapping[str, Mapping[str, Config]] = {
    "ddpg": PRESETS,
    "td3": TD3_PRESETS,
    "sac": SAC_PRESETS,
}


def describe(name: str, config_class: type[Config] = DDPGConfig) -> str:
    """The one-line description of the config field ``name`` of ``config_class``."""
    return next(f.metadata["doc"] for f in dataclasses.fields(config_class) if f.name == name)


def get_preset(name: str, algorithm: str = "ddpg") -> Config:
    """The preset ``name`` of ``algorithm``, or a :class:`.DDPGError` listing the valid ones."""
    presets = ALGORITHM_PRESETS.get(algorithm, {})
    if name not in presets:
        valid = ", ".join(
            f"--algo {a} --preset {p}" for a, ps in ALGORITHM_PRESETS.items() for p in sorted(ps)
        )
        raise DDPGError(
            f"unknown combination --algo {algorithm} --preset {name}; valid ones are: {valid}"
        )
    return presets[name]


def parse_value(text: str) -> Any:
    """One ``--set`` value: None, True or False in Python's or JSON's spelling, in any case
    (``None``, ``null``, ``TRUE``); JSON where it parses (``0.01``, ``[64, 64]``); a choice's
    name in any case (``OU`` is ``ou``); else the text itself, for the config to judge."""
    word = text.strip()
    if word.lower() in SPELLINGS:
        return SPELLINGS[word.lower()]
    try:
        return json.loads(word)
    except json.JSONDecodeError:
        return next((choice for choice in CHOICES if choice == word.lower()), word)


def parse_values(text: str) -> list[Any]:
    """The values of one ``--set FIELD=V1,V2,...``, each read by :func:`parse_value`; commas
    inside brackets belong to a list (``[64,64],[128,128]`` is two values)."""
    values, depth, start = [], 0, 0
    for i, char in enumerate(text + ","):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            values.append(text[start:i])
            start = i + 1
    if not text.strip() or any(not value.strip() for value in values):
        raise DDPGError(f"--set needs a value after '=' and between commas, got '{text}'")
    return [parse_value(value) for value in values]
