"""Hyperparameter search with Optuna: which config fields make runs learn fastest.

A trial trains one config on every tuning seed, one after another, and scores it by one of
:data:`OBJECTIVES`. ``area``, the area under its greedy-evaluation curve (the mean return over
all the periodic evaluations of all seeds), rewards learning early and staying learned, not one
lucky final evaluation; after each evaluation the trial reports the mean of the returns so far,
and the median pruner stops a trial that is below the median of the complete ones at the same
point of the (shared) schedule. ``seconds``, the training seconds to a greedy return at a
threshold (a run that never gets there counts twice its seconds), rewards configurations that
are cheap as well as sample-efficient; its runs stop at the threshold. ``both`` is a
multi-objective study of the two, whose result is a Pareto front rather than one best trial.

A study lives in a database: a SQLite file by default, or any SQLAlchemy URL such as
``postgresql://user:password@host/db``, which lets workers on many machines share one study.
Every worker, a local process or another machine, runs the same :func:`tune` call; together
they stop at ``trials`` finished (complete or pruned) trials, and the same call run again
continues an interrupted study. A worker that dies mid-trial stops writing heartbeats: after a
grace period its trial is failed and queued again, with the same parameters.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shlex
import socket
import sys
import time
import warnings
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import sqlalchemy.exc
import torch
from tqdm import TqdmWarning, tqdm

with warnings.catch_warnings():  # Optuna imports tqdm.auto, which warns in a Jupyter kernel
    warnings.simplefilter("ignore", TqdmWarning)  # without ipywidgets; nothing here uses it
    import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.trial import FrozenTrial, TrialState

from ddpg_tutorial.algorithms import config_from_dict
from ddpg_tutorial.config import Config, get_preset
from ddpg_tutorial.envs import check_env, make_env
from ddpg_tutorial.errors import DDPGError
from ddpg_tutorial.files import atomic_write
from ddpg_tutorial.history import History
from ddpg_tutorial.seeding import TUNE_EVAL_SEED_BASE
from ddpg_tutorial.training import Trainer
from ddpg_tutorial.tune_space import search_space

DEFAULT_STORAGE = "sqlite:///tune.db"  # in the current directory
HEARTBEAT_INTERVAL_S = 30  # a worker records that its running trial is alive this often
GRACE_PERIOD_S = 120  # a running trial without a heartbeat this long is failed and queued again
MAX_RETRIES = 2  # times one trial is queued again after its worker died
SQLITE_TIMEOUT_S = 60  # how long a SQLite writer waits for the other workers' locks
STORAGE_ATTEMPTS = 5  # times a worker tries to open a database that others are creating
POLL_S = 1.0  # how often an idle worker looks whether the others' last trials finished
PRUNER_STARTUP_TRIALS = 5  # complete trials before the median pruner prunes anything
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
#: What a trial can be scored by, and whether the study maximises (area) or minimises it.
OBJECTIVES: dict[str, Literal["maximize", "minimize"]] = {
    "area": "maximize",
    "seconds": "minimize",
}
NOT_REACHED_FACTOR = 2.0  #: a run that never reaches the threshold counts this x its seconds


def objectives(kind: str) -> list[str]:
    """The objectives a study of ``kind`` ('area', 'seconds' or 'both') scores trials by."""
    if kind == "both":
        return list(OBJECTIVES)
    if kind not in OBJECTIVES:
        raise DDPGError(f"unknown objective '{kind}'; choose area, seconds or both")
    return [kind]


def seconds_to(history: History, threshold: float) -> float:
    """Training seconds (evaluations and saves left out) until the first greedy evaluation at
    or above ``threshold``; a run that never got there counts :data:`NOT_REACHED_FACTOR` times
    all its training seconds."""
    for record in history.evaluations:
        if record.mean_return >= threshold:
            return record.train_time_s
    return NOT_REACHED_FACTOR * history.evaluations[-1].train_time_s


def objective(
    trial: optuna.Trial,
    env_id: str,
    base: Config,
    seeds: Sequence[int],
    kind: str = "area",
    threshold: float | None = None,
    pinned: Collection[str] = (),
    progress: bool = False,
) -> float | list[float]:
    """Train ``base`` changed by :func:`.search_space` on each seed in turn; return the trial's
    score: the mean greedy-evaluation return over all the evaluations of all the seeds
    (``area``), the mean over seeds of the training seconds to ``threshold``
    (:func:`seconds_to`, ``seconds``), or both in that order (``both``).

    ``area`` alone: after each evaluation, report the mean of every return so far at step
    ``seed index * evaluations per run + evaluation index``; once the pruner says so, stop the
    run at the end of its episode and raise :class:`optuna.TrialPruned`. ``seconds`` alone:
    a run stops at its first evaluation at the threshold. A config that fails validation is
    pruned at once; a diverged run raises :class:`.TrainingDiverged` (a failed trial). The user
    attributes keep the full config, the worker (host:pid) and any error message. The fields in
    ``pinned`` are not searched. ``progress`` draws a bar of the trial's steps, moved at each
    evaluation.
    """
    try:
        config = base.replace(**search_space(trial, base.algorithm, pinned))
    except DDPGError as error:
        trial.set_user_attr("error", f"config rejected: {error}")
        raise optuna.TrialPruned(f"config rejected: {error}") from None
    trial.set_user_attr("config", config.to_dict())
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    returns: list[float] = []
    seconds: list[float] = []
    pruned, offset = False, 0  # offset: the steps of the trial's runs before this one
    bar = tqdm(
        total=len(seeds) * config.total_steps,
        desc=f"trial {trial.number}",
        unit="step",
        leave=False,
        disable=not progress,
        dynamic_ncols=True,
    )

    def after_evaluation(history: History) -> bool:
        nonlocal pruned, offset
        bar.update(offset + history.evaluations[-1].env_steps - bar.n)
        returns.append(history.evaluations[-1].mean_return)
        if kind == "seconds":
            return threshold is not None and returns[-1] >= threshold
        if kind == "area":
            trial.report(float(np.mean(returns)), step=len(returns) - 1)
            pruned = pruned or trial.should_prune()
        return pruned

    with bar:
        for index, seed in enumerate(seeds):
            offset = index * config.total_steps
            trainer = Trainer(
                env_id, config, seed=seed, progress=False, eval_seed_base=TUNE_EVAL_SEED_BASE
            )
            try:
                history = trainer.run(stop_when=after_evaluation)
            except DDPGError as error:  # above all TrainingDiverged
                trial.set_user_attr("error", str(error))
                raise
            if pruned:
                raise optuna.TrialPruned(f"pruned after {len(returns)} evaluations")
            if threshold is not None:
                seconds.append(seconds_to(history, threshold))
            bar.update((index + 1) * config.total_steps - bar.n)  # a run stopped early
    if seconds:
        trial.set_user_attr("seconds_to_threshold", float(np.mean(seconds)))
    scores = {"area": float(np.mean(returns)), "seconds": float(np.mean(seconds or [np.nan]))}
    values = [scores[name] for name in objectives(kind)]
    return values[0] if len(values) == 1 else values


def tune(
    env_id: str,
    algorithm: str = "ddpg",
    preset: str = "fast",
    *,
    seeds: Sequence[int] = (0, 1, 2),
    trials: int = 50,
    storage: str = DEFAULT_STORAGE,
    study_name: str | None = None,
    jobs: int = 1,
    fixed: Mapping[str, Any] | None = None,
    sampler_seed: int | None = None,
    objective: str = "area",
    threshold: float | None = None,
    progress: bool = False,
) -> optuna.Study:
    """Search the hyperparameters of ``algorithm`` on ``env_id`` until the study in
    ``storage`` holds ``trials`` finished (complete or pruned) trials; return the study.

    Each trial tries :func:`.search_space` on the preset changed by ``fixed`` (any fields, such
    as ``total_steps``, or searched ones such as ``gamma``, which are then not searched), scored by
    :func:`objective` over ``seeds``. ``study_name`` defaults to ``ENV-ALGO-PRESET``; a study
    of that name in ``storage`` is continued (it must have been started with the same
    environment, seeds and base config). ``jobs`` local worker processes share the study, each
    with one PyTorch thread; workers on other machines join by running the same call with the
    same ``storage``. ``sampler_seed`` makes the TPE sampler's suggestions repeatable; each
    worker seeds its sampler from it, its index and the number of trials the study already had,
    so that neither the workers nor a continued study repeat suggestions. None (for workers on
    several machines) seeds each worker at random. ``objective`` is 'area', 'seconds' or
    'both' (:func:`objective`); the last two need ``threshold``, the greedy return that counts
    as solving the task. Prints one line per trial, with its parameters, and with
    ``progress`` a bar of each trial's steps; warns when the evaluations before the first
    update weigh a quarter or more of the area score.
    """
    objectives(objective)  # a known one
    if objective != "area" and threshold is None:
        raise DDPGError(
            f"the objective '{objective}' needs a threshold: the greedy return "
            "whose training seconds it measures"
        )
    if trials < 1 or jobs < 1 or not seeds:
        raise DDPGError(
            f"tuning needs trials >= 1, jobs >= 1 and a seed, got trials={trials}, "
            f"jobs={jobs}, seeds={list(seeds)}"
        )
    base = get_preset(preset, algorithm).replace(**(fixed or {}))
    if objective != "seconds":
        _warn_if_short(base)
    env = make_env(env_id)  # a clear error now, not a failure in every trial
    check_env(env, env_id)
    env.close()
    search = _Search(
        env_id,
        preset,
        base,
        tuple(seeds),
        trials,
        storage,
        study_name or f"{env_id}-{algorithm}-{preset}",
        objective,
        threshold,
        tuple(sorted(fixed or {})),
        progress,
    )
    with _quiet_optuna():
        study = search.open_study(0, sampler_seed)  # creates the tables before any worker
        finished = len(study.get_trials(deepcopy=False, states=FINISHED))
        if finished >= trials:
            print(
                f"study '{search.study_name}' already has {finished} finished trials (--trials "
                f"{trials}): nothing left to run; raise --trials to search further",
                flush=True,
            )
        elif jobs == 1:
            search.work(study)
        else:
            _run_workers(search, jobs, sampler_seed)
    return study


def _warn_if_short(config: Config) -> None:
    """Warn (stderr) when the evaluations made before the first update, at steps up to the
    warm-up, are a quarter or more of a run's evaluations: they score the random initial
    policy, which no hyperparameter changes."""
    evaluations = -(-config.total_steps // config.eval_every)
    before = min(config.warmup_steps // config.eval_every, evaluations)
    if before * 4 >= evaluations:
        print(
            f"warning: {before} of the {evaluations} evaluations of each run come before the "
            f"first update (warm-up {config.warmup_steps} steps), so they weigh "
            f"{before / evaluations:.0%} of the area score; raise --steps",
            file=sys.stderr,
        )


def best_trial(study: optuna.Study) -> FrozenTrial:
    """The best complete trial of ``study``; a :class:`.DDPGError` that counts the others when
    no trial completed (every finished one pruned, for example), or that says a study of two
    objectives has a front of best trials (:func:`pareto_front`)."""
    if len(study.directions) > 1:
        raise DDPGError(
            f"study '{study.study_name}' has two objectives: no one best trial, but a Pareto front"
        )
    try:
        return study.best_trial
    except ValueError:  # Optuna's "Record does not exist" or "No trials are completed yet"
        raise _no_complete_trial(study) from None


def _no_complete_trial(study: optuna.Study) -> DDPGError:
    count = Counter(trial.state for trial in study.get_trials(deepcopy=False))
    return DDPGError(
        f"study '{study.study_name}' has no complete trial, so no best "
        f"configuration ({count[TrialState.PRUNED]} pruned, "
        f"{count[TrialState.FAIL]} failed, {count[TrialState.RUNNING]} running)"
    )


def pareto_front(study: optuna.Study) -> list[FrozenTrial]:
    """The complete trials of a study of both objectives that no other trial beats on both
    (a higher area and fewer seconds), the fastest first."""
    front = [trial for trial in study.best_trials if trial.state == TrialState.COMPLETE]
    if not front:
        raise _no_complete_trial(study)
    return sorted(front, key=lambda trial: trial.values[1])


def best_config(study: optuna.Study) -> Config:
    """The config of the best complete trial of a study that :func:`tune` made."""
    return trial_config(study, best_trial(study))


def best_flags(study: optuna.Study, significant: int | None = None) -> list[str]:
    """``ddpg-tutorial train`` options that give the best trial's config
    (:func:`trial_flags`)."""
    return trial_flags(study, best_trial(study), significant)


def trial_config(study: optuna.Study, trial: FrozenTrial) -> Config:
    """The config that ``trial`` of a study that :func:`tune` made trained."""
    return config_from_dict(study.user_attrs["settings"]["algorithm"], trial.user_attrs["config"])


def trial_flags(
    study: optuna.Study, trial: FrozenTrial, significant: int | None = None
) -> list[str]:
    """``ddpg-tutorial train`` options that give ``trial``'s config: ``--env``, ``--algo``,
    ``--preset``, and ``--set FIELD=JSON`` for each field that differs from the preset
    (``shlex.join`` quotes them for a shell); numbers to ``significant`` digits if given (to
    read, not to reproduce the trial exactly)."""
    settings = study.user_attrs["settings"]
    preset = get_preset(settings["preset"], settings["algorithm"]).to_dict()
    flags = [
        "--env",
        settings["env_id"],
        "--algo",
        settings["algorithm"],
        "--preset",
        settings["preset"],
    ]
    for field, value in trial_config(study, trial).to_dict().items():
        if value != preset[field]:
            shown = value if significant is None else _significant(value, significant)
            flags += ["--set", f"{field}={json.dumps(shown, separators=(',', ':'))}"]
    return flags


def write_best(study: optuna.Study, path: str | Path) -> list[Config]:
    """Write the best trial to ``path`` as JSON: its number, its score, the ``ddpg-tutorial
    train`` command that reproduces its config, and the config. A study of both objectives
    writes its Pareto front instead (:func:`pareto_front`), each trial with its two scores,
    command and config. Return the configs written."""
    settings = study.user_attrs["settings"]
    names = objectives(settings.get("objective", "area"))
    trials = pareto_front(study) if len(names) > 1 else [best_trial(study)]
    entries = [
        {
            "trial": trial.number,
            "value": dict(zip(names, trial.values)) if len(names) > 1 else trial.value,
            "command": shlex.join(["ddpg-tutorial", "train", *trial_flags(study, trial)]),
            "algorithm": settings["algorithm"],
            "config": trial_config(study, trial).to_dict(),
        }
        for trial in trials
    ]
    head = {
        "study_name": study.study_name,
        "objective": settings.get("objective", "area"),
        "threshold": settings.get("threshold"),
    }
    content = {**head, "front": entries} if len(names) > 1 else {**head, **entries[0]}
    text = json.dumps(content, indent=2) + "\n"
    atomic_write(path, lambda f: f.write(text.encode()))
    return [trial_config(study, trial) for trial in trials]


@dataclass(frozen=True)
class _Search:
    """What every worker of one study needs (picklable, for worker processes)."""

    env_id: str
    preset: str
    base: Config
    seeds: tuple[int, ...]
    trials: int
    storage: str
    study_name: str
    objective: str = "area"
    threshold: float | None = None
    pinned: tuple[str, ...] = ()  # fields the user fixed: not searched
    progress: bool = False

    def settings(self) -> dict[str, Any]:
        """What makes trials comparable: kept in the study, checked when it is continued."""
        return {
            "env_id": self.env_id,
            "algorithm": self.base.algorithm,
            "preset": self.preset,
            "seeds": list(self.seeds),
            "base_config": self.base.to_dict(),
            "objective": self.objective,
            "threshold": self.threshold,
            "pinned": list(self.pinned),
        }

    def open_study(self, worker: int, sampler_seed: int | None) -> optuna.Study:
        """Create the study, or load it to continue it, with a heartbeat storage, a TPE sampler
        (seeded as :func:`tune` says; it handles two objectives too) and, for the area
        objective alone, a median pruner that waits for half the evaluations of the first
        seed's run."""
        evaluations_per_run = -(-self.base.total_steps // self.base.eval_every)
        pruner = (
            optuna.pruners.MedianPruner(
                n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=evaluations_per_run // 2
            )
            if self.objective == "area"
            else optuna.pruners.NopPruner()
        )
        try:
            study = optuna.create_study(
                storage=_storage(self.storage),
                study_name=self.study_name,
                directions=[OBJECTIVES[name] for name in objectives(self.objective)],
                load_if_exists=True,
                sampler=optuna.samplers.TPESampler(),
                pruner=pruner,
            )
        except (ImportError, sqlalchemy.exc.SQLAlchemyError) as error:
            message = str(error).splitlines()[0]
            if isinstance(error, ImportError) and self.storage.startswith("postgresql"):
                message = (
                    f"{message.rstrip('.')}; for PostgreSQL, in a clone of the "
                    "repository: pip install -e '.[postgres]'"
                )
            raise DDPGError(f"cannot open the tuning storage: {message}") from None
        settings, saved = self.settings(), study.user_attrs.get("settings")
        if saved is None:
            study.set_user_attr("settings", settings)
        elif saved != settings:
            differ = [key for key in settings if saved.get(key) != settings[key]]
            raise DDPGError(
                f"study '{self.study_name}' in this storage was started with another "
                f"{', '.join(differ)}; choose another study name to tune this one"
            )
        if sampler_seed is not None:
            started = len(study.get_trials(deepcopy=False))
            seed = np.random.SeedSequence([sampler_seed, worker, started]).generate_state(1)[0]
            study.sampler = optuna.samplers.TPESampler(seed=int(seed))
        return study

    def work(self, study: optuna.Study) -> None:
        """Run trials until the study has ``trials`` finished ones, waiting for the other
        workers' last trials (one of them may fail or die, and need running again)."""
        while True:
            optuna.storages.fail_stale_trials(study)  # queues a dead worker's trials again
            trials = study.get_trials(deepcopy=False)
            count = Counter(trial.state for trial in trials)
            finished = count[TrialState.COMPLETE] + count[TrialState.PRUNED]
            if finished >= self.trials:
                return
            # Runs that failed (not trials of a dead worker, nor ones not run): every config
            # diverging means the setup is wrong, and tuning would never end.
            failed = [
                trial
                for trial in trials
                if trial.state == TrialState.FAIL
                and "config" in trial.user_attrs
                and "error" in trial.user_attrs
            ]
            if len(failed) >= self.trials:
                raise DDPGError(
                    f"{len(failed)} trials of study '{self.study_name}' failed, the "
                    f"last with: {failed[-1].user_attrs['error']}"
                )
            if finished + count[TrialState.RUNNING] < self.trials:
                study.optimize(
                    self._trial, n_trials=1, catch=(DDPGError,), callbacks=[_print_trial]
                )
            else:
                time.sleep(POLL_S)

    def _trial(self, trial: optuna.Trial) -> float | list[float]:
        # Two workers may start the last trial at the same moment: the later number yields.
        ahead = [
            other
            for other in trial.study.get_trials(
                deepcopy=False, states=(*FINISHED, TrialState.RUNNING)
            )
            if other.state in FINISHED or other.number < trial.number
        ]
        if len(ahead) >= self.trials:
            trial.set_user_attr("error", "not run: another worker took the study's last trial")
            raise DDPGError("the study's last trial was taken")
        return objective(
            trial,
            self.env_id,
            self.base,
            self.seeds,
            self.objective,
            self.threshold,
            self.pinned,
            self.progress,
        )


def _storage(url: str) -> optuna.storages.RDBStorage:
    """The study database, with heartbeats so that a dead worker's trial is run again.

    Optuna creates its tables when it first opens an empty database. Workers on several
    machines started at the same moment do it at once, and all but one collide with the
    others' tables or version rows (in PostgreSQL, a unique violation): they try again, and
    then find the tables made."""
    for attempt in range(1, STORAGE_ATTEMPTS + 1):
        try:
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs={"connect_args": {"timeout": SQLITE_TIMEOUT_S}}
                if url.startswith("sqlite")
                else None,
                heartbeat_interval=HEARTBEAT_INTERVAL_S,
                grace_period=GRACE_PERIOD_S,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=MAX_RETRIES
                ),
            )
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            if attempt == STORAGE_ATTEMPTS:
                raise
            time.sleep(random.Random().uniform(0.5, 1.5))  # apart from the other workers
    raise AssertionError("unreachable")


