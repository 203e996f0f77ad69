"""Helpers for benchmarks that measure this checkout against an earlier git revision: the
revision's ``ddpg_tutorial`` in a folder of its own, and a probe run in a fresh process with a
given version of the package first on its path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def extract_package(revision: str, folder: str | Path) -> Path:
    """Write ``revision``'s ``ddpg_tutorial/`` into ``folder``; return ``folder``."""
    archive = subprocess.run(["git", "archive", revision, "ddpg_tutorial"], cwd=REPO,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return Path(folder)


def run_probe(probe: str, package_root: Path, *args: str, **env: str) -> dict:
    """Run the Python code ``probe`` in a fresh process that imports ``ddpg_tutorial`` from
    ``package_root``; return the JSON object it prints last. A failure ends the benchmark."""
    out = subprocess.run([sys.executable, "-c", probe, *args], cwd=package_root,
                         env={"PYTHONPATH": str(package_root), "PATH": "/usr/bin:/bin", **env},
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"the measurement failed in {package_root}:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])
