"""The stored runs of the chapter "TD3: fixing overestimation" (book/11_td3.ipynb).

Run from the repository root (about 40 CPU-minutes; ``--jobs`` runs at a time):

    .venv/bin/python book/data/td3_ablation/make.py [--jobs 2]

TD3 on Pendulum-v1, 10,000 steps, every configuration on the held-out seeds 100-109 (the
presets were tuned on seeds 1000-1002). The base is the ``fast`` preset with the paper's policy
delay of 2, so that it has all three of TD3's changes; each other group removes one:

- ``td3-all``: clipped double Q-learning, target policy smoothing, policy delay 2;
- ``td3-no-clipped-double-q``: the TD target takes the first target critic alone;
- ``td3-no-smoothing``: no noise on the target action;
- ``td3-no-delay``: the actor and targets move at every critic update (the ``fast`` preset).

It is one ``ddpg-tutorial sweep`` in ``runs/td3_ablation/`` (``--work``); a stopped make.py
continues there. Then only the small files are kept in this folder (``keep_results``).
``tests/test_book_data.py`` fails when the stored runs no longer match the library or what
:func:`specs` asks for now; then run this script again.
"""

from __future__ import annotations

from pathlib import Path

from ddpg_tutorial.sweep import RunSpec, make_kept_sweep

HERE = Path(__file__).resolve().parent
ENV_ID = "Pendulum-v1"
SEEDS = tuple(range(100, 110))
THRESHOLD = -200.0
STEPS = 10_000
ALL_THREE = (("policy_delay", 2),)

#: Each group's overrides of the ``fast`` preset.
GROUPS: dict[str, tuple[tuple[str, object], ...]] = {
    "td3-all": ALL_THREE,
    "td3-no-clipped-double-q": (*ALL_THREE, ("clipped_double_q", False)),
    "td3-no-smoothing": (*ALL_THREE, ("target_noise", 0.0)),
    "td3-no-delay": (("policy_delay", 1),),
}


def specs() -> list[RunSpec]:
    """Every run, grouped by configuration."""
    return [RunSpec(ENV_ID, "td3", "fast", (*overrides, ("total_steps", STEPS)), seed, group)
            for group, overrides in GROUPS.items() for seed in SEEDS]


def planned_runs() -> dict[str, dict]:
    """Every run this script makes: its folder, relative to this one, and what its
    ``config.json`` holds, but for the code digest."""
    return {spec.folder(Path(".")).as_posix(): spec.record() for spec in specs()}


if __name__ == "__main__":
    make_kept_sweep(__doc__, specs(), HERE, "runs/td3_ablation", THRESHOLD)
