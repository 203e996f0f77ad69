"""The ddpg-tutorial command: the files a run writes, evaluate and render, one-line errors
for every bad input, --help, and stopping with SIGTERM then --resume."""

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import TINY_TRAIN_ARGS, is_running, stop_after, tiny_config
from PIL import Image

from ddpg_tutorial import Trainer, load_agent
from ddpg_tutorial.cli import _config_from_args, build_parser, main
from ddpg_tutorial.files import atomic_save
from ddpg_tutorial.source import code_digest
from ddpg_tutorial.sweep import is_finished

REPO = Path(__file__).resolve().parent.parent


def cli(capsys, *argv) -> tuple[int, str, str]:
    """Run the command line in this process: exit status, stdout, stderr."""
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc: int, err: str, *fragments: str) -> None:
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """One tiny, complete training run (with its GIF), shared by the tests that read it."""
    out = tmp_path_factory.mktemp("cli") / "run"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        rc = main(["train", "--out", str(out), "--steps", "600", "--eval-every", "200",
                   *TINY_TRAIN_ARGS])
    assert rc == 0, stderr.getvalue()
    (out / "stdout.txt").write_text(stdout.getvalue())
    return out


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


# A successful run ---------------------------------------------------------------------------

def test_train_writes_logs_config_plot_checkpoint_and_gif(run_dir):
    stdout = (run_dir / "stdout.txt").read_text()
    assert "done: 600 steps" in stdout and "final greedy return" in stdout
    # Training time, then the plot's and the GIF's, each apart.
    assert re.search(r"done: 600 steps in [\d.]+ s \([\d.]+ s training, the rest evaluations "
                     r"and saves\)", stdout)
    assert re.search(rf"wrote {re.escape(str(run_dir / 'learning_curve.png'))} \([\d.]+ s\)",
                     stdout)
    assert re.search(rf"wrote {re.escape(str(run_dir / 'policy.gif'))} \(episode return "
                     r"-?[\d.]+; [\d.]+ s\)", stdout)

    evaluations = read_csv(run_dir / "evaluations.csv")
    assert (run_dir / "evaluations.csv").read_text().splitlines()[0] == \
        "env_steps,wall_time_s,mean_return,std_return,q_estimate,discounted_return,train_time_s"
    assert [row[0] for row in evaluations[1:]] == ["200", "400", "600"]
    assert (run_dir / "episodes.csv").read_text().splitlines()[0] == "env_steps,return,length"
    assert [row for row in read_csv(run_dir / "episodes.csv")[1:]][0][::2] == ["200", "200"]

    config = json.loads((run_dir / "config.json").read_text())
    assert config["env_id"] == "Pendulum-v1" and config["seed"] == 0
    assert config["total_steps"] == 600 and config["actor_hidden"] == [32, 32]

    with Image.open(run_dir / "learning_curve.png") as image:
        assert image.format == "PNG" and image.width > 300
    with Image.open(run_dir / "policy.gif") as gif:
        assert gif.format == "GIF"
        assert gif.n_frames > 10
        assert gif.width == 256
    agent, spec = load_agent(run_dir / "agent.pt")
    assert spec.env_id == "Pendulum-v1" and agent.config.total_steps == 600
    assert (run_dir / "training_state.pt").exists()  # kept, to extend the run


def test_evaluate_prints_the_mean_and_std_of_the_saved_agent(run_dir, capsys, tmp_path):
    # On the run's own evaluation seeds, evaluate repeats its last evaluation ...
    rc, out, err = cli(capsys, "evaluate", run_dir / "agent.pt", "--episodes", "2",
                       "--device", "cpu", "--seed", "10000")
    assert rc == 0, err
    last = read_csv(run_dir / "evaluations.csv")[-1]
    mean, std = float(last[2]), float(last[3])
    assert out.strip() == (f"Pendulum-v1: greedy return {mean:.1f} ± {std:.1f} "
                           "over 2 episodes (mean ± std), reset seeds 10000-10001")
    # ... and by default it uses start states of its own, which it names, and writes them.
    rc, out, err = cli(capsys, "evaluate", run_dir / "agent.pt", "--episodes", "2",
                       "--csv", tmp_path / "episodes.csv")
    assert rc == 0, err
    assert "reset seeds 30000-30001" in out and f"wrote {tmp_path / 'episodes.csv'}" in out
    rows = read_csv(tmp_path / "episodes.csv")
    assert rows[0] == ["seed", "return"] and [r[0] for r in rows[1:]] == ["30000", "30001"]
    assert f"{sum(float(r[1]) for r in rows[1:]) / 2:.1f}" in out.splitlines()[0]