def _run_workers(search: _Search, jobs: int, sampler_seed: int | None) -> None:
    """Run ``jobs`` worker processes on the study and wait for them all."""
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_worker, name=f"tune-worker-{i}", args=(search, i, sampler_seed))
        for i in range(jobs)
    ]
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            worker.join()
    finally:
        for worker in workers:  # still running only if this process was interrupted
            worker.terminate()
            worker.join()
    failed = [worker.exitcode for worker in workers if worker.exitcode != 0]
    if failed:
        raise DDPGError(
            f"{len(failed)} of {jobs} tuning workers failed (exit codes {failed}); "
            "their errors are above"
        )


def _worker(search: _Search, worker: int, sampler_seed: int | None) -> None:
    """One local worker process: one PyTorch thread, its own sampler seed, the shared study."""
    torch.set_num_threads(1)
    try:
        with _quiet_optuna():
            search.work(search.open_study(worker, sampler_seed))
    except DDPGError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


@contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna's log down to errors (:func:`_print_trial` writes one line per trial instead of
    its lines and tracebacks), and no warnings that heartbeats are an experimental feature."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def _print_trial(study: optuna.Study, trial: FrozenTrial) -> None:
    if trial.state == TrialState.COMPLETE and len(study.directions) > 1:
        area, seconds = trial.values
        outcome = (
            f"mean return {area:.4g}, {seconds:.3g} s to the threshold "
            f"(Pareto front: {len(study.best_trials)} trials)"
        )
    elif trial.state == TrialState.COMPLETE:
        best = study.best_trial
        unit = " s" if study.direction == optuna.study.StudyDirection.MINIMIZE else ""
        outcome = f"{trial.value:.4g}{unit} (best: trial {best.number}, {best.value:.4g}{unit})"
    elif "error" in trial.user_attrs:
        outcome = f"{trial.state.name.lower()}: {trial.user_attrs['error']}"
    elif trial.state == TrialState.PRUNED:
        assert trial.last_step is not None  # pruned after a report; a rejected config has "error"
        outcome = (
            f"pruned after {len(trial.intermediate_values)} evaluations, mean return "
            f"{trial.intermediate_values[trial.last_step]:.1f}"
        )
    else:
        outcome = "failed: see the error above"
    params = ", ".join(f"{name}={_significant(value)}" for name, value in trial.params.items())
    print(f"trial {trial.number}: {outcome}" + (f"; {params}" if params else ""), flush=True)


def _significant(value: Any, digits: int = 3) -> Any:
    """A float to ``digits`` significant digits (printed; the study keeps the exact value)."""
    return float(f"{value:.{digits}g}") if isinstance(value, float) else value
