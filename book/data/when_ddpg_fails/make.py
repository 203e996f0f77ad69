"""The stored runs of the chapter "When DDPG fails" (book/10_when_ddpg_fails.ipynb).

Run from the repository root (about half an hour of training, one run at a time):

    .venv/bin/python book/data/when_ddpg_fails/make.py

It trains three configurations of DDPG on Pendulum-v1, each on the seeds 200-209 (held out:
the presets were tuned and chosen, and the other chapters train, on other seeds), every run the `fast`
preset's 10,000 steps:

- ``ddpg-fast``: the library as it is, through the sweep API; the same runs as
  ``ddpg-tutorial sweep --env Pendulum-v1 --preset fast --seeds 200-209 --threshold -200
  --jobs 1 --out runs/when_ddpg_fails``;
- ``ddpg-fast-unscaled-tanh``: the actor's tanh not scaled to the action bounds, so that its
  actions stay in [-1, 1] while Pendulum's torque goes from -2 to 2 (:func:`unscale_actor`);
- ``ddpg-fast-truncation-as-termination``: the time limit's truncation reported as a
  termination, so that the last transition of every episode is stored with d = 1
  (:class:`TruncationAsTermination`).

The two bugs are code, not config fields, so those runs go through the Python API
(:func:`make_trainer`) instead of the sweep's ``ddpg-tutorial train`` processes; they write
the same files. Everything trains in ``runs/when_ddpg_fails/`` (``--work``), a sweep folder: a
make.py that was stopped continues there. Then only the small files are copied into this
folder (``keep_results``): ``sweep.json``, ``summary.csv``, and each run's ``config.json``,
``evaluations.csv`` and ``losses.csv``. The chapter computes every statistic from them.

``tests/test_book_data.py`` fails when the
library no longer trains the first updates of each configuration's first seed as stored, or
when the runs are not what :func:`planned_runs` asks for now (a changed preset); then run this script
again.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import torch

from ddpg_tutorial import Trainer, get_preset
from ddpg_tutorial.files import atomic_write
from ddpg_tutorial.source import code_digest
from ddpg_tutorial.sweep import (SWEEP_FILE, RunSpec, is_finished, keep_results, make_grid,
                                 summarise, sweep)

HERE = Path(__file__).resolve().parent
ENV_ID = "Pendulum-v1"
PRESET = "fast"
SEEDS = tuple(range(200, 210))
THRESHOLD = -200.0


# The two bugs ------------------------------------------------------------------------------

def unscale_actor(trainer: Trainer) -> None:
    """Make the actor's output a bare tanh, in [-1, 1]: centre 0 and half-range 1 instead of
    the bounds' (for Pendulum, 0 and 2), in the actor and its target. Exploration noise is
    still scaled by the true half-range and clipped to the true bounds."""
    for actor in (trainer.agent.actor, trainer.agent.actor_target):
        actor.action_center.zero_()
        actor.action_half_range.fill_(1.0)


class TruncationAsTermination(gym.Wrapper):
    """Report the end of every episode, a time limit's truncation included, as a
    termination: ``terminated = terminated or truncated``."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated or truncated, truncated, info


def truncation_as_termination(trainer: Trainer) -> None:
    """Wrap the training environment (not the evaluation's) in
    :class:`TruncationAsTermination`."""
    trainer.env = TruncationAsTermination(trainer.env)


#: Each bug's group name and the change it makes to a new trainer.
BUGS: dict[str, Callable[[Trainer], None]] = {
    "ddpg-fast-unscaled-tanh": unscale_actor,
    "ddpg-fast-truncation-as-termination": truncation_as_termination,
}
#: What each group is, for sweep.json.
DESCRIPTIONS = {
    "ddpg-fast": "the library as it is",
    "ddpg-fast-unscaled-tanh": "the actor's tanh not scaled to the action bounds: actions in "
                               "[-1, 1] instead of [-2, 2]",
    "ddpg-fast-truncation-as-termination": "the time limit's truncation stored as a "
                                           "termination (d = 1) in the replay buffer",
}


def make_trainer(group: str, seed: int, out_dir: str | Path | None = None,
                 total_steps: int | None = None) -> Trainer:
    """A trainer of ``group`` (a key of :data:`BUGS`) on Pendulum-v1 with the fast preset, with
    the bug put in; ``total_steps`` shortens the run (the chapter's live demonstrations)."""
    config = get_preset(PRESET)
    if total_steps is not None:
        config = config.replace(total_steps=total_steps)
    trainer = Trainer(ENV_ID, config, seed=seed, out_dir=out_dir, progress=False)
    BUGS[group](trainer)
    return trainer


# The plan ----------------------------------------------------------------------------------

def baseline_specs() -> list[RunSpec]:
    """The runs of the library as it is, as a sweep."""
    return make_grid(ENV_ID, ["ddpg"], [PRESET], {}, SEEDS)


def bug_specs() -> list[RunSpec]:
    """The runs with a bug, as run specs of the fast preset (for :func:`summarise`)."""
    return [RunSpec(ENV_ID, "ddpg", PRESET, (), seed, group) for group in BUGS for seed in SEEDS]


def planned_runs() -> dict[str, dict]:
    """Every run this script makes: its folder, relative to this one, and what its
    ``config.json`` holds, but for the code digest."""
    return {spec.folder(Path(".")).as_posix(): spec.record()
            for spec in baseline_specs() + bug_specs()}


def sweep_description() -> dict:
    """``sweep.json``: the sweep's own fields, and a description of each group."""
    groups = {group: {"algorithm": "ddpg", "preset": PRESET, "overrides": {},
                      "description": text} for group, text in DESCRIPTIONS.items()}
    return {"env_id": ENV_ID, "threshold": THRESHOLD, "groups": groups, "seeds": list(SEEDS),
            "made_by": "book/data/when_ddpg_fails/make.py"}


# Running -----------------------------------------------------------------------------------

def train_bugs(work: Path) -> None:
    """Train every run with a bug that has not finished in ``work``, one after another."""
    for spec in bug_specs():
        folder = spec.folder(work)
        if is_finished(folder):
            continue
        shutil.rmtree(folder, ignore_errors=True)  # an unfinished run starts again
        print(f"training {folder.relative_to(work)}", flush=True)
        make_trainer(spec.group, spec.seed, out_dir=folder).run()


def write_sweep_description() -> None:
    """Replace the kept ``sweep.json`` by one that describes each group."""
    text = json.dumps(sweep_description(), indent=1) + "\n"
    atomic_write(HERE / SWEEP_FILE, lambda f: f.write(text.encode()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("runs/when_ddpg_fails"),
                        help="the sweep folder the runs train in (default: %(default)s)")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the sweep's processes (--threads 1)
    print(f"code digest {code_digest()}; training in {args.work}", flush=True)
    sweep(baseline_specs(), args.work, jobs=1, threshold=THRESHOLD, progress=False)
    train_bugs(args.work)
    # The summary of all three groups, while every run still has its agent.pt (finished).
    rows = summarise(baseline_specs() + bug_specs(), args.work, THRESHOLD)
    unfinished = [row["folder"] for row in rows if row["status"] != "finished"]
    if unfinished:
        sys.exit(f"runs not finished: {unfinished}")
    keep_results(baseline_specs() + bug_specs(), args.work, HERE)
    write_sweep_description()
    print(f"wrote {len(rows)} runs into {HERE}")


if __name__ == "__main__":
    main()
