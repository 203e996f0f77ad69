"""Many runs at once: a grid of configurations times seeds, each run a process of its own.

The configurations are algorithms, presets and field overrides; each run is a
``ddpg-tutorial train`` process on one thread, in its own folder.

A sweep folder holds ``sweep.json`` (what was asked), one folder per configuration and seed
(``GROUP/seedN/``, a normal training run) and ``summary.csv`` (one row per run). Running the
same sweep again skips the runs that finished and resumes the interrupted ones exactly, so a
sweep that was stopped (Ctrl-C, a killed machine) continues where it was.
"""

from __future__ import annotations

import argparse
import csv
import ctypes
import io
import itertools
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ddpg_tutorial.config import Config, get_preset
from ddpg_tutorial.errors import DDPGError
from ddpg_tutorial.files import FolderLock, atomic_write, make_folder
from ddpg_tutorial.run_folder import (
    CONFIG_FILE,
    EVALUATIONS_FILE,
    STATE_FILE,
    is_finished,
    read_evaluations,
    saved_code_digest,
)
from ddpg_tutorial.source import code_digest

SWEEP_FILE = "sweep.json"
SUMMARY_FILE = "summary.csv"
LOG_FILE = "train.log"
PROGRESS_S = 2.0  #: how often the progress bar reads the runs' evaluations
SUMMARY_COLUMNS = [
    "group",
    "algorithm",
    "preset",
    "overrides",
    "seed",
    "env_id",
    "status",
    "env_steps",
    "final_return",
    "steps_to_threshold",
    "wall_to_threshold_s",
    "wall_s",
    "train_to_threshold_s",
    "train_s",
    "code",
    "folder",
]


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: a configuration (its ``group``) and a seed."""

    env_id: str
    algorithm: str
    preset: str
    overrides: tuple[tuple[str, Any], ...]  #: (field, value) pairs, in the order given
    seed: int
    group: str  #: the configuration's name, the folder its seeds share

    def config(self) -> Config:
        """The run's hyperparameters: the preset with the overrides (validated)."""
        return get_preset(self.preset, self.algorithm).replace(**dict(self.overrides))

    def folder(self, out: Path) -> Path:
        return out / self.group / f"seed{self.seed}"

    def record(self) -> dict[str, Any]:
        """What the run's ``config.json`` holds, but for the code digest."""
        return {
            "env_id": self.env_id,
            "algorithm": self.algorithm,
            "seed": self.seed,
            **self.config().to_dict(),
        }

    def train_command(self, out: Path) -> list[str]:
        """The ``ddpg-tutorial train`` arguments that start (or resume) this run."""
        folder = self.folder(out)
        if (folder / STATE_FILE).is_file():
            return ["train", "--resume", str(folder), "--no-progress", "--no-gif", "--threads", "1"]
        sets = [
            arg for field, value in self.overrides for arg in ("--set", f"{field}={_text(value)}")
        ]
        # --overwrite: whatever is in the folder is a run that died before saving anything.
        return [
            "train",
            "--env",
            self.env_id,
            "--algo",
            self.algorithm,
            "--preset",
            self.preset,
            "--seed",
            str(self.seed),
            *sets,
            "--out",
            str(folder),
            "--overwrite",
            "--no-progress",
            "--no-gif",
            "--threads",
            "1",
        ]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def make_grid(
    env_id: str,
    algorithms: Sequence[str],
    presets: Sequence[str],
    overrides: dict[str, list[Any]],
    seeds: Sequence[int],
) -> list[RunSpec]:
    """Every combination of algorithm, preset and override values, times every seed. A field
    with several values is an axis of the grid and appears in the group's name
    (``td3-fast-tau=0.01``); a field with one value applies to every run and does not.
    Every configuration is validated first, and one that repeats an earlier one (``--algo
    ddpg ddpg``, ``tau=0.01,0.010``) is refused: its seeds would train twice in one folder
    and count twice (a one-line :class:`~ddpg_tutorial.errors.DDPGError` either way)."""
    if not seeds:
        raise DDPGError("the sweep has no seeds; give some with --seeds, e.g. --seeds 100-109")
    axes = [field for field, values in overrides.items() if len(values) > 1]
    specs: list[RunSpec] = []
    configs: dict[str, Config] = {}
    for algorithm, preset, values in itertools.product(
        algorithms, presets, itertools.product(*overrides.values())
    ):
        chosen = tuple(zip(overrides, values))
        name = "-".join([algorithm, preset, *(f"{f}={_text(v)}" for f, v in chosen if f in axes)])
        group_specs = [RunSpec(env_id, algorithm, preset, chosen, seed, name) for seed in seeds]
        config = group_specs[0].config()  # raises DDPGError naming the field if invalid
        _check_new_configuration(name, config, configs)
        configs[name] = config
        specs += group_specs
    return specs


