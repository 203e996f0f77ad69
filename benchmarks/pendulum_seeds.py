"""Steps to a greedy mean of -200 on Pendulum-v1 for the fast presets of TD3 and SAC, seed by
seed: seeds 0-4 (the seeds the DDPG fast preset was tuned on; the TD3 and SAC fast presets take
its shared fields unchanged) and 100-104 (used by nothing before).

Run from the repository root:  .venv/bin/python benchmarks/pendulum_seeds.py
(one run after another, one PyTorch thread; about 10 minutes). Writes
benchmarks/results/pendulum_seeds.json, with every evaluation's critic estimate of the start
states and the discounted return then obtained. Until the sweep command exists (issue 12), this
is the multi-seed check of the presets.
"""

import json
import time
from pathlib import Path

import torch

from ddpg_tutorial import ALGORITHM_PRESETS, Trainer

SEEDS = (0, 1, 2, 3, 4, 100, 101, 102, 103, 104)


def main() -> None:
    torch.set_num_threads(1)
    results = {}
    for algorithm in ("td3", "sac"):
        for seed in SEEDS:
            start = time.perf_counter()
            history = Trainer("Pendulum-v1", ALGORITHM_PRESETS[algorithm]["fast"], seed=seed,
                              progress=False).run()
            results[f"{algorithm}/{seed}"] = {
                "steps_to_-200": history.steps_to_reach(-200),
                "final_return": history.evaluations[-1].mean_return,
                "wall_s": time.perf_counter() - start,
                "q_estimate_vs_discounted_return": [
                    (e.env_steps, e.q_estimate, e.discounted_return) for e in history.evaluations],
            }
            r = results[f"{algorithm}/{seed}"]
            print(f"{algorithm} seed {seed}: -200 at {r['steps_to_-200']} steps, final "
                  f"{r['final_return']:.1f}, {r['wall_s']:.1f} s", flush=True)
    out = Path(__file__).parent / "results" / "pendulum_seeds.json"
    out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
