"""The stored runs of the chapter "Beyond Pendulum" (book/09_beyond_pendulum.ipynb).

Run from the repository root (about half an hour of CPU time; ``--jobs`` runs at a time):

    .venv/bin/python book/data/beyond_pendulum/make.py [--jobs 2]

DDPG on InvertedPendulum-v5, 10,000 steps, every configuration on the seeds 100-109 (held
out: the presets were tuned on Pendulum with seeds 1000-1002, and the chapter's own runs use
seed 0). Two of the ``fast`` preset's fields, at its values or at those of the ``fast`` preset
of version 0.2 (tuned by hand for Pendulum):

- ``ddpg-fast``: the ``fast`` preset (gamma 0.99, Ornstein-Uhlenbeck noise, sigma 0.16);
- ``ddpg-fast-gamma-0.98-gaussian``: with version 0.2's shorter horizon, gamma 0.98, and its
  independent Gaussian noise, sigma 0.1.

It is one ``ddpg-tutorial sweep`` in ``runs/beyond_pendulum/`` (``--work``); a make.py that
was stopped continues there. Then only the small files are kept in this folder
(``keep_results``): ``sweep.json``, ``summary.csv``, and each run's ``config.json`` and
``evaluations.csv``. The chapter computes every statistic from them.
``tests/test_book_data.py`` fails when the stored runs no longer match the library (its code
digest) or what :func:`specs` asks for now (a changed preset); then run this script again.
"""

from __future__ import annotations

from pathlib import Path

from ddpg_tutorial.sweep import RunSpec, make_kept_sweep

HERE = Path(__file__).resolve().parent
ENV_ID = "InvertedPendulum-v5"
SEEDS = tuple(range(100, 110))
THRESHOLD = 950.0  #: Gymnasium's reward_threshold of InvertedPendulum-v5
STEPS = 10_000
#: The two fields at the values of the fast preset of version 0.2.
OLD_FAST = (("gamma", 0.98), ("noise", "gaussian"), ("noise_sigma", 0.1))


def specs() -> list[RunSpec]:
    """Every run, grouped by configuration."""
    groups = {
        "ddpg-fast": (),
        "ddpg-fast-gamma-0.98-gaussian": OLD_FAST,
    }
    return [RunSpec(ENV_ID, "ddpg", "fast", (("total_steps", STEPS), *overrides), seed, group)
            for group, overrides in groups.items() for seed in SEEDS]


def planned_runs() -> dict[str, dict]:
    """Every run this script makes: its folder, relative to this one, and what its
    ``config.json`` holds, but for the code digest."""
    return {spec.folder(Path(".")).as_posix(): spec.record() for spec in specs()}


if __name__ == "__main__":
    make_kept_sweep(__doc__, specs(), HERE, "runs/beyond_pendulum", THRESHOLD)
