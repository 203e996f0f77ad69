"""The stored runs of the chapter "Experiments" (book/08_experiments.ipynb).

Run from the repository root (about an hour of training; ``--jobs`` runs at a time):

    .venv/bin/python book/data/experiments/make.py [--jobs 2]

DDPG on Pendulum-v1, 10,000 steps (the ``fast`` preset's budget, a sixth of the ``paper``
preset's), every configuration on the seeds 200-209 (held out: the presets were tuned on seeds
1000-1002 and chosen on 100-109 and 300-309, and the chapters train on seeds 0-2):

- ``ddpg-fast``: the ``fast`` preset;
- ``ddpg-fast-paper-tau``: the ``fast`` preset with the paper's target rate tau;
- ``ddpg-paper``: the ``paper`` preset (with its batch normalisation);
- ``ddpg-paper-no-batch-norm``: the ``paper`` preset without batch normalisation.

It is one ``ddpg-tutorial sweep`` (the same runs as ``ddpg-tutorial sweep --preset ...`` with
these ``--set`` overrides) in ``runs/experiments/`` (``--work``); a make.py that was stopped
continues there. Then only the small files are kept in this folder (``keep_results``):
``sweep.json``, ``summary.csv``, and each run's ``config.json``, ``evaluations.csv`` and ``losses.csv``. The
chapter computes every statistic from them. ``tests/test_book_data.py`` fails when the
library no longer trains the first updates of each configuration's first seed as stored, or
when the runs are not what :func:`specs` asks for now (a
changed preset); then run this script again.
"""

from __future__ import annotations

from pathlib import Path

from ddpg_tutorial import get_preset
from ddpg_tutorial.sweep import RunSpec, make_kept_sweep

HERE = Path(__file__).resolve().parent
ENV_ID = "Pendulum-v1"
SEEDS = tuple(range(200, 210))
THRESHOLD = -200.0
STEPS = 10_000


def specs() -> list[RunSpec]:
    """Every run, grouped by configuration."""
    paper = get_preset("paper")
    groups = {
        "ddpg-fast": ("fast", ()),
        "ddpg-fast-paper-tau": ("fast", (("tau", paper.tau),)),
        "ddpg-paper": ("paper", ()),
        "ddpg-paper-no-batch-norm": ("paper", (("batch_norm", False),)),
    }
    return [RunSpec(ENV_ID, "ddpg", preset, (*overrides, ("total_steps", STEPS)), seed, group)
            for group, (preset, overrides) in groups.items() for seed in SEEDS]


def planned_runs() -> dict[str, dict]:
    """Every run this script makes: its folder, relative to this one, and what its
    ``config.json`` holds, but for the code digest."""
    return {spec.folder(Path(".")).as_posix(): spec.record() for spec in specs()}


if __name__ == "__main__":
    make_kept_sweep(__doc__, specs(), HERE, "runs/experiments", THRESHOLD)
