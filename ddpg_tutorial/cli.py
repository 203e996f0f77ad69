"""The ``ddpg-tutorial`` command line: train, evaluate, render, sweep, report, tune, presets."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddpg_tutorial.config import (
    ALGORITHM_PRESETS,
    CONFIGS,
    Config,
    describe,
    get_preset,
    parse_value,
    parse_values,
)
from ddpg_tutorial.errors import DDPGError
from ddpg_tutorial.seeding import CHECK_SEED_BASE, EVAL_SEED_BASE
from ddpg_tutorial.tune_space import describe_space

# The commands import what they use when they run, so that --help and presets do not wait for
# PyTorch, Gymnasium and Matplotlib.
if TYPE_CHECKING:
    from ddpg_tutorial.training import Trainer

EXIT_ERROR = 2
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}
FAST_TUNED_ON = "Pendulum-v1"  #: the task the fast presets were tuned on


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show every option's default, once: in words where the help gives it, else the value;
    none for a required option, a flag, or an option that is off unless given."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if (
            "(default:" in (action.help or "")
            or action.required
            or action.nargs == 0
            or action.default in (None, [])
        ):
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    fmt = _HelpFormatter
    parser = argparse.ArgumentParser(
        prog="ddpg-tutorial",
        formatter_class=fmt,
        description="Train, evaluate and render DDPG, TD3 and SAC agents on Gymnasium "
        "environments.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        formatter_class=fmt,
        help="train an agent and write logs, plots and a GIF",
        description="Train an agent. The training state is saved at episode ends every "
        "--save-every steps, so that --resume continues a run exactly, even one "
        "that was killed; Ctrl-C or SIGTERM stops at the end of the current "
        "episode and saves it (a second one stops at once, keeping the last "
        "save). Hyperparameters come from --algo and --preset, "
        "with any field changed by --set; 'ddpg-tutorial presets' lists every "
        "field, its value in each preset and what it means.",
    )
    train.add_argument("--env", default="Pendulum-v1", help="Gymnasium environment id")
    train.add_argument("--algo", default="ddpg", help="algorithm: ddpg, td3 or sac")
    train.add_argument(
        "--preset", default="fast", help="hyperparameter preset of the algorithm: fast or paper"
    )
    train.add_argument("--seed", type=int, default=0, help="random seed")
    train.add_argument(
        "--steps",
        type=int,
        default=None,
        help="environment steps (default: the preset's total_steps); with --resume, the "
        "steps to train the run to, a finished one included",
    )
    train.add_argument(
        "--eval-every",
        type=int,
        default=None,
        help="steps between greedy evaluations (default: the preset's, 1000)",
    )
    train.add_argument(
        "--eval-episodes",
        type=int,
        default=None,
        help="episodes per greedy evaluation (default: the preset's, 10)",
    )
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override one config field, e.g. --set gamma=0.98 (repeatable; "
        "'ddpg-tutorial presets' lists the fields)",
    )
    train.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory (default: under runs/, named after the environment, "
        "algorithm, preset and seed)",
    )
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="allow writing into a directory that already holds a run",
    )
    train.add_argument(
        "--resume",
        type=Path,
        default=None,
        metavar="DIR",
        help="continue the run saved in DIR with its own settings (--steps N: to N "
        "steps, also a finished run; --device, --threads, --no-progress and --no-gif "
        "apply; the others are ignored, with a warning)",
    )
    train.add_argument(
        "--save-every",
        type=int,
        default=None,
        metavar="STEPS",
        help="save the training state at the first episode end after every "
        "STEPS steps (default: at every evaluation)",
    )
    train.add_argument(
        "--tensorboard",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write returns, losses and Q to DIR for TensorBoard "
        "(needs the tensorboard package)",
    )
    _add_common(train)
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.add_argument("--no-gif", action="store_true", help="skip rendering policy.gif")

    evaluate_cmd = commands.add_parser(
        "evaluate",
        formatter_class=fmt,
        help="greedy return of a saved agent",
        description="Print the mean and std of the greedy return of a saved agent, over "
        "episodes reset with the seeds --seed, --seed + 1, ...; by default start "
        f"states that no training run, report or tuning trial was scored on "
        f"({CHECK_SEED_BASE} on; training's evaluations use {EVAL_SEED_BASE} on).",
    )
    evaluate_cmd.add_argument("checkpoint", type=Path, help="agent.pt written by train")
    evaluate_cmd.add_argument("--episodes", type=int, default=10, help="evaluation episodes")
    evaluate_cmd.add_argument(
        "--seed", type=int, default=CHECK_SEED_BASE, help="reset seed of the first episode"
    )
    evaluate_cmd.add_argument(
        "--csv",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write each episode's seed and return to FILE",
    )
    evaluate_cmd.add_argument(
        "--env", default=None, help="environment id (default: the one it was trained on)"
    )
    _add_common(evaluate_cmd)

    render = commands.add_parser(
        "render",
        formatter_class=fmt,
        help="render one greedy episode to a GIF",
        description="Render one greedy episode of a saved agent to an animated GIF.",
    )
    render.add_argument("checkpoint", type=Path, help="agent.pt written by train")
    render.add_argument("--out", type=Path, default=Path("policy.gif"), help="GIF to write")
    render.add_argument(
        "--seed",
        type=int,
        default=CHECK_SEED_BASE,
        help="reset seed of the episode (default: the first of evaluate's)",
    )
    render.add_argument(
        "--env", default=None, help="environment id (default: the one it was trained on)"
    )
    _add_common(render)

    sweep_cmd = commands.add_parser(
        "sweep",
        formatter_class=fmt,
        help="train a grid of configurations on many seeds",
        description="Train every combination of --algo, --preset and --set values on every "
        "seed, each run a process of its own on one thread, --jobs at a time, in "
        "OUT/CONFIGURATION/seedN/. Running the same command again skips finished "
        "runs and resumes interrupted ones; Ctrl-C stops every run at the end of "
        "its episode and saves it. Writes OUT/summary.csv, one row per run; "
        "'ddpg-tutorial report OUT' computes the statistics.",
    )
    sweep_cmd.add_argument("--out", type=Path, required=True, help="the sweep's folder")
    sweep_cmd.add_argument("--env", default="Pendulum-v1", help="Gymnasium environment id")
    sweep_cmd.add_argument("--algo", nargs="+", default=["ddpg"], help="algorithms")
    sweep_cmd.add_argument("--preset", nargs="+", default=["fast"], help="presets")
    sweep_cmd.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=V1[,V2...]",
        help="override a config field in every run, or with several "
        "values make it an axis of the grid (repeatable)",
    )
    sweep_cmd.add_argument(
        "--seeds", required=True, help="training seeds: ranges and lists, e.g. 100-109 or 0,1,2"
    )
    sweep_cmd.add_argument(
        "--steps", type=int, default=None, help="environment steps per run (default: the presets')"
    )
    sweep_cmd.add_argument(
        "--jobs", type=int, default=None, help="runs at a time (default: the number of cores)"
    )
    sweep_cmd.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="a greedy return whose first reaching the summary records, e.g. -200 on Pendulum-v1",
    )
    sweep_cmd.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    report_cmd = commands.add_parser(
        "report",
        formatter_class=fmt,
        help="statistics of a sweep: table and figures",
        description="Write FOLDER/report.md (IQM, the 25% trimmed mean, and mean final "
        "return with 95% stratified bootstrap confidence intervals, and medians of steps "
        "and seconds to the sweep's threshold), FOLDER/sample_efficiency.png and "
        "FOLDER/performance_profile.png, with rliable; print the table. Every run "
        "counts: a failed run at its last evaluation, and as not reaching the "
        "threshold.",
    )
    report_cmd.add_argument(
        "folder", type=Path, metavar="FOLDER", help="the --out folder of a sweep"
    )
    report_cmd.add_argument(
        "--reps", type=int, default=None, help="bootstrap resamples (default: 5,000)"
    )
    report_cmd.add_argument(
        "--partial",
        action="store_true",
        help="report a sweep whose runs have not all finished, each at its "
        "last evaluation so far; the report says it is partial",
    )
    report_cmd.add_argument(
        "--baseline",
        default=None,
        metavar="GROUP",
        help="also compare every other configuration with GROUP on their "
        "shared seeds: paired differences and the probability of "
        "improvement",
    )

    tune_cmd = commands.add_parser(
        "tune",
        formatter_class=fmt,
        help="search hyperparameters with Optuna",
        description="Search an algorithm's hyperparameters with Optuna (TPE sampler). A "
        "trial trains one configuration on every --seeds in turn and scores it by "
        "--objective: 'area', the area under its evaluation curve (the mean greedy "
        "return over all its evaluations; median pruning on the periodic "
        "evaluations), 'seconds', the training seconds to a greedy return of "
        "--threshold (a run stops there; one that never gets there counts twice its "
        "seconds), or 'both', a two-objective study whose best.json holds the Pareto "
        "front. "
        "The study lives in a database (a SQLite file in --out by default); "
        "running the same command again continues it, and workers on other "
        "machines join it by running the same command with the same --storage, "
        "e.g. postgresql://user:password@host/db. Writes OUT/best.json and prints "
        "the train command of the best configuration. --set fixes any field, a searched one "
        "included (it is then not searched).",
        epilog=f"The search space: {describe_space()}",
    )
    tune_cmd.add_argument(
        "--out", type=Path, required=True, help="folder for the study's SQLite file and best.json"
    )
    tune_cmd.add_argument("--env", default="Pendulum-v1", help="Gymnasium environment id")
    tune_cmd.add_argument("--algo", default="ddpg", help="algorithm: ddpg, td3 or sac")
    tune_cmd.add_argument(
        "--preset", default="fast", help="the preset whose other fields every trial keeps"
    )
    tune_cmd.add_argument(
        "--seeds", required=True, help="tuning seeds, e.g. 1000-1002; report results on others"
    )
    tune_cmd.add_argument(
        "--trials",
        type=int,
        default=50,
        help="finished (complete or pruned) trials the study stops at",
    )
    tune_cmd.add_argument(
        "--steps", type=int, default=None, help="environment steps per run (default: the preset's)"
    )
    tune_cmd.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="fix a field, searched or not (repeatable)",
    )
    tune_cmd.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="local worker processes sharing the study, one thread each",
    )
    tune_cmd.add_argument(
        "--storage", default=None, help="Optuna storage URL (default: sqlite:///OUT/study.db)"
    )
    tune_cmd.add_argument("--study", default=None, help="study name (default: ENV-ALGO-PRESET)")
    tune_cmd.add_argument(
        "--objective",
        choices=["area", "seconds", "both"],
        default="area",
        help="what a trial is scored by (see above)",
    )
    tune_cmd.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="the greedy return whose training seconds 'seconds' and 'both' measure "
        "(default: the task's own, e.g. -200 on Pendulum-v1)",
    )
    tune_cmd.add_argument(
        "--no-progress", action="store_true", help="no progress bar within each trial"
    )
    tune_cmd.add_argument(
        "--sampler-seed",
        type=int,
        default=None,
        help="seed of the TPE sampler, for a repeatable search on one machine",
    )

    presets_cmd = commands.add_parser(
        "presets",
        formatter_class=fmt,
        help="list every preset's hyperparameters",
        description="Every config field: its value in each preset and what it means.",
    )
    presets_cmd.add_argument(
        "--algo",
        nargs="+",
        default=list(ALGORITHM_PRESETS),
        choices=list(ALGORITHM_PRESETS),
        help="only these algorithms' presets",
    )
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        default="cpu",
        help="cpu, cuda[:N], or auto (CUDA if available); the CPU is the "
        "default because networks this small run faster there: each "
        "update is too little work to pay for launching GPU kernels",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads for PyTorch; networks this small run fastest on one, "
        "and more threads stall when another program uses the cores",
    )


def _set_fields(items: list[str]) -> dict[str, Any]:
    """``--set FIELD=VALUE`` options as a dictionary, each value read by
    :func:`~ddpg_tutorial.config.parse_value` (JSON, None/True/False, a choice in any case)."""
    changes = {}
    for item in items:
        field, sep, value = item.partition("=")
        if not sep:
            raise DDPGError(f"--set expects FIELD=VALUE, got '{item}'")
        changes[field] = parse_value(value)
    return changes


def _config_from_args(args: argparse.Namespace) -> Config:
    changes = _set_fields(args.set)
    for field, value in (
        ("total_steps", args.steps),
        ("eval_every", args.eval_every),
        ("eval_episodes", args.eval_episodes),
    ):
        if value is not None:
            changes[field] = value
    return get_preset(args.preset, args.algo).replace(**changes)


def _resume(out_dir: Path, args: argparse.Namespace) -> Trainer:
    from ddpg_tutorial.run_folder import (
        AGENT_FILE,
        CONFIG_FILE,
        STATE_FILE,
        is_finished,
        read_evaluations,
        saved_code_digest,
    )
    from ddpg_tutorial.source import code_digest
    from ddpg_tutorial.training import Trainer

    if not (out_dir / STATE_FILE).is_file():
        if (out_dir / AGENT_FILE).is_file() and (out_dir / CONFIG_FILE).is_file():
            raise DDPGError(
                f"the run in '{out_dir}' has finished without keeping its training state "
                "(earlier versions deleted it), so it cannot go on; start a new run"
            )
        raise DDPGError(
            f"'{out_dir}' holds no training state to resume; pass the --out "
            "directory of a run that 'ddpg-tutorial train' started"
        )
    if is_finished(out_dir):
        done = int(read_evaluations(out_dir)[-1]["env_steps"])
        if args.steps is None:
            raise DDPGError(
                f"the run in '{out_dir}' has finished its {done} steps; to train it longer, "
                f"give the new total: ddpg-tutorial train --resume {out_dir} --steps N"
            )
        if args.steps <= done:  # its state may be older: a run ends between episodes or not
            raise DDPGError(
                f"--steps must be more than the {done} steps this run has done, got {args.steps}"
            )
    ignored = _ignored_on_resume(args)
    if ignored:
        print(
            f"warning: --resume continues the run with the settings it was started with, "
            f"so {', '.join(ignored)} {'is' if len(ignored) == 1 else 'are'} ignored",
            file=sys.stderr,
        )
    trainer = Trainer.resume(out_dir, args.device, not args.no_progress, args.steps)
    print(
        f"resuming {trainer.spec.env_id} from step {trainer.step} in {out_dir}, "
        f"to step {trainer.config.total_steps}"
    )
    started_by, code = saved_code_digest(out_dir), code_digest()
    if started_by and started_by != code:  # legitimate (an upgrade), but no longer one version
        print(
            f"warning: other library code started this run (digest {started_by}, now {code}); "
            "it goes on with this code, so its results mix two versions",
            file=sys.stderr,
        )
    if trainer.moved_from is not None:
        print(
            f"note: this run trained on {trainer.moved_from} and continues on "
            f"{trainer.agent.device}, where its random generator states do not fit: the "
            "agent's and the replay's start new streams (from the run's seed and step), so the "
            f"run differs from its continuation on {trainer.moved_from} (--device "
            f"{trainer.moved_from} continues it exactly)"
        )
    return trainer


#: The train options a resumed run takes from its saved state instead, by destination.
RESUME_IGNORES = (
    "env", "algo", "preset", "seed", "set", "eval_every", "eval_episodes", "out", "overwrite",
    "save_every", "tensorboard",
)  # fmt: skip


def _ignored_on_resume(args: argparse.Namespace) -> list[str]:
    """The options of ``args`` that --resume ignores and that were given (not the default)."""
    defaults = build_parser().parse_args(["train", "--resume", "."])
    return [
        "--" + dest.replace("_", "-")
        for dest in RESUME_IGNORES
        if getattr(args, dest) != getattr(defaults, dest)
    ]


def _notes(args: argparse.Namespace, config: Config) -> list[str]:
    """What a newcomer would not expect of this run's configuration, one line each."""
    notes = []
    if args.preset == "fast" and args.env != FAST_TUNED_ON:
        notes.append(
            f"the fast presets were tuned on {FAST_TUNED_ON}; on {args.env} they are "
            "a starting point, not a tuned configuration"
        )
    if args.algo == "td3" and getattr(config, "policy_delay", 2) == 1:
        notes.append(
            "this TD3 updates its actor at every update (policy_delay 1, the fast "
            "preset's tuned value); the paper delays it to every second one "
            "(--set policy_delay=2)"
        )
    return notes


