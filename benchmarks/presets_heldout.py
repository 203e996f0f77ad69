"""The fast presets against the best configurations ``ddpg-tutorial tune`` found, on held-out
seeds: Pendulum-v1, 10,000 steps, seeds 100-109 (the tuning used seeds 1000-1002).

Run from the repository root, after the tuning (README.md, "Presets re-derived with Optuna"):
    .venv/bin/python benchmarks/presets_heldout.py TUNING_DIR [--out DIR] [--jobs 2]
TUNING_DIR holds one folder per algorithm with the best.json that ``tune`` wrote
(TUNING_DIR/ddpg/best.json, ...). Each best configuration runs as the fast preset with the
tuned fields changed; the groups are ALGO-fast and ALGO-tuned. The sweep folder (default
runs/presets_heldout) gets summary.csv, report.md and the figures (``ddpg-tutorial report``);
they are copied to benchmarks/results/presets_heldout/, the trials of each study to
benchmarks/results/tuning/ALGO-trials.csv and the best configurations to
benchmarks/results/tuning/ALGO-best.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from ddpg_tutorial.config import get_preset
from ddpg_tutorial.stats import report
from ddpg_tutorial.sweep import RunSpec, sweep

SEEDS = tuple(range(100, 110))
RESULTS = Path(__file__).parent / "results"


def specs_for(algorithm: str, best: dict) -> list[RunSpec]:
    fast = get_preset("fast", algorithm).to_dict()
    tuned = tuple((k, v) for k, v in best["config"].items() if v != fast[k])
    return ([RunSpec("Pendulum-v1", algorithm, "fast", (), seed, f"{algorithm}-fast")
             for seed in SEEDS]
            + [RunSpec("Pendulum-v1", algorithm, "fast", tuned, seed, f"{algorithm}-tuned")
               for seed in SEEDS])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tuning", type=Path)
    parser.add_argument("--out", type=Path, default=Path("runs/presets_heldout"))
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    import optuna

    specs = []
    (RESULTS / "tuning").mkdir(parents=True, exist_ok=True)
    for algorithm in ("ddpg", "td3", "sac"):
        best = json.loads((args.tuning / algorithm / "best.json").read_text())
        specs += specs_for(algorithm, best)
        shutil.copy(args.tuning / algorithm / "best.json",
                    RESULTS / "tuning" / f"{algorithm}-best.json")
        database = (args.tuning / algorithm / "study.db").resolve()
        study = optuna.load_study(study_name=best["study_name"], storage=f"sqlite:///{database}")
        study.trials_dataframe().to_csv(RESULTS / "tuning" / f"{algorithm}-trials.csv", index=False)
    sweep(specs, args.out, args.jobs, threshold=-200)
    report(args.out)
    copy = RESULTS / "presets_heldout"
    copy.mkdir(exist_ok=True)
    for name in ("summary.csv", "report.md", "sample_efficiency.png", "performance_profile.png"):
        shutil.copy(args.out / name, copy / name)
    print((copy / "report.md").read_text())


if __name__ == "__main__":
    main()