def _check_new_configuration(name: str, config: Config, earlier: dict[str, Config]) -> None:
    """Refuse a configuration (or a group name) that the grid already holds."""
    same = next((n for n, c in earlier.items() if n == name or c == config), None)
    if same == name:
        raise DDPGError(
            f"the grid holds the configuration '{name}' twice (after parsing the "
            "values); give each --algo, --preset and --set value once"
        )
    if same is not None:
        raise DDPGError(
            f"the grid's configurations '{same}' and '{name}' are the same after "
            "parsing the values; give each --algo, --preset and --set value once"
        )


def parse_seeds(text: str) -> list[int]:
    """``"100-109"``, ``"0,1,2"`` or a mix (``"0-2,7"``) as a list of seeds."""
    seeds = []
    for part in text.split(","):
        first, sep, last = part.strip().partition("-")
        try:
            low, high = (int(first), int(last)) if sep else (int(first), int(first))
        except ValueError:
            raise DDPGError(
                f"--seeds takes numbers and ranges such as 100-109 or 0,1,2; got '{text}'"
            ) from None
        if high < low:
            raise DDPGError(
                f"--seeds has a reversed range '{part.strip()}'; write it "
                f"low-high, e.g. {high}-{low}"
            )
        seeds += list(range(low, high + 1))
    if len(set(seeds)) != len(seeds):
        raise DDPGError(f"--seeds lists a seed twice: '{text}'")
    return seeds


# The state of a run folder ------------------------------------------------------------------


def _check_same_config(spec: RunSpec, out: Path, code: str) -> None:
    path = spec.folder(out) / CONFIG_FILE
    if not path.is_file():
        return
    saved = json.loads(path.read_text())
    wanted = spec.config().to_dict()
    if any(saved.get(k) != v for k, v in wanted.items()) or saved.get("env_id") != spec.env_id:
        raise DDPGError(
            f"'{path.parent}' holds a run of another configuration than this "
            "sweep's; choose another --out, or delete that folder"
        )
    if saved.get("code") != code:  # kept, it would mix two versions of the code in one sweep
        raise DDPGError(
            f"'{path.parent}' holds a run made by other library code (digest "
            f"{saved.get('code')}, now {code}); choose another --out, or "
            "delete that folder to train it again"
        )


# Running ------------------------------------------------------------------------------------

PR_SET_PDEATHSIG = 1  #: from <linux/prctl.h>


class SweepStopped(KeyboardInterrupt):
    """A sweep stopped by a signal (``signum``: SIGINT, or SIGTERM), its running runs saved."""

    def __init__(self, signum: int) -> None:
        self.signum = signal.Signals(signum)
        super().__init__(self.signum.name)


def _end_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has a run's process get SIGTERM when its sweep dies (Linux only).

    The kernel sends it however the sweep dies, SIGKILL included, so that a run never outlives
    its sweep (``prctl(PR_SET_PDEATHSIG)``). None elsewhere, where the run folder's lock still
    keeps a second process out of the folder.

    The signal comes when the *thread* that forked the child ends; the sweep's threads wait for
    their runs and end only with the sweep. SIGTERM, as on a Ctrl-C: the run finishes its
    episode and saves its state, for the same sweep command to resume. A sweep killed outright
    ends its threads one by one, and the kernel signals the run at each hand-over; once its
    parent is gone, the run takes the repeats as one (``cmd_train``).
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork, not after
    parent = os.getpid()

    def preexec() -> None:  # in the child, between fork and exec: nothing that can block
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # the sweep died before prctl: no signal will come
            os._exit(128 + signal.SIGTERM)

    return preexec