def cmd_train(args: argparse.Namespace) -> int:
    from ddpg_tutorial.envs import return_threshold
    from ddpg_tutorial.files import FolderLock
    from ddpg_tutorial.plotting import plot_learning_curve
    from ddpg_tutorial.render import RenderingUnavailable, render_gif
    from ddpg_tutorial.run_folder import AGENT_FILE, STATE_FILE, is_finished
    from ddpg_tutorial.training import Trainer

    if args.resume is not None:
        out_dir = args.resume
        trainer = _resume(out_dir, args)
    else:
        _check_seed(args.seed)
        config = _config_from_args(args)
        out_dir = args.out or Path("runs") / f"{args.env}-{args.algo}-{args.preset}-seed{args.seed}"
        FolderLock(out_dir).check_free()  # a run in progress is not one to start over
        if (out_dir / STATE_FILE).exists() and not is_finished(out_dir):
            raise DDPGError(
                f"'{out_dir}' holds an interrupted run; continue it with "
                f"--resume {out_dir}, or choose another --out"
            )
        if (out_dir / AGENT_FILE).exists() and not args.overwrite:
            raise DDPGError(
                f"'{out_dir}' already holds a trained agent; pass --overwrite "
                "to replace it, or choose another --out"
            )
        trainer = Trainer(
            args.env,
            config,
            args.seed,
            args.device,
            out_dir,
            progress=not args.no_progress,
            save_every=args.save_every,
            tensorboard_dir=args.tensorboard,
        )
        for note in _notes(args, config):
            print(f"note: {note}")

    received: list[int] = []
    parent = os.getppid()

    def stop(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if received and os.getppid() != parent:
            # The parent died: a sweep's parent-death SIGTERM comes once per thread the run is
            # handed through as the sweep's threads end, not from anyone asking twice.
            return
        received.append(signum)
        if len(received) > 1:  # a second signal stops at once, with the last save kept
            kept = (
                "nothing was saved yet"
                if trainer.saved_step is None
                else f"the training state of step {trainer.saved_step} is kept; continue with: "
                f"ddpg-tutorial train --resume {out_dir}"
            )
            print(f"\n{name} again: stopping now, without saving; {kept}", file=sys.stderr)
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        print(
            f"\n{name}: finishing the current episode, then saving the training state "
            f"({name} again stops at once)",
            file=sys.stderr,
        )
        trainer.request_stop()

    previous = {s: signal.signal(s, stop) for s in EXIT_SIGNAL}
    try:
        history = trainer.run()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)

    if received and trainer.step < trainer.config.total_steps:
        print(
            f"stopped at step {trainer.step}; training state saved in {out_dir}; "
            f"continue with: ddpg-tutorial train --resume {out_dir}"
        )
        return EXIT_SIGNAL[signal.Signals(received[0])]
    if received:  # in the last episode, whose end is the run's
        print(
            f"{signal.Signals(received[0]).name} came in the last episode, so the run "
            "finished instead of stopping",
            file=sys.stderr,
        )

    last = history.evaluations[-1]
    print(
        f"done: {trainer.step} steps in {trainer.elapsed_s:.1f} s ({last.train_time_s:.1f} s "
        f"training, the rest evaluations and saves); final greedy return "
        f"{last.mean_return:.1f} ± {last.std_return:.1f}; results in {out_dir}"
    )
    started = time.perf_counter()
    plot_learning_curve(
        history,
        title=f"{trainer.agent.algorithm.upper()} on {trainer.spec.env_id}",
        threshold=return_threshold(trainer.spec.env_id),
        path=out_dir / "learning_curve.png",
    )
    print(f"wrote {out_dir / 'learning_curve.png'} ({time.perf_counter() - started:.1f} s)")
    if not args.no_gif:
        try:
            started = time.perf_counter()
            episode_return = render_gif(
                trainer.agent.act, trainer.spec.env_id, out_dir / "policy.gif"
            )
            print(
                f"wrote {out_dir / 'policy.gif'} (episode return {episode_return:.1f}; "
                f"{time.perf_counter() - started:.1f} s)"
            )
        except RenderingUnavailable as err:  # training's results are all written already
            print(f"warning: no policy.gif: {err}", file=sys.stderr)
    return 0


