"""What a training run records: episodes, greedy evaluations and losses."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


class EpisodeRecord(NamedTuple):
    env_steps: int  # environment steps taken when the episode ended
    episode_return: float
    length: int


class EvalRecord(NamedTuple):
    env_steps: int
    wall_time_s: float  # seconds since training started
    mean_return: float
    std_return: float


class LossRecord(NamedTuple):
    env_steps: int  # averages over the updates of the episode that ended here
    critic_loss: float
    actor_loss: float
    mean_q: float


@dataclass
class History:
    """Lists of records, appended to as training goes."""

    episodes: list[EpisodeRecord] = field(default_factory=list)
    evaluations: list[EvalRecord] = field(default_factory=list)
    losses: list[LossRecord] = field(default_factory=list)

    def steps_to_reach(self, threshold: float) -> int | None:
        """Environment steps at the first evaluation whose mean return >= ``threshold``."""
        for record in self.evaluations:
            if record.mean_return >= threshold:
                return record.env_steps
        return None

    def write_csv(self, out_dir: str | Path) -> None:
        """Write ``evaluations.csv`` and ``episodes.csv`` into ``out_dir``."""
        out_dir = Path(out_dir)
        _write(out_dir / "evaluations.csv",
               ["env_steps", "wall_time_s", "mean_return", "std_return"], self.evaluations)
        _write(out_dir / "episodes.csv", ["env_steps", "return", "length"], self.episodes)

    def state_dict(self) -> dict:
        return {"episodes": [tuple(r) for r in self.episodes],
                "evaluations": [tuple(r) for r in self.evaluations],
                "losses": [tuple(r) for r in self.losses]}

    @classmethod
    def from_state_dict(cls, state: dict) -> History:
        return cls([EpisodeRecord(*r) for r in state["episodes"]],
                   [EvalRecord(*r) for r in state["evaluations"]],
                   [LossRecord(*r) for r in state["losses"]])


def _write(path: Path, header: list[str], rows: list[tuple]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
