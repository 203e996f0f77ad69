"""Peak memory of rendering a 1,000-step HalfCheetah-v5 episode to a GIF.

Run from the repository root:  python benchmarks/bench_render_memory.py [--baseline REV]

Each version renders the same episode (a fixed random policy, 1,000 steps, 480 x 480 frames)
in a fresh process; the peak resident memory of that process (``ru_maxrss``) is reported
after rendering, next to the peak before it (after one frame was rendered, so that the OpenGL
context and the renderer's buffers count as before). The
baseline's ``ddpg_tutorial`` is extracted from git into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from revision import REPO, extract_package, run_probe

PROBE = r'''
import json, resource, sys, tempfile
import numpy as np
from ddpg_tutorial.envs import make_env
from ddpg_tutorial.render import render_gif
env = make_env("HalfCheetah-v5", render_mode="rgb_array")
env.reset(seed=0)
env.render()  # the renderer's own buffers and OpenGL context count before, not after
env.close()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rng = np.random.default_rng(0)
policy = lambda obs: rng.uniform(-1, 1, 6).astype(np.float32)
with tempfile.TemporaryDirectory() as tmp:
    render_gif(policy, "HalfCheetah-v5", f"{tmp}/cheetah.gif")
    gif_mb = __import__("os").path.getsize(f"{tmp}/cheetah.gif") / 1e6
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_before_mb": before / 1024, "peak_after_mb": after / 1024,
                  "rendering_mb": (after - before) / 1024, "gif_mb": gif_mb}))
'''


def measure(root: Path) -> dict:
    return run_probe(PROBE, root, MUJOCO_GL="egl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="49399af", help="git revision to compare with")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        baseline = extract_package(args.baseline, tmp)
        for name, root in ((args.baseline, baseline), ("current", REPO)):
            results[name] = measure(root)
            print(f"{name:8s} " + ", ".join(f"{k} {v:.1f}" for k, v in results[name].items()),
                  flush=True)
    (REPO / "benchmarks/results/render_memory.json").write_text(
        json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