class _Runner:
    """Runs training processes, ``jobs`` at a time; on Ctrl-C or SIGTERM, passes the signal
    once to every running run (each finishes its episode and saves its state) and starts no
    more. A run gets SIGTERM too when the sweep dies (on Linux; :func:`_end_with_parent`)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.running: set[subprocess.Popen] = set()
        self.lock = threading.Lock()
        self.signal: int | None = None
        self.preexec = _end_with_parent()

    def stop(self, signum: int, _frame: object = None) -> None:
        first = self.signal is None
        self.signal = signum
        with self.lock:
            for process in self.running:
                process.send_signal(signum)  # a second signal stops a run at once
        if first:
            print(
                f"\n{signal.Signals(signum).name}: the running runs finish their episode "
                "and save; run the same command again to continue",
                file=sys.stderr,
            )

    def run(self, spec: RunSpec) -> str:
        folder = spec.folder(self.out)
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "ddpg_tutorial", *spec.train_command(self.out)]
        with open(folder / LOG_FILE, "ab") as log:
            with self.lock:
                if self.signal is not None:
                    return "not started"
                # A session of its own: a Ctrl-C in the terminal reaches only the sweep, which
                # passes it on once (two would stop the run before it saves).
                # preexec_fn with threads: safe here, it calls no Python code that locks.
                process = subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=self.preexec,
                )  # noqa: PLW1509
                self.running.add(process)
            code = process.wait()
        with self.lock:
            self.running.discard(process)
        if code == 0:
            return "finished"
        return "stopped" if self.signal is not None else "failed"


def sweep(
    specs: Sequence[RunSpec],
    out: str | Path,
    jobs: int | None = None,
    threshold: float | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run every spec not finished yet in ``out``, ``jobs`` processes at a time (default: one
    per core), then write ``summary.csv``; return its rows. ``threshold``: a return whose
    first reaching (steps and wall time) the summary records, e.g. -200 on Pendulum-v1.

    Raises :class:`~ddpg_tutorial.errors.DDPGError` if ``specs`` list a run twice or another
    process trains in a run's folder (before anything starts), or if a run failed (its
    ``train.log`` says why), and :class:`SweepStopped` (a :class:`KeyboardInterrupt`) after a
    Ctrl-C or SIGTERM, once the running runs saved."""
    out = Path(out)
    if len({(spec.group, spec.seed) for spec in specs}) < len(specs):
        raise DDPGError(
            "the sweep lists a run (configuration and seed) twice; give each once, "
            "so that two processes never train one folder"
        )
    if out.exists() and not out.is_dir():
        raise DDPGError(f"--out '{out}' is a file, not a folder; give the sweep a folder")
    jobs = available_cores() if jobs is None else jobs
    if jobs <= 0:
        raise DDPGError(f"--jobs must be a positive integer, got {jobs}")
    code = code_digest()
    for spec in specs:
        _check_same_config(spec, out, code)
        FolderLock(spec.folder(out)).check_free()  # the same sweep, running already
    make_folder(out)
    _write_sweep_file(out, specs, threshold)
    todo = [spec for spec in specs if not is_finished(spec.folder(out))]
    runner = _Runner(out)
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {s: signal.signal(s, runner.stop) for s in (signal.SIGINT, signal.SIGTERM)}
    failed = []
    totals = [spec.config().total_steps for spec in specs]
    try:
        with (
            tqdm(
                total=sum(totals),
                initial=steps_done(specs, out, totals),
                unit="step",
                unit_scale=True,
                disable=not progress,
                dynamic_ncols=True,
            ) as bar,
            ThreadPoolExecutor(jobs) as pool,
        ):
            futures = {pool.submit(runner.run, spec): spec for spec in todo}
            finished = len(specs) - len(todo)
            pending = set(futures)
            while pending:
                bar.set_postfix_str(f"{finished}/{len(specs)} runs finished", refresh=False)
                bar.update(steps_done(specs, out, totals) - bar.n)
                done, pending = wait(pending, timeout=PROGRESS_S, return_when=FIRST_COMPLETED)
                for future in done:
                    status = future.result()
                    finished += status == "finished"
                    if status == "failed":
                        failed.append(futures[future])
            bar.set_postfix_str(f"{finished}/{len(specs)} runs finished", refresh=False)
            bar.update(steps_done(specs, out, totals) - bar.n)
    finally:
        for s, handler in handlers.items():
            signal.signal(s, handler)
    rows = summarise(specs, out, threshold, failed)
    if runner.signal is not None:
        raise SweepStopped(runner.signal)
    if failed:
        raise DDPGError(
            f"{len(failed)} of {len(specs)} runs failed; see {failed[0].folder(out) / LOG_FILE}"
            + (" and the others' train.log" if len(failed) > 1 else "")
        )
    return rows


