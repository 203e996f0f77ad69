"""The ``ddpg-tutorial`` command line: train, evaluate, render."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from ddpg_tutorial.checkpoint import check_compatible, load_agent
from ddpg_tutorial.config import PRESETS, DDPGConfig, get_preset
from ddpg_tutorial.envs import check_env, make_env
from ddpg_tutorial.errors import DDPGError
from ddpg_tutorial.evaluation import eval_seeds, evaluate
from ddpg_tutorial.plotting import plot_learning_curve
from ddpg_tutorial.render import render_gif
from ddpg_tutorial.training import AGENT_FILE, TRAINING_STATE_FILE, Trainer, write_config

EXIT_ERROR = 2
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show every option's default, once: in words where the help gives it, else the value."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if "(default:" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    fmt = _HelpFormatter
    parser = argparse.ArgumentParser(
        prog="ddpg-tutorial", formatter_class=fmt,
        description="Train, evaluate and render DDPG agents on Gymnasium environments.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train", formatter_class=fmt, help="train an agent and write logs, plots and a GIF",
        description="Train DDPG. Ctrl-C or SIGTERM stops at the end of the current episode "
                    "and saves a training state that --resume continues.")
    train.add_argument("--env", default="Pendulum-v1", help="Gymnasium environment id")
    train.add_argument("--preset", default="fast", choices=sorted(PRESETS),
                       help="hyperparameter preset")
    train.add_argument("--seed", type=int, default=0, help="random seed")
    train.add_argument("--steps", type=int, default=None,
                       help="environment steps (default: the preset's total_steps)")
    train.add_argument("--eval-every", type=int, default=None,
                       help="steps between greedy evaluations (default: the preset's, 1000)")
    train.add_argument("--eval-episodes", type=int, default=None,
                       help="episodes per greedy evaluation (default: the preset's, 10)")
    train.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                       help="override one config field, e.g. --set gamma=0.98 (repeatable)")
    train.add_argument("--out", type=Path, default=None,
                       help="output directory (default: runs/ENV-PRESET-seedSEED)")
    train.add_argument("--overwrite", action="store_true",
                       help="allow writing into a directory that already holds a run")
    train.add_argument("--resume", type=Path, default=None, metavar="DIR",
                       help="continue the interrupted run saved in DIR (other options ignored)")
    _add_common(train)
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.add_argument("--no-gif", action="store_true", help="skip rendering policy.gif")

    evaluate_cmd = commands.add_parser(
        "evaluate", formatter_class=fmt, help="greedy return of a saved agent",
        description="Print the mean and std of the greedy return of a saved agent.")
    evaluate_cmd.add_argument("checkpoint", type=Path, help="agent.pt written by train")
    evaluate_cmd.add_argument("--episodes", type=int, default=10, help="evaluation episodes")
    evaluate_cmd.add_argument("--env", default=None,
                              help="environment id (default: the one it was trained on)")
    _add_common(evaluate_cmd)

    render = commands.add_parser(
        "render", formatter_class=fmt, help="render one greedy episode to a GIF",
        description="Render one greedy episode of a saved agent to an animated GIF.")
    render.add_argument("checkpoint", type=Path, help="agent.pt written by train")
    render.add_argument("--out", type=Path, default=Path("policy.gif"), help="GIF to write")
    render.add_argument("--seed", type=int, default=0, help="reset seed of the episode")
    render.add_argument("--env", default=None,
                        help="environment id (default: the one it was trained on)")
    _add_common(render)
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", help="cpu, cuda, or auto (CUDA if available)")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads for PyTorch; networks this small run fastest on one, "
                             "and more threads stall when another program uses the cores")


def _config_from_args(args: argparse.Namespace) -> DDPGConfig:
    changes = {}
    for item in args.set:
        field, sep, value = item.partition("=")
        if not sep:
            raise DDPGError(f"--set expects FIELD=VALUE, got '{item}'")
        try:
            changes[field] = json.loads(value)
        except json.JSONDecodeError:
            changes[field] = value
    for field, value in (("total_steps", args.steps), ("eval_every", args.eval_every),
                         ("eval_episodes", args.eval_episodes)):
        if value is not None:
            changes[field] = value
    return get_preset(args.preset).replace(**changes)


def cmd_train(args: argparse.Namespace) -> int:
    if args.resume is not None:
        out_dir = args.resume
        trainer = Trainer.resume(out_dir / TRAINING_STATE_FILE, args.device, out_dir,
                                 progress=not args.no_progress)
        print(f"resuming {trainer.spec.env_id} from step {trainer.step} in {out_dir}")
    else:
        config = _config_from_args(args)
        out_dir = args.out or Path("runs") / f"{args.env}-{args.preset}-seed{args.seed}"
        if (out_dir / TRAINING_STATE_FILE).exists():
            raise DDPGError(f"'{out_dir}' holds an interrupted run; continue it with "
                            f"--resume {out_dir}, or choose another --out")
        if (out_dir / AGENT_FILE).exists() and not args.overwrite:
            raise DDPGError(f"'{out_dir}' already holds a trained agent; pass --overwrite "
                            "to replace it, or choose another --out")
        trainer = Trainer(args.env, config, args.seed, args.device, out_dir,
                          progress=not args.no_progress)
        write_config(out_dir, args.env, config, args.seed)

    received: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        received.append(signum)
        signal.signal(signum, signal.SIG_DFL)  # a second signal stops at once
        print(f"\n{signal.Signals(signum).name}: finishing the current episode, then saving "
              "the training state", file=sys.stderr)
        trainer.request_stop()

    previous = {s: signal.signal(s, stop) for s in EXIT_SIGNAL}
    try:
        history = trainer.run()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)

    state_path = out_dir / TRAINING_STATE_FILE
    if received:
        trainer.save_state(state_path)
        history.write_csv(out_dir)
        print(f"stopped at step {trainer.step}; training state saved to {state_path}; "
              f"continue with: ddpg-tutorial train --resume {out_dir}")
        return EXIT_SIGNAL[received[0]]

    state_path.unlink(missing_ok=True)
    history.write_csv(out_dir)
    plot_learning_curve(history, title=f"DDPG on {trainer.spec.env_id}",
                        path=out_dir / "learning_curve.png")
    last = history.evaluations[-1]
    print(f"done: {trainer.step} steps in {trainer.elapsed_s:.1f} s; final greedy return "
          f"{last.mean_return:.1f} ± {last.std_return:.1f}; results in {out_dir}")
    if not args.no_gif:
        episode_return = render_gif(lambda obs: trainer.agent.act(obs), trainer.spec.env_id,
                                    out_dir / "policy.gif")
        print(f"wrote {out_dir / 'policy.gif'} (episode return {episode_return:.1f})")
    return 0


def _load_for(path: Path, env_id: str | None, device: str):
    agent, saved = load_agent(path, device)
    env_id = env_id or saved.env_id
    env = make_env(env_id)
    check_compatible(saved, check_env(env, env_id), path)
    return agent, env_id


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.episodes <= 0:
        raise DDPGError(f"--episodes must be a positive integer, got {args.episodes}")
    agent, env_id = _load_for(args.checkpoint, args.env, args.device)
    seeds = eval_seeds(args.episodes)
    returns = evaluate(agent.act, [make_env(env_id) for _ in seeds], seeds)
    print(f"{env_id}: greedy return {returns.mean():.1f} ± {returns.std():.1f} "
          f"over {args.episodes} episodes (mean ± std)")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    agent, env_id = _load_for(args.checkpoint, args.env, args.device)
    episode_return = render_gif(agent.act, env_id, args.out, seed=args.seed)
    print(f"wrote {args.out} ({env_id}, episode return {episode_return:.1f})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads <= 0:
        print(f"error: --threads must be a positive integer, got {args.threads}", file=sys.stderr)
        return EXIT_ERROR
    torch.set_num_threads(args.threads)
    command = {"train": cmd_train, "evaluate": cmd_evaluate, "render": cmd_render}[args.command]
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
