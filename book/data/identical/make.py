"""The stored runs of the identical-settings comparison (book/13_choosing.ipynb).

Run from the repository root (about an hour and a half of CPU time; ``--jobs`` runs at a
time; a stopped script continues where it stopped):

    .venv/bin/python book/data/identical/make.py [--jobs 2]

The ``fast`` presets differ in more than their algorithm: discount, networks, learning rates,
batch size, updates per step. Here DDPG, TD3 and SAC share every setting they have in common,
so that what differs between them is the algorithm: the settings of the benchmark's
implementation comparison (``benchmarks/bench_sb3.py``, ``IDENTICAL``: 160-160 networks of
DDPG's design, Adam 1e-3, batch 256, an update every 2 steps, tau 0.01, 1,000 random warm-up
steps), with the discount 0.99 instead of its 0.98 on both tasks (chapter 9: a shorter
horizon can keep InvertedPendulum-v5 from being learned). DDPG and TD3 explore with Gaussian
noise, sigma 0.1; TD3 has its paper's delay 2 and smoothing 0.2 clipped at 0.5; SAC learns its
temperature from 1 with the learning rate of the others.

Pendulum-v1 and InvertedPendulum-v5, 10,000 steps, seeds 200-209 (no decision about any
preset or setting looked at them). It is one ``ddpg-tutorial sweep`` in ``runs/identical/``
(``--work``); then only the small files are kept in this folder (``keep_results``).
``tests/test_book_data.py`` checks them as it checks every stored run.
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
#: What every algorithm shares.
SHARED = (("actor_hidden", (160, 160)), ("critic_hidden", (160, 160)),
          ("critic_action_layer", 2), ("final_layer_bound", 3e-3),
          ("actor_lr", 1e-3), ("critic_lr", 1e-3), ("critic_weight_decay", 0.0),
          ("gamma", 0.99), ("tau", 0.01), ("batch_size", 256), ("update_every", 2),
          ("warmup_steps", 1_000), ("buffer_size", 200_000), ("total_steps", STEPS))
#: What each algorithm has of its own.
OWN = {
    "ddpg": (("noise", "gaussian"), ("noise_sigma", 0.1), ("batch_norm", False)),
    "td3": (("noise", "gaussian"), ("noise_sigma", 0.1), ("policy_delay", 2),
            ("target_noise", 0.2), ("target_noise_clip", 0.5), ("clipped_double_q", True)),
    "sac": (("alpha_lr", 1e-3), ("initial_alpha", 1.0), ("target_entropy", None)),
}


def specs() -> list[RunSpec]:
    """Every run, seed by seed, grouped by algorithm and task (``sac-pendulum``, ...)."""
    return [RunSpec(env_id, algorithm, "fast", SHARED + OWN[algorithm], seed,
                    f"{algorithm}-{task}")
            for seed in SEEDS for task, env_id in TASKS.items() for algorithm in ALGORITHMS]


def planned_runs() -> dict[str, dict]:
    """Every run this script makes: its folder, relative to this one, and what its
    ``config.json`` holds, but for the code digest."""
    return {spec.folder(Path(".")).as_posix(): spec.record() for spec in specs()}


if __name__ == "__main__":
    make_kept_sweep(__doc__, specs(), HERE, "runs/identical", None)
