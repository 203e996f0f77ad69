"""Does a run come out the same on another x86 CPU, and what would pinning the code paths cost?

PyTorch (ATen), MKL, oneDNN, NumPy and glibc's maths library each pick their floating-point code
by the CPU's instruction set, so the same seed can train differently on another processor. Each
library can be told to take a lesser path, which emulates an older or different CPU on this one.
This script trains the same short run (``ddpg-tutorial train``, Pendulum-v1, the fast preset,
seed 0) under each setting below, one after another on one thread, and prints, per setting,
the greedy returns, a digest of everything the run logged except times (equal digests: a
bit-identical run) and the seconds the run took, the mean of ``--repeats`` runs:

    .venv/bin/python benchmarks/cpu_paths.py [--steps 3000] [--repeats 2]

The settings come in two families. "As is" lets each library choose, as a reader's machine
does; the others emulate CPUs without AVX-512 or with older paths. "Pinned" settings fix ATen
and MKL to one path, and the rows after them add the emulations of the libraries that pinning
does not reach (NumPy, glibc, oneDNN): if a pinned digest stays the same under them, pinning
held as far as one machine can tell. benchmarks/README.md reports a run and the decision.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NO_AVX512_NUMPY = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}
NO_AVX512_FMA_LIBM = {"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX512F,-AVX2,-FMA,-FMA4"}
NO_AVX512_ONEDNN = {"ONEDNN_MAX_CPU_ISA": "AVX2"}
PINNED_DEFAULT = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"}
PINNED_AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2"}

SETTINGS: dict[str, dict[str, str]] = {
    "as is": {},
    "as is, ATen avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "as is, ATen default": {"ATEN_CPU_CAPABILITY": "default"},
    "as is, MKL AVX2": {"MKL_CBWR": "AVX2"},
    "as is, MKL COMPATIBLE": {"MKL_CBWR": "COMPATIBLE"},
    "as is, NumPy without AVX-512": NO_AVX512_NUMPY,
    "as is, libm without AVX2/FMA": NO_AVX512_FMA_LIBM,
    "as is, oneDNN AVX2": NO_AVX512_ONEDNN,
    "pinned default/COMPATIBLE": PINNED_DEFAULT,
    "  + NumPy without AVX-512": PINNED_DEFAULT | NO_AVX512_NUMPY,
    "  + libm without AVX2/FMA": PINNED_DEFAULT | NO_AVX512_FMA_LIBM,
    "  + oneDNN AVX2": PINNED_DEFAULT | NO_AVX512_ONEDNN,
    "pinned avx2/AVX2": PINNED_AVX2,
    "  + NumPy without AVX-512 ": PINNED_AVX2 | NO_AVX512_NUMPY,
    "  + libm without AVX2/FMA ": PINNED_AVX2 | NO_AVX512_FMA_LIBM,
}


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def run_once(env_changes: dict[str, str], steps: int, out: Path) -> tuple[float, list[dict]]:
    """Train once under ``env_changes``; return (seconds, evaluation rows)."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"ATEN_CPU_CAPABILITY", "MKL_CBWR", "NPY_DISABLE_CPU_FEATURES",
                        "GLIBC_TUNABLES", "ONEDNN_MAX_CPU_ISA"}}
    env.update(env_changes)
    command = [sys.executable, "-m", "ddpg_tutorial", "train", "--seed", "0", "--steps",
               str(steps), "--out", str(out), "--overwrite", "--no-progress", "--no-gif"]
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    return seconds, read_rows(out / "evaluations.csv")


def digest(out: Path) -> str:
    """A digest of everything the run logged but its times."""
    h = hashlib.sha256()
    for name in ("episodes.csv", "losses.csv", "evaluations.csv"):
        for row in read_rows(out / name):
            h.update(repr(sorted((k, v) for k, v in row.items() if "time" not in k)).encode())
    return h.hexdigest()[:10]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3_000, help="steps per run (default 3000)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per setting (default 2)")
    args = parser.parse_args()
    results: dict[str, dict] = {name: {"seconds": []} for name in SETTINGS}
    with tempfile.TemporaryDirectory(prefix="cpu-paths-") as tmp:
        for repeat in range(args.repeats):  # round-robin, so that drift hits every setting
            for name, changes in SETTINGS.items():
                out = Path(tmp) / f"run{len(results[name]['seconds'])}-{abs(hash(name))}"
                seconds, rows = run_once(changes, args.steps, out)
                results[name]["seconds"].append(seconds)
                results[name]["returns"] = [float(r["mean_return"]) for r in rows]
                run_digest = digest(out)
                assert results[name].setdefault("digest", run_digest) == run_digest, (
                    f"{name}: two runs of one setting differ")
    base = sum(results["as is"]["seconds"]) / args.repeats
    print(f"Pendulum-v1, fast preset, seed 0, {args.steps} steps; greedy mean returns at "
          "each evaluation; seconds per run (the mean of "
          f"{args.repeats}), relative to 'as is'\n")
    print(f"{'setting':<30} {'digest':<11} {'returns':<32} {'s':>6} {'ratio':>6}")
    for name, result in results.items():
        seconds = sum(result["seconds"]) / args.repeats
        returns = " ".join(f"{r:.1f}" for r in result["returns"][1:])
        print(f"{name:<30} {result['digest']:<11} {returns:<32} {seconds:6.1f} "
              f"{seconds / base:6.2f}")


if __name__ == "__main__":
    main()
