"""The stored runs of the paper preset at its full budget (book, Part I, third edition).

Run from the repository root (about 5 hours of training; ``--jobs`` runs at a time; a stopped
script continues where it stopped):

    .venv/bin/python book/data/paper_budget/make.py [--jobs 2]

DDPG on Pendulum-v1 with the ``paper`` preset's whole 60,000 steps, on the seeds 100-109 (held
out, as chapter 8's runs), every 1,000 steps a greedy evaluation:

- ``ddpg-paper``: the ``paper`` preset, with its batch normalisation;
- ``ddpg-paper-no-batch-norm``: the ``paper`` preset without batch normalisation;
- ``ddpg-paper-fast-tau``: the ``paper`` preset with the ``fast`` preset's target rate tau
  (chapter 8's second exercise).

Its first 10,000 steps are the runs of chapter 8 with a longer schedule; nothing in a run
depends on ``total_steps`` before its end. It is one ``ddpg-tutorial sweep`` in
``runs/paper_budget/`` (``--work``); then only the small files are kept in this folder
(``keep_results``). ``tests/test_book_data.py`` checks them as it checks every stored run.
"""

from __future__ import annotations

from pathlib import Path

from ddpg_tutorial import get_preset
from ddpg_tutorial.sweep import RunSpec, make_kept_sweep

HERE = Path(__file__).resolve().parent
ENV_ID = "Pendulum-v1"
SEEDS = tuple(range(100, 110))
THRESHOLD = -200.0


def specs() -> list[RunSpec]:
    """Every run, grouped by configuration."""
    fast = get_preset("fast")
    groups = {
        "ddpg-paper": (),
        "ddpg-paper-no-batch-norm": (("batch_norm", False),),
        "ddpg-paper-fast-tau": (("tau", fast.tau),),
    }
    return [RunSpec(ENV_ID, "ddpg", "paper", overrides, seed, group)
            for group, overrides in groups.items() for seed in SEEDS]


def planned_runs() -> dict[str, dict]:
    """Every run this script makes: its folder, relative to this one, and what its
    ``config.json`` holds, but for the code digest."""
    return {spec.folder(Path(".")).as_posix(): spec.record() for spec in specs()}


if __name__ == "__main__":
    make_kept_sweep(__doc__, specs(), HERE, "runs/paper_budget", THRESHOLD)
