"""The stored runs of the chapter "Choosing an algorithm" (book/13_choosing.ipynb).

Run from the repository root (about 50 minutes of training; ``--jobs`` runs at a time):

    .venv/bin/python book/data/choosing/make.py [--jobs 2]

DDPG, TD3 and SAC, each with its ``fast`` preset, on Pendulum-v1 and InvertedPendulum-v5,
10,000 steps, on the held-out seeds 200-209 (the presets were tuned on Pendulum-v1 with seeds
1000-1002 and chosen on 100-109 and 300-309; on InvertedPendulum-v5 they were not tuned at
all). All 60 runs are one
``ddpg-tutorial sweep`` in ``runs/choosing/`` (``--work``), one run at a time; other
processes shared the machine and their load varied, so compare the runs' training times
seed by seed and with care. A stopped make.py continues there. Then only the small files
are kept in this folder (``keep_results``), the per-episode losses included (the SAC chapter
plots the temperature and the entropy from them). ``tests/test_book_data.py`` fails when the
stored runs no longer match the library or what :func:`specs` asks for now.
"""

from __future__ import annotations

from pathlib import Path

from ddpg_tutorial.sweep import RunSpec, make_kept_sweep

HERE = Path(__file__).resolve().parent
SEEDS = tuple(range(200, 210))
STEPS = 10_000
ALGORITHMS = ("ddpg", "td3", "sac")
#: Each task's short name in the group names, and its Gymnasium id.
TASKS = {"pendulum": "Pendulum-v1", "inverted-pendulum": "InvertedPendulum-v5"}


def specs() -> list[RunSpec]:
    """Every run, grouped by algorithm and task (``sac-pendulum``, ...)."""
    return [RunSpec(env_id, algorithm, "fast", (("total_steps", STEPS),), seed,
                    f"{algorithm}-{task}")
            for task, env_id in TASKS.items() for algorithm in ALGORITHMS for seed in SEEDS]


def planned_runs() -> dict[str, dict]:
    """Every run this script makes: its folder, relative to this one, and what its
    ``config.json`` holds, but for the code digest."""
    return {spec.folder(Path(".")).as_posix(): spec.record() for spec in specs()}


if __name__ == "__main__":
    make_kept_sweep(__doc__, specs(), HERE, "runs/choosing")
