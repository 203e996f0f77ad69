"""The stored runs of the chapter "Beyond Pendulum" (book/09_beyond_pendulum.ipynb).

Run from the repository root (about half an hour of training; ``--jobs`` runs at a time):

    .venv/bin/python book/data/beyond_pendulum/make.py [--jobs 2]

DDPG on InvertedPendulum-v5, 10,000 steps, every configuration on the seeds 200-209 (held
out: the presets were tuned on Pendulum with seeds 1000-1002 and chosen on 100-109 and 300-309,
and the chapter's own runs use seed 0). Version 0.2's ``fast`` preset, tuned by hand for
Pendulum, differed from today's in two fields, the discount and the exploration noise; the
groups change one at a time, both together, and the noise's kind without its scale:

- ``ddpg-fast``: the ``fast`` preset (gamma 0.99, Ornstein-Uhlenbeck noise, sigma 0.16, whose
  stationary standard deviation is 0.16 / sqrt(0.15 x 1.85) = 0.30 half-ranges);
- ``ddpg-fast-gamma-0.98``: version 0.2's shorter horizon alone;
- ``ddpg-fast-gaussian``: version 0.2's independent Gaussian noise, sigma 0.1, alone;
- ``ddpg-fast-gamma-0.98-gaussian``: both, version 0.2's values of the two fields;
- ``ddpg-fast-gaussian-0.3``: independent Gaussian noise at the OU noise's stationary scale,
  sigma 0.3: the noise's correlation in time changed and not its size.

It is one ``ddpg-tutorial sweep`` in ``runs/beyond_pendulum/`` (``--work``); a make.py that
was stopped continues there. Then only the small files are kept in this folder
(``keep_results``): ``sweep.json``, ``summary.csv``, and each run's ``config.json``,
``evaluations.csv`` and ``losses.csv``. The chapter computes every statistic from them.
``tests/test_book_data.py`` fails when the
library no longer trains the first updates of each configuration's first seed as stored, or
when the runs are not what :func:`specs` asks for now (a changed preset); then run this script again.
"""

from __future__ import annotations

from pathlib import Path

from ddpg_tutorial.sweep import RunSpec, make_kept_sweep

HERE = Path(__file__).resolve().parent
ENV_ID = "InvertedPendulum-v5"
SEEDS = tuple(range(200, 210))
THRESHOLD = 950.0  #: Gymnasium's reward_threshold of InvertedPendulum-v5
STEPS = 10_000
GAMMA_0_2 = (("gamma", 0.98),)  #: version 0.2's discount
GAUSSIAN_0_2 = (("noise", "gaussian"), ("noise_sigma", 0.1))  #: version 0.2's noise
GAUSSIAN_AT_OU_SCALE = (("noise", "gaussian"), ("noise_sigma", 0.3))


def specs() -> list[RunSpec]:
    """Every run, grouped by configuration."""
    groups = {
        "ddpg-fast": (),
        "ddpg-fast-gamma-0.98": GAMMA_0_2,
        "ddpg-fast-gaussian": GAUSSIAN_0_2,
        "ddpg-fast-gamma-0.98-gaussian": GAMMA_0_2 + GAUSSIAN_0_2,
        "ddpg-fast-gaussian-0.3": GAUSSIAN_AT_OU_SCALE,
    }
    return [RunSpec(ENV_ID, "ddpg", "fast", (("total_steps", STEPS), *overrides), seed, group)
            for group, overrides in groups.items() for seed in SEEDS]


def planned_runs() -> dict[str, dict]:
    """Every run this script makes: its folder, relative to this one, and what its
    ``config.json`` holds, but for the code digest."""
    return {spec.folder(Path(".")).as_posix(): spec.record() for spec in specs()}


if __name__ == "__main__":
    make_kept_sweep(__doc__, specs(), HERE, "runs/beyond_pendulum", THRESHOLD)
