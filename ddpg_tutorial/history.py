"""What a training run records: episodes, greedy evaluations and losses."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ddpg_tutorial.files import atomic_write


class EpisodeRecord(NamedTuple):
    """One training episode (a row of ``episodes.csv``)."""

    env_steps: int  #: environment steps taken when the episode ended
    episode_return: float  #: the sum of the episode's rewards
    length: int  #: the episode's number of steps


class EvalRecord(NamedTuple):
    """One greedy evaluation over fixed seeds (a row of ``evaluations.csv``)."""

    env_steps: int  #: environment steps taken when the evaluation ran
    wall_time_s: float  #: seconds since training started
    mean_return: float  #: the mean return of the evaluation episodes
    std_return: float  #: the standard deviation of those returns
    #: the critic's mean estimate of the value of the episodes' start states, Q(s0, mu(s0))
    q_estimate: float = math.nan
    #: the mean discounted return the greedy policy obtained from those start states
    discounted_return: float = math.nan
    #: seconds spent training (acting, environment steps, updates) since the run started:
    #: ``wall_time_s`` less the evaluations and saves before this one
    train_time_s: float = math.nan


class LossRecord(NamedTuple):
    """What one episode's updates measured (:class:`~ddpg_tutorial.agent.UpdateMetrics` or
    its TD3 and SAC counterparts), each averaged over the updates that measured it."""

    env_steps: int  #: environment steps taken when the episode ended
    means: dict[str, float]  #: metric name (critic_loss, actor_loss, mean_q, ...) -> mean


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
        """Write ``evaluations.csv``, ``episodes.csv`` and ``losses.csv`` into ``out_dir``,
        each atomically. ``losses.csv`` has a column for every metric the updates measured,
        empty where an episode's updates did not measure it."""
        out_dir = Path(out_dir)
        _write(
            out_dir / "evaluations.csv",
            [
                "env_steps",
                "wall_time_s",
                "mean_return",
                "std_return",
                "q_estimate",
                "discounted_return",
                "train_time_s",
            ],
            self.evaluations,
        )
        _write(out_dir / "episodes.csv", ["env_steps", "return", "length"], self.episodes)
        names = list(dict.fromkeys(name for r in self.losses for name in r.means))
        _write(
            out_dir / "losses.csv",
            ["env_steps", *names],
            [(r.env_steps, *(r.means.get(name, "") for name in names)) for r in self.losses],
        )

    def state_dict(self) -> dict:
        return {
            "episodes": [tuple(r) for r in self.episodes],
            "evaluations": [tuple(r) for r in self.evaluations],
            "losses": [tuple(r) for r in self.losses],
        }

    @classmethod
    def from_state_dict(cls, state: dict) -> History:
        return cls(
            [EpisodeRecord(*r) for r in state["episodes"]],
            [EvalRecord(*r) for r in state["evaluations"]],
            [_loss_record(r) for r in state["losses"]],
        )


def _loss_record(row: tuple) -> LossRecord:
    """A saved loss record; version 0.1.0 saved DDPG's three metrics in a row."""
    if len(row) == 2 and isinstance(row[1], dict):
        return LossRecord(*row)
    return LossRecord(row[0], dict(zip(("critic_loss", "actor_loss", "mean_q"), row[1:])))


def _write(path: Path, header: Sequence[str], rows: Sequence[tuple]) -> None:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    atomic_write(path, lambda f: f.write(text.getvalue().encode()))