def _load_for(path: Path, env_id: str | None, device: str):
    """The greedy policy saved at ``path`` and the environment to run it in."""
    from ddpg_tutorial.checkpoint import check_compatible, load_policy
    from ddpg_tutorial.envs import check_env, make_env

    policy, saved = load_policy(path, device)
    env_id = env_id or saved.env_id
    env = make_env(env_id)
    check_compatible(saved, check_env(env, env_id), path)
    return policy, env_id


def _check_seed(seed: int) -> None:
    if seed < 0:
        raise DDPGError(f"--seed must be an integer >= 0, got {seed}")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ddpg_tutorial.envs import make_env
    from ddpg_tutorial.evaluation import eval_seeds, evaluate
    from ddpg_tutorial.files import atomic_write

    if args.episodes <= 0:
        raise DDPGError(f"--episodes must be a positive integer, got {args.episodes}")
    _check_seed(args.seed)
    if args.csv is not None and (args.csv.is_dir() or not args.csv.parent.is_dir()):
        raise DDPGError(
            f"--csv '{args.csv}' is a folder or in no folder that exists; give a "
            "file path in an existing folder"
        )
    policy, env_id = _load_for(args.checkpoint, args.env, args.device)
    seeds = eval_seeds(args.episodes, args.seed)
    returns = evaluate(policy, [make_env(env_id) for _ in seeds], seeds).returns
    print(
        f"{env_id}: greedy return {returns.mean():.1f} ± {returns.std():.1f} "
        f"over {args.episodes} episodes (mean ± std), reset seeds {seeds[0]}-{seeds[-1]}"
    )
    if args.csv is not None:
        text = "seed,return\n" + "".join(f"{s},{r!r}\n" for s, r in zip(seeds, returns.tolist()))
        atomic_write(args.csv, lambda f: f.write(text.encode()))
        print(f"wrote {args.csv}")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from ddpg_tutorial.render import render_gif

    _check_seed(args.seed)
    policy, env_id = _load_for(args.checkpoint, args.env, args.device)
    episode_return = render_gif(policy, env_id, args.out, seed=args.seed)
    print(
        f"wrote {args.out} ({env_id}, reset seed {args.seed}, episode return {episode_return:.1f})"
    )
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from ddpg_tutorial.sweep import SUMMARY_FILE, SweepStopped, make_grid, parse_seeds, sweep

    overrides: dict[str, list] = {}
    for item in args.set:
        field, sep, values = item.partition("=")
        if not sep:
            raise DDPGError(f"--set expects FIELD=VALUE or FIELD=V1,V2,..., got '{item}'")
        overrides[field] = parse_values(values)
    if args.steps is not None:
        overrides["total_steps"] = [args.steps]
    specs = make_grid(args.env, args.algo, args.preset, overrides, parse_seeds(args.seeds))
    groups = len({spec.group for spec in specs})
    print(
        f"{len(specs)} runs: {groups} configuration(s) x {len(specs) // groups} seeds, "
        f"in {args.out}"
    )
    try:
        rows = sweep(specs, args.out, args.jobs, args.threshold, progress=not args.no_progress)
    except SweepStopped as stopped:
        print(
            "stopped; the interrupted runs are saved; continue with the same command",
            file=sys.stderr,
        )
        return EXIT_SIGNAL[stopped.signum]
    finished = sum(row["status"] == "finished" for row in rows)
    print(
        f"{finished}/{len(rows)} runs finished; {args.out / SUMMARY_FILE}; statistics: "
        f"ddpg-tutorial report {args.out}"
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ddpg_tutorial.stats import FEW_RUNS, FEW_RUNS_TEXT, REPS, load_sweep, report

    reps = REPS if args.reps is None else args.reps
    if reps <= 0:
        raise DDPGError(f"--reps must be a positive integer, got {reps}")
    load_sweep(args.folder, args.partial)  # a folder that is no sweep: one line, and no more
    print(f"bootstrapping intervals with {reps:,} resamples (rliable) ...", flush=True)
    path = report(args.folder, reps, partial=args.partial, baseline=args.baseline)
    if "**Few runs**" in path.read_text():
        print(
            f"warning: fewer than {FEW_RUNS} runs per configuration. {FEW_RUNS_TEXT}",
            file=sys.stderr,
        )
    print(path.read_text().split("\n\n![")[0])
    print(f"\nwrote {path} and the figures beside it")
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from ddpg_tutorial.sweep import parse_seeds

    try:
        from ddpg_tutorial import tune
    except ImportError:
        raise DDPGError(
            "tuning needs Optuna: in a clone of the repository, pip install -e '.[tune]'"
        ) from None
    if args.out.exists() and not args.out.is_dir():
        raise DDPGError(f"--out '{args.out}' is a file, not a folder; choose another --out")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DDPGError(
            f"cannot create the folder --out '{args.out}' ({err.strerror}); choose another --out"
        ) from None
    fixed = _set_fields(args.set)
    if args.steps is not None:
        fixed["total_steps"] = args.steps
    study = tune.tune(
        args.env,
        args.algo,
        args.preset,
        seeds=parse_seeds(args.seeds),
        trials=args.trials,
        storage=args.storage or f"sqlite:///{(args.out / 'study.db').resolve()}",
        study_name=args.study,
        jobs=args.jobs,
        fixed=fixed,
        sampler_seed=args.sampler_seed,
        objective=args.objective,
        threshold=_tune_threshold(args),
        progress=not args.no_progress,
    )
    tune.write_best(study, args.out / "best.json")
    if args.objective == "both":
        front = tune.pareto_front(study)
        print(f"Pareto front: {len(front)} trials, the fastest first; {args.out / 'best.json'}")
        for trial in front:
            area, seconds = trial.values
            print(
                f"trial {trial.number}: mean return {area:.4g}, {seconds:.3g} s: "
                "ddpg-tutorial train " + shlex.join(tune.trial_flags(study, trial, 3))
            )
        return 0
    best = tune.best_trial(study)
    score = (
        "mean greedy return over its evaluations"
        if args.objective == "area"
        else f"mean training seconds to {study.user_attrs['settings']['threshold']:g}"
    )
    print(
        f"best: trial {best.number}, {score} {best.value:.4g}"
        f"; {args.out / 'best.json'}\ntrain it (values to 3 significant digits; best.json "
        "holds the exact ones): ddpg-tutorial train " + shlex.join(tune.best_flags(study, 3))
    )
    return 0


def _tune_threshold(args: argparse.Namespace) -> float | None:
    """``--threshold``, else the task's own where the objective needs one."""
    from ddpg_tutorial.envs import make_env, return_threshold

    if args.threshold is not None or args.objective == "area":
        return args.threshold
    known = return_threshold(args.env)
    if known is None:
        make_env(args.env).close()  # an unknown id is that error, not a missing threshold
        raise DDPGError(
            f"--objective {args.objective} needs --threshold: '{args.env}' has no "
            "known return that counts as solving it"
        )
    return known[0]


def cmd_presets(args: argparse.Namespace) -> int:
    for algorithm in args.algo:
        presets = ALGORITHM_PRESETS[algorithm]
        names = sorted(presets)
        rows = [("field", *names, "meaning")]
        for field in dataclasses.fields(CONFIGS[algorithm]):
            values = (json.dumps(getattr(presets[name], field.name)) for name in names)
            rows.append((field.name, *values, describe(field.name, CONFIGS[algorithm])))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        print(f"--algo {algorithm}")
        for row in rows:
            print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)), row[-1])
        print()
    print("Change any field with: ddpg-tutorial train --algo ALGO --preset NAME --set FIELD=VALUE")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "threads", 1) <= 0:
        print(f"error: --threads must be a positive integer, got {args.threads}", file=sys.stderr)
        return EXIT_ERROR
    if args.command not in ("presets", "report"):  # the others train or load networks
        import torch

        torch.set_num_threads(getattr(args, "threads", 1))
    command = {
        "train": cmd_train,
        "evaluate": cmd_evaluate,
        "render": cmd_render,
        "sweep": cmd_sweep,
        "report": cmd_report,
        "tune": cmd_tune,
        "presets": cmd_presets,
    }[args.command]
    try:
        return command(args)
    except DDPGError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_SIGNAL[signal.SIGINT]


if __name__ == "__main__":
    sys.exit(main())
