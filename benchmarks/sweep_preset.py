"""Steps to solve Pendulum-v1 for variants of a preset: how the `fast` preset was chosen.

Run from the repository root, one variant per call (the fields are those of DDPGConfig):

    .venv/bin/python benchmarks/sweep_preset.py '{"batch_size": 128, "update_every": 1}'

Each seed trains for --steps environment steps on one PyTorch thread with the benchmark's
evaluation protocol (greedy, 10 fixed-seed episodes every 1,000 steps) and prints the
first evaluation step with a mean return >= -200 and the last evaluation's mean return.
Steps to solve do not depend on the machine's load, so variants can run side by side.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from ddpg_tutorial import PRESETS, Trainer

SOLVED = -200.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("changes", nargs="?", default="{}",
                        help="JSON object of config fields to change, e.g. '{\"tau\": 0.005}'")
    parser.add_argument("--preset", default="fast", choices=sorted(PRESETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=20_000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    changes = json.loads(args.changes)
    solved_at, finals = [], []
    for seed in args.seeds:
        config = PRESETS[args.preset].replace(total_steps=args.steps, eval_every=1_000,
                                              eval_episodes=10, **changes)
        history = Trainer("Pendulum-v1", config, seed=seed, progress=False).run()
        solved_at.append(history.steps_to_reach(SOLVED))
        finals.append(history.evaluations[-1].mean_return)
        print(f"seed {seed}: solved at {solved_at[-1]} steps, final {finals[-1]:.1f}", flush=True)
    print(f"{args.preset} with {changes}: steps to solve {solved_at}, "
          f"mean final return {np.mean(finals):.1f}")


if __name__ == "__main__":
    main()
