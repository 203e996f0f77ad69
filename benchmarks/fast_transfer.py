"""Do the fast presets carry over from Pendulum-v1 to InvertedPendulum-v5? Seed by seed: the
steps to a greedy -200 on Pendulum-v1 within 10,000 steps, and to a greedy 950 on
InvertedPendulum-v5 within 30,000 (a run stops at its first evaluation at the threshold).

Run from the repository root (one PyTorch thread, one run after another):

    .venv/bin/python benchmarks/fast_transfer.py NAME [NAME ...] --seeds 0,1,2 [--task both]

NAME is a configuration below: an algorithm's ``fast`` preset, with overrides for the
diagnosis of SAC's failure on InvertedPendulum (issue 21) and for the presets' tuning for
training seconds (issue 26). ``--task`` is ``pendulum``, ``inverted`` or ``both``. Results go
to ``--out``/NAME.json (default benchmarks/results/fast_transfer/), one entry per task and
seed, written after each run: the steps and the training seconds to the threshold; runs
already there are not run again.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from ddpg_tutorial import ALGORITHM_PRESETS, Trainer

CONFIGURATIONS: dict[str, tuple[str, dict]] = {  # name: (algorithm, overrides of its fast preset)
    "ddpg-fast": ("ddpg", {}),
    "td3-fast": ("td3", {}),
    "sac-fast": ("sac", {}),
    "sac-gamma-0.99": ("sac", dict(gamma=0.99)),
    "sac-every-step": ("sac", dict(update_every=1)),
    "sac-alpha-0.1": ("sac", dict(initial_alpha=0.1)),
    "sac-gamma-0.99-every-step": ("sac", dict(gamma=0.99, update_every=1)),
    # The best three trials of DDPG's study for training seconds (issue 26; tuning seeds
    # 1000-1002, results/tuning_seconds/ddpg), rounded to two significant digits.
    **{
        f"ddpg-seconds-{trial}": ("ddpg", dict(
            actor_hidden=(width, width), critic_hidden=(width, width), actor_lr=actor_lr,
            critic_lr=critic_lr, tau=tau, batch_size=64, gamma=gamma, update_every=2,
            noise="gaussian", noise_sigma=sigma))
        for trial, width, actor_lr, critic_lr, tau, gamma, sigma in [
            (31, 128, 7.9e-4, 2.9e-3, 0.038, 0.95, 0.40),
            (24, 128, 1.5e-3, 1.9e-3, 0.031, 0.95, 0.32),
            (10, 160, 1.6e-3, 2.1e-3, 0.023, 0.98, 0.45),
        ]
    },
    # Cheaper updates for the presets' sample efficiency: smaller batches and networks.
    "ddpg-fast-batch-64": ("ddpg", dict(batch_size=64)),
    "ddpg-fast-batch-128": ("ddpg", dict(batch_size=128)),
    "ddpg-fast-batch-64-width-64": ("ddpg", dict(batch_size=64, actor_hidden=(64, 64),
                                                 critic_hidden=(64, 64))),
    "td3-fast-batch-64-width-128": ("td3", dict(batch_size=64, actor_hidden=(128, 128),
                                                critic_hidden=(128, 128))),
}
TASKS = {  # task: (environment, steps, threshold)
    "pendulum": ("Pendulum-v1", 10_000, -200.0),
    "inverted": ("InvertedPendulum-v5", 30_000, 950.0),
}
OUT = Path(__file__).parent / "results" / "fast_transfer"


def run(name: str, task: str, seed: int) -> dict:
    """One run of configuration ``name`` on ``task``, stopped at its first evaluation at the
    task's threshold."""
    algorithm, overrides = CONFIGURATIONS[name]
    env_id, steps, threshold = TASKS[task]
    config = ALGORITHM_PRESETS[algorithm]["fast"].replace(total_steps=steps, **overrides)
    start = time.perf_counter()
    trainer = Trainer(env_id, config, seed=seed, progress=False)
    history = trainer.run(stop_when=lambda h: h.evaluations[-1].mean_return >= threshold)
    reached = [e for e in history.evaluations if e.mean_return >= threshold]
    return {"steps_to_threshold": history.steps_to_reach(threshold),
            "train_s_to_threshold": round(reached[0].train_time_s, 2) if reached else None,
            "evaluations": [[e.env_steps, e.mean_return] for e in history.evaluations],
            "wall_s": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="+", choices=sorted(CONFIGURATIONS))
    parser.add_argument("--seeds", required=True)
    parser.add_argument("--task", choices=("pendulum", "inverted", "both"), default="both")
    parser.add_argument("--out", type=Path, default=OUT, help=f"results folder (default: {OUT})")
    args = parser.parse_args()
    torch.set_num_threads(1)
    tasks = list(TASKS) if args.task == "both" else [args.task]
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names:
        path = args.out / f"{name}.json"
        results = json.loads(path.read_text()) if path.exists() else {
            "algorithm": CONFIGURATIONS[name][0], "overrides": CONFIGURATIONS[name][1]}
        for task in tasks:
            for seed in (int(s) for s in args.seeds.split(",")):
                key = f"{task}/{seed}"
                if key in results and "train_s_to_threshold" in results[key]:
                    continue  # (runs before the training seconds were recorded run again)
                results[key] = run(name, task, seed)
                path.write_text(json.dumps(results, indent=1) + "\n")
                print(f"{name} {key}: {TASKS[task][2]:g} at "
                      f"{results[key]['steps_to_threshold']} steps, "
                      f"{results[key]['train_s_to_threshold']} s of training; "
                      f"{results[key]['wall_s']} s in all",
                      flush=True)


if __name__ == "__main__":
    main()