def steps_done(specs: Sequence[RunSpec], out: Path, totals: Sequence[int]) -> int:
    """Environment steps the runs in ``out`` have done, as far as their files say: a finished
    run's all (``totals``, one per spec), another's up to its last evaluation."""
    done = 0
    for spec, total in zip(specs, totals):
        folder = spec.folder(out)
        if is_finished(folder):
            done += total
        elif (folder / EVALUATIONS_FILE).is_file():
            try:
                rows = read_evaluations(folder)
            except (OSError, ValueError):  # being replaced right now: counted next time
                continue
            done += int(rows[-1]["env_steps"]) if rows else 0
    return done


def available_cores() -> int:
    """The number of cores this process may run on (its CPU affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _write_sweep_file(
    out: Path,
    specs: Sequence[RunSpec],
    threshold: float | None,
    descriptions: Mapping[str, str] | None = None,
) -> None:
    """``sweep.json``: the sweep's threshold, seeds and groups (with a description where
    ``descriptions`` has one)."""
    described = descriptions or {}
    groups = {
        spec.group: {
            "env_id": spec.env_id,
            "algorithm": spec.algorithm,
            "preset": spec.preset,
            "overrides": dict(spec.overrides),
            **({"description": described[spec.group]} if spec.group in described else {}),
        }
        for spec in specs
    }
    data = {
        "env_id": specs[0].env_id,
        "threshold": threshold,
        "groups": groups,
        "seeds": sorted({spec.seed for spec in specs}),
    }
    text = json.dumps(data, indent=1) + "\n"
    atomic_write(out / SWEEP_FILE, lambda f: f.write(text.encode()))


# The summary --------------------------------------------------------------------------------


def summarise(
    specs: Sequence[RunSpec],
    out: str | Path,
    threshold: float | None = None,
    failed: Collection[RunSpec] = (),
) -> list[dict[str, Any]]:
    """One row per run (``SUMMARY_COLUMNS``), from the files in its folder; also written to
    ``out/summary.csv``. A run not finished has the status 'failed' (if in ``failed``),
    'interrupted' or 'not started', and the numbers of its last evaluation, if any."""
    out = Path(out)
    rows = []
    for spec in specs:
        folder = spec.folder(out)
        try:
            evaluations = read_evaluations(folder)
        except OSError:
            evaluations = []
        status = (
            "finished"
            if is_finished(folder)
            else "failed"
            if spec in failed
            else "interrupted"
            if (folder / STATE_FILE).exists()
            else "not started"
        )
        reached = next(
            (e for e in evaluations if threshold is not None and e["mean_return"] >= threshold),
            None,
        )
        last = evaluations[-1] if evaluations else None
        rows.append(
            {
                "group": spec.group,
                "algorithm": spec.algorithm,
                "preset": spec.preset,
                "overrides": json.dumps(dict(spec.overrides)),
                "seed": spec.seed,
                "env_id": spec.env_id,
                "status": status,
                "env_steps": int(last["env_steps"]) if last else 0,
                "final_return": last["mean_return"] if last else math.nan,
                "steps_to_threshold": int(reached["env_steps"]) if reached else "",
                "wall_to_threshold_s": reached["wall_time_s"] if reached else "",
                "wall_s": last["wall_time_s"] if last else math.nan,
                # training alone: no evaluations or saves (files from before 0.3 lack the column)
                "train_to_threshold_s": reached.get("train_time_s", "") if reached else "",
                "train_s": last.get("train_time_s", math.nan) if last else math.nan,
                "code": saved_code_digest(folder),
                "folder": folder.relative_to(out).as_posix(),
            }
        )
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, SUMMARY_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(out / SUMMARY_FILE, lambda f: f.write(text.getvalue().encode()))
    return rows


#: What :func:`keep_results` keeps of each run.
KEPT_FILES = (CONFIG_FILE, EVALUATIONS_FILE, "losses.csv")


def keep_results(specs: Sequence[RunSpec], out: str | Path, dest: str | Path) -> None:
    """Copy what the statistics of a sweep need from ``out`` to ``dest``: ``summary.csv``,
    ``sweep.json`` and each run's :data:`KEPT_FILES` (no checkpoints, no replay), small
    enough for version control. The folders of the specs' groups in ``dest`` are replaced."""
    out, dest = Path(out), Path(dest)
    for group in {spec.group for spec in specs}:
        shutil.rmtree(dest / group, ignore_errors=True)
    for spec in specs:
        spec.folder(dest).mkdir(parents=True)
        for name in KEPT_FILES:
            shutil.copyfile(spec.folder(out) / name, spec.folder(dest) / name)
    for name in (SUMMARY_FILE, SWEEP_FILE):
        shutil.copyfile(out / name, dest / name)


