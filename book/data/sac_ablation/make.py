"""The stored runs of SAC's ablation (book/12_sac.ipynb).

Run from the repository root (about an hour of CPU time; ``--jobs`` runs at a time; a stopped
script continues where it stopped):

    .venv/bin/python book/data/sac_ablation/make.py [--jobs 2]

SAC on Pendulum-v1, 10,000 steps, every configuration on the seeds 200-209 (held out: SAC's
``fast`` preset was chosen on 100-109, the search for its settings ran on 1000-1002). Each
group changes one ingredient of the ``fast`` preset:

- ``sac-fast``: the preset: the temperature learned from alpha = 1 towards the target entropy
  -dim(A), the smaller of two critics in the target and in the actor's loss;
- ``sac-initial-alpha-0.08``: the temperature learned from 0.08, the value the search found
  (benchmarks/README.md), instead of 1;
- ``sac-fixed-alpha-0.2``: a fixed temperature of 0.2 (Spinning Up's default), not learned;
- ``sac-one-critic``: the first critic alone in the target and in the actor's loss (the second
  is still trained, and unused);
- ``sac-no-tanh-correction``: log pi without the tanh's change of variables: the Gaussian's
  log density of u, as if the action were u and not c + Delta tanh(u) (:data:`CHANGES`).

The first four are one ``ddpg-tutorial sweep`` in ``runs/sac_ablation/`` (``--work``); the
last, a change no config field describes, trains after them in this process. Then only the
small files are kept in this folder (``keep_results``), the per-episode losses included (the
temperature and the entropy). ``tests/test_book_data.py`` checks them as it checks every
stored run.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ddpg_tutorial.sweep import RunSpec, TrainerChange, make_kept_sweep

HERE = Path(__file__).resolve().parent
ENV_ID = "Pendulum-v1"
SEEDS = tuple(range(200, 210))
THRESHOLD = -200.0
STEPS = 10_000

#: Each group's overrides of the ``fast`` preset.
GROUPS: dict[str, tuple[tuple[str, object], ...]] = {
    "sac-fast": (),
    "sac-initial-alpha-0.08": (("initial_alpha", 0.08),),
    "sac-fixed-alpha-0.2": (("learn_alpha", False), ("initial_alpha", 0.2)),
    "sac-one-critic": (("clipped_double_q", False),),
    "sac-no-tanh-correction": (),
}


def drop_tanh_correction(trainer) -> None:
    """Give the trainer's actor a log pi without the tanh correction: the same sample (the same
    draws from the same generator) and action, with log N(u; m, sigma) as its log density."""
    actor = trainer.agent.actor

    def forward(obs: torch.Tensor, generator: torch.Generator | None = None):
        mean, std = actor.distribution(obs)
        u = mean + std * torch.randn(mean.shape, generator=generator, device=mean.device)
        log_prob = torch.distributions.Normal(mean, std).log_prob(u).sum(dim=1, keepdim=True)
        return actor.action_center + actor.action_half_range * torch.tanh(u), log_prob

    actor.forward = forward


#: The groups whose runs a change makes (trained in this process).
CHANGES = {
    "sac-no-tanh-correction": TrainerChange(
        "log pi without the tanh correction: the Gaussian's log density of u",
        drop_tanh_correction,
    ),
}


def specs() -> list[RunSpec]:
    """Every run, seed by seed, so that a sweep stopped part way holds whole seeds."""
    return [RunSpec(ENV_ID, "sac", "fast", (*overrides, ("total_steps", STEPS)), seed, group)
            for seed in SEEDS for group, overrides in GROUPS.items()]


def planned_runs() -> dict[str, dict]:
    """Every run this script makes: its folder, relative to this one, and what its
    ``config.json`` holds, but for the code digest."""
    return {spec.folder(Path(".")).as_posix(): spec.record() for spec in specs()}


if __name__ == "__main__":
    make_kept_sweep(__doc__, specs(), HERE, "runs/sac_ablation", THRESHOLD, changes=CHANGES)