@pytest.mark.parametrize("command", ["train", "evaluate", "render"])
def test_a_negative_seed_is_one_line(command, run_dir, tmp_path, capsys):
    where = {"train": ["--out", tmp_path / "run"], "evaluate": [run_dir / "agent.pt"],
             "render": [run_dir / "agent.pt", "--out", tmp_path / "x.gif"]}[command]
    rc, _, err = cli(capsys, command, *where, "--seed", "-1")
    assert_one_line_error(rc, err, "--seed must be an integer >= 0, got -1")
    assert not list(tmp_path.iterdir())  # no folder, no GIF


def test_render_writes_a_gif(run_dir, tmp_path, capsys):
    # A test environment of Pendulum's shapes whose small frames render quickly (the
    # training run above already rendered Pendulum-v1 itself into policy.gif).
    rc, out, err = cli(capsys, "render", run_dir / "agent.pt", "--out", tmp_path / "x.gif",
                       "--env", "DDPGTestRender-v0")
    assert rc == 0, err
    assert (f"wrote {tmp_path / 'x.gif'} (DDPGTestRender-v0, reset seed 30000, "
            "episode return") in out
    with Image.open(tmp_path / "x.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 50  # one frame per step
        assert gif.size == (256, 192)  # scaled to 256 pixels wide
    assert [p.name for p in tmp_path.iterdir()] == ["x.gif"]  # no temp file left


def test_render_an_environment_without_images(run_dir, tmp_path, capsys):
    rc, _, err = cli(capsys, "render", run_dir / "agent.pt", "--out", tmp_path / "x.gif",
                     "--env", "DDPGTestSmall-v0")
    assert_one_line_error(rc, err, "'DDPGTestSmall-v0' cannot render to images",
                          "render_mode='rgb_array'")
    assert not (tmp_path / "x.gif").exists()


def test_evaluate_on_an_environment_of_other_shapes(run_dir, capsys):
    rc, _, err = cli(capsys, "evaluate", run_dir / "agent.pt", "--env",
                     "MountainCarContinuous-v0")
    assert_one_line_error(rc, err, "trained on 'Pendulum-v1' with observation shape (3,)",
                          "'MountainCarContinuous-v0' has observation shape (2,)")


def test_refuses_to_overwrite_a_run_without_overwrite(run_dir, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    shutil.copy(run_dir / "agent.pt", out / "agent.pt")
    before = (out / "agent.pt").read_bytes()
    args = ["train", "--out", out, "--steps", "300", "--eval-every", "300", "--no-gif",
            *TINY_TRAIN_ARGS]
    rc, _, err = cli(capsys, *args)
    assert_one_line_error(rc, err, f"'{out}' already holds a trained agent",
                          "pass --overwrite")
    assert (out / "agent.pt").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["agent.pt"]

    rc, _, err = cli(capsys, *args, "--overwrite")
    assert rc == 0, err
    assert (out / "agent.pt").read_bytes() != before


def test_refuses_to_start_over_an_interrupted_run(tmp_path, capsys):
    (tmp_path / "training_state.pt").write_bytes(b"")
    rc, _, err = cli(capsys, "train", "--out", tmp_path, "--overwrite")
    assert_one_line_error(rc, err, "holds an interrupted run", f"--resume {tmp_path}")


# One-line errors ----------------------------------------------------------------------------

TRAIN_ERRORS = {
    "unknown-env": (["--env", "NoSuchEnv-v0"],
                    ["unknown environment id 'NoSuchEnv-v0'", "Pendulum-v1"]),
    "discrete": (["--env", "CartPole-v1"],
                 ["'CartPole-v1' has a Discrete action space", "continuous Box action space"]),
    "infinite-bounds": (["--env", "DDPGTestInfiniteAction-v0"],
                        ["has infinite action bounds", "inf", "ClipAction"]),
    "image-obs": (["--env", "DDPGTestImageObs-v0"],
                  ["Box of shape (8, 8, 3) observations", "FlattenObservation"]),
    "dict-obs": (["--env", "DDPGTestDictObs-v0"], ["Dict observations", "FlattenObservation"]),
    "tau=2": (["--set", "tau=2"], ["config field 'tau' must be in (0, 1], got 2"]),
    "tau=abc": (["--set", "tau=abc"], ["config field 'tau' must be a finite number"]),
    "hidden=64": (["--set", "actor_hidden=64"], ["'actor_hidden' must be a list of layer sizes"]),
    "set-without-value": (["--set", "tau"], ["--set expects FIELD=VALUE, got 'tau'"]),
    "unknown-field": (["--set", "learning_rate=0.1"],
                      ["unknown config field(s) ['learning_rate']", "'actor_lr'"]),
    "steps<warmup": (["--steps", "500"],
                     ["'warmup_steps' must be smaller than total_steps (500)", "raise --steps"]),
    "eval-episodes=0": (["--eval-episodes", "0"], ["'eval_episodes' must be a positive integer"]),
    "device": (["--device", "tpu"], ["unknown device 'tpu'"]),
    "threads": (["--threads", "0"], ["--threads must be a positive integer, got 0"]),
    "batch-norm-batch-1": (["--preset", "paper", "--set", "batch_size=1"],
                           ["'batch_size' must be >= 2 with batch_norm"]),
}


@pytest.mark.parametrize("case", sorted(TRAIN_ERRORS))
def test_train_errors_are_one_line(case, tmp_path, capsys):
    args, fragments = TRAIN_ERRORS[case]
    rc, _, err = cli(capsys, "train", "--out", tmp_path / "out", "--no-progress", *args)
    assert_one_line_error(rc, err, *fragments)
    assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.parametrize("grid, name", [
    (["--algo", "ddpg", "ddpg"], "ddpg-fast"),
    (["--preset", "fast", "fast"], "ddpg-fast"),
    (["--set", "tau=0.01,0.010"], "ddpg-fast-tau=0.01"),  # the same number once parsed
])
def test_a_sweep_grid_that_repeats_a_configuration_is_refused_before_anything_starts(
        grid, name, tmp_path, capsys):
    # Were it not refused, the runs would start (and fail fast: the test environment is
    # registered in this process only).
    out = tmp_path / "sweep"
    rc, stdout, err = cli(capsys, "sweep", "--out", out, "--seeds", "0-1", "--env",
                          "DDPGTestSmall-v0", "--steps", "300", "--jobs", "1", "--no-progress",
                          "--set", "warmup_steps=100", "--set", "actor_hidden=[32,32]", *grid)
    assert_one_line_error(rc, err, f"the grid holds the configuration '{name}' twice",
                          "give each --algo, --preset and --set value once")
    assert stdout == "" and not out.exists()  # nothing started, no folder made


@pytest.mark.parametrize("where", ["/proc/forbidden", "under-a-file"])
def test_unwritable_output_directory(where, tmp_path, capsys):
    (tmp_path / "file").write_text("a regular file")
    out = tmp_path / "file" / "run" if where == "under-a-file" else Path(where)
    rc, _, err = cli(capsys, "train", "--out", out, "--no-progress", "--eval-episodes", "1")
    assert_one_line_error(rc, err, f"cannot write to '{out}'",
                          "choose a writable output directory")


def test_an_unwritable_tensorboard_folder_is_one_line(tmp_path, capsys):
    pytest.importorskip("tensorboard")
    rc, _, err = cli(capsys, "train", "--out", tmp_path / "run", "--tensorboard", "/proc/tb",
                     "--no-progress")
    assert_one_line_error(rc, err, "cannot write TensorBoard logs to '/proc/tb'",
                          "choose a writable --tensorboard folder")
    assert not (tmp_path / "run").exists()  # nothing written


def test_a_sweep_into_a_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "file"
    path.write_text("not a folder")
    rc, _, err = cli(capsys, "sweep", "--out", path, "--seeds", "0", "--jobs", "1",
                     "--no-progress")
    assert_one_line_error(rc, err, f"--out '{path}' is a file, not a folder")
    assert path.read_text() == "not a folder"


def test_a_sweep_without_jobs_where_the_system_has_no_cpu_affinity(tmp_path, capsys,
                                                                  monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)  # as on macOS and Windows
    sets = [arg for item in ["actor_hidden=[32,32]", "critic_hidden=[32,32]", "batch_size=64",
                             "warmup_steps=100", "eval_every=300", "eval_episodes=2"]
            for arg in ("--set", item)]
    rc, out, err = cli(capsys, "sweep", "--out", tmp_path / "sweep", "--seeds", "0",
                       "--steps", "300", *sets, "--no-progress")
    assert rc == 0, err
    assert "1/1 runs finished" in out


def test_resume_of_a_directory_without_a_training_state(tmp_path, capsys):
    rc, _, err = cli(capsys, "train", "--resume", tmp_path)
    assert_one_line_error(rc, err, f"'{tmp_path}' holds no training state to resume")


def test_resume_of_a_finished_run_says_it_has_finished(tmp_path, capsys):
    out = tmp_path / "run"
    rc, _, _ = cli(capsys, "train", "--env", "DDPGTestSmall-v0", "--out", out, "--steps", "300",
                   "--no-gif", *TINY_TRAIN_ARGS, "--set", "warmup_steps=100")
    assert rc == 0
    rc, _, err = cli(capsys, "train", "--resume", out)
    assert_one_line_error(rc, err, f"the run in '{out}' has finished its 300 steps",
                          f"ddpg-tutorial train --resume {out} --steps N")


def test_resume_of_a_finished_run_without_its_state_says_it_cannot_go_on(tmp_path, capsys):
    out = tmp_path / "run"
    rc, _, _ = cli(capsys, "train", "--env", "DDPGTestSmall-v0", "--out", out, "--steps", "300",
                   "--no-gif", *TINY_TRAIN_ARGS, "--set", "warmup_steps=100")
    assert rc == 0
    (out / "training_state.pt").unlink()  # as a run of an earlier version left it
    rc, _, err = cli(capsys, "train", "--resume", out, "--steps", "600")
    assert_one_line_error(rc, err, f"the run in '{out}' has finished without keeping its "
                          "training state", "start a new run")


def test_resume_with_steps_extends_a_finished_run_and_warns_about_ignored_options(
    tmp_path, capsys
):
    out = tmp_path / "run"
    rc, _, err = cli(capsys, "train", "--env", "DDPGTestSmall-v0", "--out", out, "--steps", "300",
                     "--no-gif", *TINY_TRAIN_ARGS, "--set", "warmup_steps=100")
    assert rc == 0, err
    rc, stdout, err = cli(capsys, "train", "--resume", out, "--steps", "500", "--algo", "sac",
                          "--set", "gamma=0.5", "--no-gif", "--no-progress")
    assert rc == 0, err
    assert err.strip() == ("warning: --resume continues the run with the settings it was started "
                           "with, so --algo, --set are ignored")
    assert f"resuming DDPGTestSmall-v0 from step 300 in {out}, to step 500" in stdout
    assert "done: 500 steps" in stdout
    config = json.loads((out / "config.json").read_text())
    assert config["algorithm"] == "ddpg" and config["gamma"] != 0.5
    assert config["total_steps"] == 500 and is_finished(out)
    rc, _, err = cli(capsys, "train", "--resume", out, "--steps", "500")
    assert_one_line_error(rc, err, "--steps must be more than the 500 steps this run has done")


def test_evaluate_episodes_must_be_positive(tmp_path, capsys):
    rc, _, err = cli(capsys, "evaluate", tmp_path / "agent.pt", "--episodes", "0")
    assert_one_line_error(rc, err, "--episodes must be a positive integer, got 0")


def test_divergence_is_a_one_line_error(tmp_path, capsys):
    out = tmp_path / "run"
    rc, _, err = cli(capsys, "train", "--env", "DDPGTestNaNReward-v0", "--out", out,
                     "--steps", "2000", "--eval-every", "100", "--no-gif", *TINY_TRAIN_ARGS,
                     "--set", "warmup_steps=100", "--set", "batch_size=32")
    assert_one_line_error(rc, err, "training diverged before step", "critic_loss nan",
                          f"the last good checkpoint is {out / 'agent.pt'}")
    load_agent(out / "agent.pt")  # still loadable


BAD_CHECKPOINTS = {  # kind: what the message says
    "missing": "does not exist; pass the path of an agent checkpoint",
    "empty": "is empty; it is not an agent checkpoint",
    "truncated": "is truncated or not a PyTorch file",
    "not-a-checkpoint": "is a PyTorch file but not an agent checkpoint of ddpg-tutorial",
    "text": "is not a PyTorch file, so it is not an agent checkpoint",
}


@pytest.mark.parametrize("command", ["evaluate", "render"])
@pytest.mark.parametrize("kind", sorted(BAD_CHECKPOINTS))
def test_bad_checkpoint_files(command, kind, run_dir, tmp_path, capsys):
    import torch

    path = tmp_path / f"{kind}.pt"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        data = (run_dir / "agent.pt").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "not-a-checkpoint":
        torch.save({"actor": {"weight": torch.zeros(2)}}, path)
    elif kind == "text":
        path.write_text("not a checkpoint\n")
    rc, _, err = cli(capsys, command, path, *(["--out", tmp_path / "x.gif"]
                                              if command == "render" else []))
    assert_one_line_error(rc, err, f"'{path}'", BAD_CHECKPOINTS[kind])
    assert not (tmp_path / "x.gif").exists()


# --help -------------------------------------------------------------------------------------

def subparsers() -> dict:
    parser = build_parser()
    return parser._subparsers._group_actions[0].choices  # name -> ArgumentParser


@pytest.mark.parametrize("command", ["train", "evaluate", "render", "sweep", "report", "tune"])
def test_help_lists_every_option_with_its_default(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    options = [a for a in subparsers()[command]._actions
               if a.option_strings and a.dest != "help"]
    assert len(options) >= (1 if command == "report" else 4)
    for action in options:
        assert action.option_strings[-1] in text
        help_text = " ".join(action.help.split())
        if "(default:" in help_text:  # the default said in words, once
            assert help_text in text and f"{help_text} (default:" not in text
        elif action.required or action.nargs == 0 or action.default in (None, []):
            # nothing to say: required, a flag, or off unless given
            assert help_text in text and f"{help_text} (default:" not in text, action.dest
        else:
            assert f"{help_text} (default: {action.default})" in text, action.dest
    for empty in ("(default: None)", "(default: [])", "(default: False)"):
        assert empty not in text
    if command == "train":
        for fragment in ["--eval-every", "(default: the preset's, 1000)", "--env",
                         "(default: Pendulum-v1)", "--preset", "(default: fast)",
                         "--seed", "random seed (default: 0)", "--steps", "--resume",
                         "--overwrite", "--no-gif", "--no-progress", "--set", "--out"]:
            assert fragment in text


def test_python_m_ddpg_tutorial_help_in_a_subprocess():
    result = subprocess.run([sys.executable, "-m", "ddpg_tutorial", "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ddpg-tutorial")
    for command in ("train", "evaluate", "render"):
        assert command in result.stdout


# SIGTERM and --resume -----------------------------------------------------------------------

def start(*argv: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "SDL_VIDEODRIVER": "dummy",
           "SDL_AUDIODRIVER": "dummy"}
    return subprocess.Popen([sys.executable, "-m", "ddpg_tutorial", *argv], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_when(process: subprocess.Popen, done: callable, timeout: float = 180) -> None:
    """SIGKILL ``process`` as soon as ``done()`` is true, checking that it was still running."""
    deadline = time.monotonic() + timeout
    while not done():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"not done within {timeout} s"
        time.sleep(0.01)
    assert process.poll() is None, "the run finished before it could be killed"
    process.kill()  # SIGKILL: no handler runs, nothing is saved on the way out
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


def evaluated_steps(folder: Path) -> int:
    try:
        return int(read_csv(folder / "evaluations.csv")[-1][0])
    except (OSError, IndexError, ValueError):
        return 0


@pytest.mark.slow
def test_a_run_killed_with_sigkill_twice_resumes_to_the_results_of_an_uninterrupted_run(
        tmp_path, capsys):
    args = ["train", "--steps", "2400", "--eval-every", "400", "--save-every", "400", "--no-gif",
            *TINY_TRAIN_ARGS]
    killed_dir, full_dir = tmp_path / "killed", tmp_path / "full"
    # Killed once between two evaluations (so after a save, with unsaved steps since), ...
    kill_when(start(*args, "--out", str(killed_dir), cwd=tmp_path),
              lambda: evaluated_steps(killed_dir) >= 800)
    assert (killed_dir / "training_state.pt").exists()
    resume = ["train", "--resume", str(killed_dir), "--no-progress", "--no-gif", "--threads", "1"]
    # ... then resumed and killed again a little later, ...
    kill_when(start(*resume, cwd=tmp_path), lambda: evaluated_steps(killed_dir) >= 1600)
    # ... then resumed to the end.
    finished = start(*resume, cwd=tmp_path)
    rc, _, err = cli(capsys, *args, "--out", full_dir)  # meanwhile, uninterrupted
    assert rc == 0, err
    out, err = finished.communicate(timeout=300)
    assert finished.returncode == 0, err
    assert "resuming Pendulum-v1 from step" in out

    assert (killed_dir / "episodes.csv").read_text() == (full_dir / "episodes.csv").read_text()
    assert (killed_dir / "losses.csv").read_text() == (full_dir / "losses.csv").read_text()
    drop_time = lambda rows: [row[:1] + row[2:-1] for row in rows]  # noqa: E731 (the times)
    assert drop_time(read_csv(killed_dir / "evaluations.csv")) == \
        drop_time(read_csv(full_dir / "evaluations.csv"))
    assert len(read_csv(full_dir / "evaluations.csv")) == 1 + 2400 // 400
    assert is_finished(killed_dir)
    assert not list(killed_dir.glob(".*.tmp"))  # no half-written file left behind


@pytest.mark.slow
def test_once_its_parent_died_a_run_takes_repeated_sigterms_as_one(tmp_path):
    # A sweep killed with SIGKILL: the kernel hands its runs through the sweep's dying threads
    # and sends the parent-death SIGTERM at each hand-over, so a run can get two at once.
    # They are not a user asking twice: the run still finishes its episode and saves.
    folder, log = tmp_path / "orphan", tmp_path / "orphan.log"
    train = [sys.executable, "-m", "ddpg_tutorial", "train", "--steps", "1200", "--no-gif",
             "--out", str(folder), *TINY_TRAIN_ARGS]
    # The parent starts the run, waits until its signal handlers are installed (it saved its
    # first state), and dies.
    parent = ("import pathlib, subprocess, sys, time; log = open(sys.argv[1], 'w'); "
              "run = subprocess.Popen(sys.argv[3:], stdout=log, stderr=log)\n"
              "while not pathlib.Path(sys.argv[2]).exists() and run.poll() is None: "
              "time.sleep(0.02)\n"
              "print(run.pid)")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    pid = int(subprocess.run([sys.executable, "-c", parent, str(log),
                              str(folder / "training_state.pt"), *train], env=env, cwd=tmp_path,
                             capture_output=True, text=True, check=True, timeout=180).stdout)
    deadline = time.monotonic() + 180
    try:
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.05)
        os.kill(pid, signal.SIGTERM)
        while is_running(pid):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    text = log.read_text()
    assert "SIGTERM: finishing the current episode" in text
    assert "SIGTERM again: stopping now" not in text
    assert f"continue with: ddpg-tutorial train --resume {folder}" in text


def test_sigterm_saves_a_state_and_resume_finishes_like_an_uninterrupted_run(tmp_path, capsys):
    args = ["train", "--steps", "1200", "--eval-every", "400", "--no-gif", *TINY_TRAIN_ARGS]
    stopped_dir, full_dir = tmp_path / "stopped", tmp_path / "full"
    stopped = start(*args, "--out", str(stopped_dir), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 180
        while not (stopped_dir / "evaluations.csv").exists():
            assert stopped.poll() is None, stopped.communicate()
            assert time.monotonic() < deadline, "no evaluation written in 180 s"
            time.sleep(0.02)
        stopped.send_signal(signal.SIGTERM)
        out, err = stopped.communicate(timeout=180)
    finally:
        stopped.kill()
    assert stopped.returncode == 143, err
    assert "Traceback" not in err
    assert "SIGTERM: finishing the current episode, then saving the training state" in err
    assert f"continue with: ddpg-tutorial train --resume {stopped_dir}" in out
    assert (stopped_dir / "training_state.pt").exists()
    assert not (stopped_dir / "learning_curve.png").exists()
    stopped_at = int(out.split("stopped at step ")[1].split(";")[0])
    assert stopped_at < 1200 and stopped_at % 200 == 0  # at the end of an episode

    resumed = start("train", "--resume", str(stopped_dir), "--no-progress", "--no-gif",
                    "--threads", "1", cwd=tmp_path)
    # Meanwhile, the same run without interruption, in this process.
    rc, _, err = cli(capsys, *args, "--out", full_dir)
    assert rc == 0, err
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert f"resuming Pendulum-v1 from step {stopped_at}" in out
    assert "Traceback" not in err

    assert is_finished(stopped_dir)
    assert (stopped_dir / "learning_curve.png").exists()
    assert (stopped_dir / "episodes.csv").read_text() == (full_dir / "episodes.csv").read_text()
    drop_time = lambda rows: [row[:1] + row[2:-1] for row in rows]  # noqa: E731 (the times)
    assert drop_time(read_csv(stopped_dir / "evaluations.csv")) == \
        drop_time(read_csv(full_dir / "evaluations.csv"))
    assert len(read_csv(full_dir / "episodes.csv")) == 1 + 1200 // 200


# One process per run folder ------------------------------------------------------------------

def stopped_run(folder: Path, total_steps: int = 1200, at: int = 400) -> None:
    """A tiny run stopped at step ``at`` with its training state saved, to resume."""
    trainer = Trainer("Pendulum-v1", tiny_config(total_steps=total_steps), out_dir=folder,
                      progress=False)
    stop_after(trainer, at)
    trainer.run()
    assert (folder / "training_state.pt").exists()


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``folder`` (and the folder) with its modification time and size."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in [folder, *folder.rglob("*")]}


def test_a_second_process_in_a_run_folder_is_refused_in_one_line_and_touches_nothing(
        tmp_path, capsys):
    out = tmp_path / "run"
    stopped_run(out)
    first = start("train", "--resume", str(out), "--no-progress", "--no-gif", "--threads", "1",
                  cwd=tmp_path)
    try:
        deadline = time.monotonic() + 180
        while (out / ".lock").read_text().strip() != str(first.pid):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the resumed run took no lock in 180 s"
            time.sleep(0.01)
        first.send_signal(signal.SIGSTOP)  # frozen, lock held: the folder stays as it is
        before = snapshot(out)
        for argv in (["train", "--resume", out],
                     ["train", "--out", out, "--overwrite", *TINY_TRAIN_ARGS]):
            rc, stdout, err = cli(capsys, *argv)
            assert_one_line_error(rc, err, f"another process (pid {first.pid}) is training in "
                                           f"'{out}'")
            assert stdout == ""
        assert snapshot(out) == before
        first.send_signal(signal.SIGCONT)
        _, err = first.communicate(timeout=300)
        assert first.returncode == 0, err
    finally:
        first.kill()
    assert is_finished(out)  # the first one finished the run
    rc, _, err = cli(capsys, "train", "--out", out, "--overwrite", "--steps", "300",
                     "--eval-every", "300", "--no-gif", *TINY_TRAIN_ARGS)
    assert rc == 0, err  # and let the folder go


def test_resuming_with_other_library_code_warns_in_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    stopped_run(out, total_steps=800)
    config = json.loads((out / "config.json").read_text())
    config["code"] = "0123456789abcdef"  # as if the library changed since the run started
    (out / "config.json").write_text(json.dumps(config))
    rc, _, err = cli(capsys, "train", "--resume", out, "--no-gif")
    assert rc == 0, err
    assert [line for line in err.splitlines() if "warning" in line] == [(
        f"warning: other library code started this run (digest 0123456789abcdef, now "
        f"{code_digest()}); it goes on with this code, so its results mix two versions")]


# Another device ------------------------------------------------------------------------------

CUDA_GENERATOR_STATE = torch.zeros(16, dtype=torch.uint8)  # a CPU generator's is 5,056 bytes


def test_evaluate_an_agent_trained_on_another_device(run_dir, tmp_path, capsys):
    # What train --device cuda writes, made without a GPU: its generator state is CUDA's.
    payload = torch.load(run_dir / "agent.pt", weights_only=True)
    payload["state"]["generator"] = CUDA_GENERATOR_STATE
    atomic_save(payload, tmp_path / "agent.pt")
    rc, out, err = cli(capsys, "evaluate", tmp_path / "agent.pt", "--episodes", "2")
    assert rc == 0, err
    assert out == cli(capsys, "evaluate", run_dir / "agent.pt", "--episodes", "2")[1]


def test_a_run_trained_on_another_device_resumes_with_a_note_and_new_generator_streams(
        tmp_path, capsys):
    stopped_run(tmp_path / "cpu", total_steps=800)
    state = torch.load(tmp_path / "cpu" / "training_state.pt", weights_only=True)
    assert state["device"] == "cpu"  # a training state names the device it trained on
    state["agent"]["state"]["generator"] = state["buffer"]["generator"] = CUDA_GENERATOR_STATE
    state["device"] = "cuda:0"
    runs = []
    for name in ("gpu", "gpu-again"):  # twice, to see it goes on the same way each time
        shutil.copytree(tmp_path / "cpu", tmp_path / name)
        atomic_save(state, tmp_path / name / "training_state.pt")
        rc, out, err = cli(capsys, "train", "--resume", tmp_path / name, "--no-gif")
        assert rc == 0, err
        assert "warning" not in err  # the same code goes on
        notes = [line for line in out.splitlines() if line.startswith("note:")]
        assert notes == [(
            "note: this run trained on cuda:0 and continues on cpu, where its random generator "
            "states do not fit: the agent's and the replay's start new streams (from the run's "
            "seed and step), so the run differs from its continuation on cuda:0 (--device "
            "cuda:0 continues it exactly)")]
        runs.append((tmp_path / name / "episodes.csv").read_text())
    assert runs[0] == runs[1]
    assert len(runs[0].splitlines()) == 1 + 800 // 200


@pytest.mark.parametrize("value", ["0", "-5"])
def test_save_every_must_be_positive(value, tmp_path, capsys):
    rc, _, err = cli(capsys, "train", "--out", tmp_path / "run", "--save-every", value)
    assert_one_line_error(rc, err, f"--save-every must be a positive number of steps, got {value}")
    assert not (tmp_path / "run").exists()  # nothing written


def test_set_takes_python_spellings_and_choices_in_any_case():
    args = build_parser().parse_args(["train", "--set", "noise_sigma_final=None", "--set",
                                      "noise=OU", "--set", "critic_weight_decay=0"])
    config = _config_from_args(args)
    assert config.noise == "ou" and config.noise_sigma_final is None
    args = build_parser().parse_args(["train", "--preset", "paper", "--set", "batch_norm=False"])
    assert _config_from_args(args).batch_norm is False


def test_presets_lists_only_the_algorithms_asked_for(capsys):
    assert main(["presets", "--algo", "td3"]) == 0
    out = capsys.readouterr().out
    assert "--algo td3" in out and "policy_delay" in out
    assert "--algo ddpg" not in out and "--algo sac" not in out and "initial_alpha" not in out



def test_the_fast_preset_on_another_task_says_what_it_was_tuned_for(tmp_path, capsys):
    rc, out, err = cli(capsys, "train", "--env", "DDPGTestSmall-v0", "--steps", "300",
                       "--eval-every", "300", "--out", tmp_path / "run", "--no-gif",
                       *TINY_TRAIN_ARGS)
    assert rc == 0, err
    assert out.strip().splitlines()[0] == (
        "note: the fast presets were tuned on Pendulum-v1; on DDPGTestSmall-v0 they are a "
        "starting point, not a tuned configuration")


def test_a_second_ctrl_c_stops_at_once_and_says_what_is_kept(tmp_path, capsys, monkeypatch):
    # The two signals are delivered by calling the handler that train installed, right after
    # a save in the middle of the run; the second one's re-raised signal is only recorded.
    killed = []
    monkeypatch.setattr(os, "kill", lambda pid, signum: killed.append(signum))
    save = Trainer._save

    def save_then_interrupt_twice(trainer):
        save(trainer)
        if trainer.step >= 400 and not killed:
            handler = signal.getsignal(signal.SIGINT)
            handler(signal.SIGINT, None)
            handler(signal.SIGINT, None)

    monkeypatch.setattr(Trainer, "_save", save_then_interrupt_twice)
    out_dir = tmp_path / "run"
    rc, _, err = cli(capsys, "train", "--out", out_dir, "--steps", "1000", "--eval-every",
                     "200", "--no-gif", *TINY_TRAIN_ARGS)
    assert killed == [signal.SIGINT] and rc == 130
    assert "SIGINT: finishing the current episode, then saving the training state" in err
    assert (f"SIGINT again: stopping now, without saving; the training state of step 400 is "
            f"kept; continue with: ddpg-tutorial train --resume {out_dir}") in err


def test_a_stop_in_the_last_episode_finishes_the_run(tmp_path, capsys, monkeypatch):
    # The signal is delivered by calling train's handler after the evaluation at step 500,
    # in the last of three episodes of 200 steps.
    evaluate = Trainer._evaluate

    def evaluate_then_interrupt(trainer, wall_time_s):
        evaluate(trainer, wall_time_s)
        if trainer.step == 500:
            signal.getsignal(signal.SIGINT)(signal.SIGINT, None)

    monkeypatch.setattr(Trainer, "_evaluate", evaluate_then_interrupt)
    out_dir = tmp_path / "run"
    rc, out, err = cli(capsys, "train", "--out", out_dir, "--steps", "600", "--eval-every",
                       "100", *TINY_TRAIN_ARGS)
    assert rc == 0, err
    assert err.strip().splitlines()[-1] == ("SIGINT came in the last episode, so the run "
                                            "finished instead of stopping")
    assert "--resume" not in out and "done: 600 steps" in out
    assert is_finished(out_dir)
    assert (out_dir / "learning_curve.png").exists() and (out_dir / "policy.gif").exists()


def test_td3_without_delayed_actor_updates_says_so(tmp_path, capsys):
    rc, out, err = cli(capsys, "train", "--algo", "td3", "--steps", "300", "--eval-every",
                       "300", "--out", tmp_path / "run", "--no-gif", *TINY_TRAIN_ARGS)
    assert rc == 0, err
    assert out.splitlines()[0] == (
        "note: this TD3 updates its actor at every update (policy_delay 1, the fast preset's "
        "tuned value); the paper delays it to every second one (--set policy_delay=2)")
    rc, out, err = cli(capsys, "train", "--algo", "td3", "--steps", "300", "--eval-every",
                       "300", "--out", tmp_path / "run2", "--no-gif", *TINY_TRAIN_ARGS,
                       "--set", "policy_delay=2")
    assert rc == 0, err
    assert "note:" not in out


@pytest.mark.parametrize("where", ["folder", "missing"])
def test_evaluate_csv_in_no_folder_is_one_line(where, run_dir, tmp_path, capsys):
    path = tmp_path if where == "folder" else tmp_path / "no" / "such.csv"
    rc, out, err = cli(capsys, "evaluate", run_dir / "agent.pt", "--csv", path)
    assert_one_line_error(rc, err, f"--csv '{path}' is a folder or in no folder that exists")
    assert out == ""  # refused before evaluating
