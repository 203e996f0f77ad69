"""The training loop's hot path on the CPU: this checkout against an earlier revision.

Run from the repository root:  python benchmarks/bench_update.py [--baseline REV]

The baseline's ``ddpg_tutorial`` is extracted from git into a temporary folder. Each round
measures both versions in fresh processes, alternating, on one PyTorch thread, with identical
hyperparameters (the ``fast`` and ``paper`` presets of this checkout):

- one update as the training loop makes it: sample a batch from a 10,000-transition buffer,
  update, and record the losses the way that version's loop does (0.1.0 read three floats
  back after every update; now the loop sums them where they are and reads once an episode);
- the whole training loop: environment steps per second of a Pendulum-v1 run of the ``fast``
  preset (acting, storing, updates, evaluations, and now the periodic saves of the training
  state into a temporary run folder).

It prints medians over the rounds and the ratio current / baseline, and writes them to
``benchmarks/results/update.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from revision import REPO, extract_package, run_probe

# Runs inside each measured process; the version under test is first on sys.path.
PROBE = r'''
import json, sys, tempfile, time
import numpy as np, torch
torch.set_num_threads(1)
import ddpg_tutorial
from ddpg_tutorial import DDPGAgent, DDPGConfig, ReplayBuffer, Trainer
presets = json.loads(sys.argv[1])
new = hasattr(ReplayBuffer, "rows")  # the hardened version

def time_updates(config, repeats=400):
    agent = DDPGAgent(3, np.array([-2.0]), np.array([2.0]), config, seed=0)
    buffer = ReplayBuffer(10_000, 3, 1, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(10_000):
        buffer.add(rng.normal(size=3), rng.uniform(-2, 2, 1), -rng.random(),
                   rng.normal(size=3), False)
    if new:  # as the training loop records them
        from ddpg_tutorial.training import MetricSums
        sums = MetricSums()
        def one():
            sums.add(agent.update(buffer.sample(config.batch_size)))
    else:
        losses = []
        def one():
            m = agent.update(buffer.sample(config.batch_size))
            losses.append((m.critic_loss, m.actor_loss, m.mean_q))
    for _ in range(50):
        one()
    start = time.perf_counter()
    for _ in range(repeats):
        one()
    return (time.perf_counter() - start) / repeats * 1e3

def steps_per_s(config):
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer("Pendulum-v1", config, seed=0, out_dir=out, progress=False)
        start = time.perf_counter()
        trainer.run()
        return config.total_steps / (time.perf_counter() - start)

result = {f"{name} ms/update": time_updates(DDPGConfig.from_dict(c)) for name, c in presets.items()}
fast = DDPGConfig.from_dict(presets["fast"]).replace(total_steps=5_000)
result["fast env steps/s"] = steps_per_s(fast)
print(json.dumps(result))
'''


def measure(package_root: Path, presets: dict) -> dict[str, float]:
    return run_probe(PROBE, package_root, json.dumps(presets), SDL_VIDEODRIVER="dummy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="49399af", help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/update.json")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from ddpg_tutorial import PRESETS

    presets = {name: PRESETS[name].to_dict() for name in ("fast", "paper")}
    runs: dict[str, list[dict]] = {"baseline": [], "current": []}
    with tempfile.TemporaryDirectory() as tmp:
        baseline = extract_package(args.baseline, tmp)
        for r in range(args.rounds):
            for name, root in (("baseline", baseline), ("current", REPO)):
                runs[name].append(measure(root, presets))
                print(f"round {r + 1} {name:8s} {runs[name][-1]}", flush=True)
    keys = list(runs["current"][0])
    summary = {key: {name: statistics.median(run[key] for run in runs[name]) for name in runs}
               for key in keys}
    print(f"\nmedians over {args.rounds} rounds, baseline {args.baseline}, 1 thread:")
    for key, m in summary.items():
        print(f"  {key:22s} baseline {m['baseline']:8.3f}  current {m['current']:8.3f}  "
              f"current/baseline {m['current'] / m['baseline']:.3f}")
    args.out.write_text(json.dumps({"baseline": args.baseline, "rounds": runs,
                                    "medians": summary}, indent=1) + "\n")


if __name__ == "__main__":
    main()
