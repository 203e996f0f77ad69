"""What crash-safe saving costs: the time spent writing training states, against the run.

Run from the repository root:  python benchmarks/bench_saving.py

Two runs on Pendulum-v1, one PyTorch thread, with the default saving (a training state at
the first episode end after every evaluation, every 1,000 steps):

1. the ``fast`` preset, 10,000 steps, as ``ddpg-tutorial train`` runs it;
2. the ``paper`` preset (networks 400-300) with a replay buffer that already holds 1,000,000
   transitions when the run starts (filled with random rows: what matters here is how many
   there are), 5,000 steps. Its first save writes all 1,000,000 rows (one chunk); every later
   save only the rows added since. Then the time to resume from that folder.

Every save is timed where the training loop calls it, and reported as a fraction of the run's
wall time, with the size of the run folder of a stopped run of the second kind and the time
to resume it. Results go to ``benchmarks/results/saving.json``.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import torch

import ddpg_tutorial.training as training
from ddpg_tutorial import PRESETS, Trainer

REPO = Path(__file__).resolve().parent.parent
save_times: list[float] = []
_save = training.save_training_state


def timed_save(*args, **kwargs) -> None:
    start = time.perf_counter()
    _save(*args, **kwargs)
    save_times.append(time.perf_counter() - start)


training.save_training_state = timed_save


def run(name: str, trainer: Trainer) -> dict:
    save_times.clear()
    start = time.perf_counter()
    trainer.run()
    wall = time.perf_counter() - start
    result = {"run": name, "steps": trainer.step, "wall_s": wall, "saves": len(save_times),
              "first_save_s": save_times[0], "later_saves_s": sum(save_times[1:]),
              "all_saves_s": sum(save_times), "fraction_of_wall": sum(save_times) / wall}
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    torch.set_num_threads(1)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        config = PRESETS["fast"]
        results.append(run("fast, 10,000 steps", Trainer("Pendulum-v1", config, seed=0,
                                                       out_dir=Path(tmp) / "fast",
                                                       progress=False)))
        config = PRESETS["paper"].replace(total_steps=5_000)
        out = Path(tmp) / "paper"
        trainer = Trainer("Pendulum-v1", config, seed=0, out_dir=out, progress=False)
        n = config.buffer_size
        trainer.buffer.put_rows(0, torch.randn(n, trainer.buffer.storage.shape[1],
                                               generator=torch.Generator().manual_seed(0)))
        trainer.buffer.added = n
        trainer.step = 0
        result = run("paper, buffer of 1,000,000 transitions, 5,000 steps", trainer)
        # The finished run deleted its state; stop one more like it to time a resume.
        trainer = Trainer("Pendulum-v1", config.replace(total_steps=2_000), seed=0, out_dir=out,
                          progress=False)
        trainer.buffer.put_rows(0, torch.zeros(n, trainer.buffer.storage.shape[1]))
        trainer.buffer.added = n
        trainer.run(stop_when=lambda history: True)  # stops and saves at step 1,000
        result["state_folder_mb"] = sum(p.stat().st_size for p in out.rglob("*")
                                        if p.is_file()) / 1e6
        start = time.perf_counter()
        Trainer.resume(out, progress=False)
        result["resume_s"] = time.perf_counter() - start
        results.append(result)
    for r in results:
        print(f"{r['run']}: {r['saves']} saves took {r['all_saves_s']:.3f} s "
              f"(first {r['first_save_s']:.3f} s) of {r['wall_s']:.1f} s, "
              f"{r['fraction_of_wall']:.2%}")
    (REPO / "benchmarks/results/saving.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
