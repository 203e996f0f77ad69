"""The files of a run folder, and what they say, read without loading PyTorch.

``ddpg-tutorial train`` writes a run into one folder (the README lists its files); the sweep,
the report and the command line read those files through these names and functions, so that
commands that only read (``report``) start without PyTorch.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

AGENT_FILE = "agent.pt"
CONFIG_FILE = "config.json"
STATE_FILE = "training_state.pt"
REPLAY_DIR = "replay"
EVALUATIONS_FILE = "evaluations.csv"


def read_evaluations(folder: str | Path) -> list[dict[str, float]]:
    """The rows of a run's ``evaluations.csv`` as numbers."""
    with open(Path(folder) / EVALUATIONS_FILE, newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def is_finished(folder: str | Path) -> bool:
    """Whether the run in ``folder`` trained all its steps (``config.json``'s ``total_steps``)."""
    folder = Path(folder)
    try:
        total = json.loads((folder / CONFIG_FILE).read_text())["total_steps"]
        rows = read_evaluations(folder)
    except (OSError, ValueError, KeyError):
        return False
    return (folder / AGENT_FILE).is_file() and bool(rows) and rows[-1]["env_steps"] >= total


def saved_code_digest(folder: str | Path) -> str:
    """The code digest the ``config.json`` of the run in ``folder`` records ('' if none)."""
    try:
        return json.loads((Path(folder) / CONFIG_FILE).read_text()).get("code", "")
    except (OSError, ValueError):
        return ""