@dataclass(frozen=True)
class TrainerChange:
    """What a script changes in a new run's trainer that no config field describes (a bug put
    in, an ingredient taken out), for one group of a kept sweep."""

    description: str  #: what the change is, recorded in ``sweep.json``
    apply: Callable[[Any], None]  #: called with the new :class:`.Trainer` before it trains


def train_changed(
    specs: Sequence[RunSpec], out: str | Path, changes: Mapping[str, TrainerChange]
) -> None:
    """Train in this process, one after another, each run of ``specs`` not finished in
    ``out``, its trainer changed by ``changes[spec.group]`` before it starts. The change is
    not part of a run's saved state, so an unfinished run starts again from nothing."""
    from ddpg_tutorial.training import Trainer  # here: the sweep itself runs without PyTorch

    out = Path(out)
    for spec in specs:
        folder = spec.folder(out)
        if is_finished(folder):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        print(f"training {folder.relative_to(out)} in this process", flush=True)
        trainer = Trainer(
            spec.env_id, spec.config(), seed=spec.seed, out_dir=folder, progress=False
        )
        changes[spec.group].apply(trainer)
        trainer.run()


def make_kept_sweep(
    description: str,
    specs: Sequence[RunSpec],
    dest: str | Path,
    default_work: str | Path,
    threshold: float | None = None,
    argv: Sequence[str] | None = None,
    changes: Mapping[str, TrainerChange] | None = None,
) -> Path:
    """The command line of a script that makes a sweep kept under version control (the book's
    stored runs): ``--work DIR`` (default ``default_work``) is the sweep folder the runs train
    in, ``--jobs N`` the runs at a time. Runs :func:`sweep` there (a stopped script continues),
    then :func:`keep_results` into ``dest``. The runs of the groups in ``changes`` train after
    the others, in this process and on one thread, with their change (:func:`train_changed`);
    ``sweep.json`` then records each change's description. Returns the sweep folder, whose
    runs still have their agents (for measurements a script adds to the kept results)."""
    changes = dict(changes or {})
    changed = [spec for spec in specs if spec.group in changes]
    plain = [spec for spec in specs if spec.group not in changes]
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(default_work),
        help="the sweep folder the runs train in (default: %(default)s)",
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="runs at a time (default: one per core)"
    )
    args = parser.parse_args(argv)
    print(f"code digest {code_digest()}; training in {args.work}", flush=True)
    if plain:
        sweep(plain, args.work, args.jobs, threshold=threshold)
    if changed:
        import torch  # here: the sweep itself runs without PyTorch

        torch.set_num_threads(1)  # as the sweep's processes (--threads 1)
        train_changed(changed, args.work, changes)
        rows = summarise(specs, args.work, threshold)
        unfinished = [row["folder"] for row in rows if row["status"] != "finished"]
        if unfinished:
            raise DDPGError(
                f"runs not finished: {unfinished}; run the script again to go on with them"
            )
        descriptions = {group: change.description for group, change in changes.items()}
        _write_sweep_file(Path(args.work), specs, threshold, descriptions)
    keep_results(specs, args.work, dest)
    print(f"wrote {len(specs)} runs into {dest}")
    return Path(args.work)
