"""Issue 26's choice of DDPG's ``fast`` preset for training seconds: the preset against the same
preset with batch size 64, seed by seed.

Run from the repository root after the runs (``fast_transfer.py``, one PyTorch thread, the two
configurations side by side so that both see the same load):

    .venv/bin/python benchmarks/fast_transfer.py ddpg-fast-batch-64 --task pendulum \\
        --seeds 1000,1001,1002,1003,1004,300,301,302,303,304,305,306,307,308,309 \\
        --out benchmarks/results/fast_preset_seconds      # and the same with ddpg-fast, at once
    .venv/bin/python benchmarks/fast_transfer.py ddpg-fast-batch-64 --task inverted \\
        --seeds 300,301,302,303,304,305,306,307,308,309 --out benchmarks/results/fast_preset_seconds
    .venv/bin/python benchmarks/fast_preset_seconds.py

Seeds 1000-1004 are tuning seeds (the batch size was chosen on them), 300-309 choose; neither
reports (the benchmark's end-to-end part reports on 200-209).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ddpg_tutorial.stats import (
    NOT_REACHED,
    median_estimates,
    paired_differences,
    probability_of_improvement,
)

RESULTS = Path(__file__).parent / "results" / "fast_preset_seconds"
CANDIDATE, BASELINE = "ddpg-fast-batch-64", "ddpg-fast"


def per_seed(name: str, task: str, seeds: range, field: str) -> dict[int, float]:
    """Seed -> ``field`` of each run (NOT_REACHED where the run never got to the threshold)."""
    runs = json.loads((RESULTS / f"{name}.json").read_text())
    values = {seed: runs[f"{task}/{seed}"][field] for seed in seeds if f"{task}/{seed}" in runs}
    return {seed: NOT_REACHED if v is None else float(v) for seed, v in values.items()}


def main() -> None:
    for label, seeds in (("tuning seeds 1000-1004", range(1000, 1005)),
                         ("choosing seeds 300-309", range(300, 310))):
        print(f"Pendulum-v1, {label}: training seconds and steps to a greedy -200")
        for field, unit in (("train_s_to_threshold", ".2f"), ("steps_to_threshold", ".0f")):
            values = {name: per_seed(name, "pendulum", seeds, field)
                      for name in (CANDIDATE, BASELINE)}
            medians = median_estimates({name: list(v.values()) for name, v in values.items()})
            diffs = paired_differences(values[CANDIDATE], values[BASELINE])
            # lower is better: the probability that a candidate run is lower than a baseline run
            lower = probability_of_improvement(-np.array(list(values[CANDIDATE].values())),
                                               -np.array(list(values[BASELINE].values())))
            print(f"  {field}: median {CANDIDATE} {medians[CANDIDATE].format(unit)}, "
                  f"{BASELINE} {medians[BASELINE].format(unit)}; per seed {CANDIDATE} minus "
                  f"{BASELINE}: {np.round(diffs.values, 2).tolist()}, lower on {diffs.lower} "
                  f"and higher on {diffs.higher} of {len(diffs.seeds)}, mean "
                  f"{diffs.mean.format(unit)}; P({CANDIDATE} lower) {lower.format('.2f')}")
    inverted = per_seed(CANDIDATE, "inverted", range(300, 310), "steps_to_threshold")
    reached = [s for s, v in inverted.items() if v < NOT_REACHED]
    print(f"InvertedPendulum-v5, seeds 300-309, {CANDIDATE}: 950 within 30,000 steps on "
          f"{len(reached)}/{len(inverted)}; steps {sorted(inverted.values())}")


if __name__ == "__main__":
    main()
