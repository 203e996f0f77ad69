"""Sweeps (many runs as processes, skipped when finished, resumed when interrupted) and their
statistics (rliable's IQM and bootstrap intervals, the report)."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from conftest import is_running
from scipy import stats as scipy_stats

import ddpg_tutorial
from ddpg_tutorial import stats
from ddpg_tutorial.cli import build_parser, main
from ddpg_tutorial.config import parse_values
from ddpg_tutorial.errors import DDPGError
from ddpg_tutorial.files import FolderLock
from ddpg_tutorial.source import code_digest
from ddpg_tutorial.stats import (NOT_REACHED, Estimate, compare, compare_steps,
                                 interval_estimates, load_sweep, median_estimates,
                                 paired_differences, performance_profile,
                                 probability_of_improvement, report, sample_efficiency)
from ddpg_tutorial.sweep import (KEPT_FILES, SUMMARY_COLUMNS, TrainerChange, keep_results,
                                 make_grid, make_kept_sweep, parse_seeds, read_evaluations,
                                 sweep)

# Runs of a few seconds each: the tiny networks of conftest, 600 steps, 3 evaluations.
TINY = {"actor_hidden": [(32, 32)], "critic_hidden": [(32, 32)], "batch_size": [64],
        "buffer_size": [10_000], "warmup_steps": [200], "total_steps": [600],
        "eval_every": [200], "eval_episodes": [2]}


def read_summary(folder: Path) -> list[dict[str, str]]:
    with open(folder / "summary.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> Path:
    """Two configurations (tau 0.01 and 0.05) x seeds 5 and 6, run to the end."""
    out = tmp_path_factory.mktemp("sweep")
    specs = make_grid("Pendulum-v1", ["ddpg"], ["fast"], {**TINY, "tau": [0.01, 0.05]}, [5, 6])
    sweep(specs, out, jobs=2, threshold=-1300, progress=False)
    return out


# The grid -----------------------------------------------------------------------------------

def test_the_grid_is_every_combination_named_by_its_axes():
    specs = make_grid("Pendulum-v1", ["ddpg", "td3"], ["fast"],
                      {"tau": [0.01, 0.02], "gamma": [0.97]}, [0, 1, 2])
    assert len(specs) == 2 * 2 * 3
    assert sorted({s.group for s in specs}) == [
        "ddpg-fast-tau=0.01", "ddpg-fast-tau=0.02", "td3-fast-tau=0.01", "td3-fast-tau=0.02"]
    spec = next(s for s in specs if s.group == "td3-fast-tau=0.02" and s.seed == 2)
    config = spec.config()
    assert (config.algorithm, config.tau, config.gamma) == ("td3", 0.02, 0.97)
    assert spec.folder(Path("out")) == Path("out/td3-fast-tau=0.02/seed2")
    assert spec.train_command(Path("out"))[:10] == [
        "train", "--env", "Pendulum-v1", "--algo", "td3", "--preset", "fast", "--seed", "2",
        "--set"]


def test_an_invalid_configuration_is_refused_before_anything_runs():
    with pytest.raises(DDPGError, match="config field 'tau' must be in \\(0, 1\\]"):
        make_grid("Pendulum-v1", ["ddpg"], ["fast"], {"tau": [0.01, 2.0]}, [0])
    with pytest.raises(DDPGError, match="unknown config field"):
        make_grid("Pendulum-v1", ["sac"], ["fast"], {"ou_theta": [0.1]}, [0])


@pytest.mark.parametrize("text, seeds", [("100-103", [100, 101, 102, 103]), ("0,1,2", [0, 1, 2]),
                                         ("0-2,7", [0, 1, 2, 7])])
def test_seeds_take_ranges_and_lists(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["a-b", "1,1", "3-"])
def test_bad_seeds_are_refused(text):
    with pytest.raises(DDPGError, match="--seeds"):
        parse_seeds(text)


def test_set_values_parse_as_json_or_strings():
    assert parse_values("0.01,0.02") == [0.01, 0.02]
    assert parse_values("[64,64],[128,128]") == [[64, 64], [128, 128]]
    assert parse_values("gaussian,ou") == ["gaussian", "ou"]


def test_set_values_take_python_spellings_and_choices_in_any_case():
    assert parse_values("None,null,NONE,True,false") == [None, None, None, True, False]
    assert parse_values("OU,Gaussian") == ["ou", "gaussian"]
    # each value on its own: one that is no number stays text, and only it
    assert parse_values("0.01,0.02x") == [0.01, "0.02x"]
    with pytest.raises(DDPGError, match="between commas"):
        parse_values("0.01,,0.02")


def test_a_sweep_axis_error_names_the_bad_value():
    with pytest.raises(DDPGError, match="got '0.02x'"):
        make_grid("Pendulum-v1", ["ddpg"], ["fast"], {"tau": parse_values("0.01,0.02x")}, [0])


def test_a_reversed_seed_range_is_named():
    with pytest.raises(DDPGError, match="reversed range '5-2'; write it low-high, e.g. 2-5"):
        parse_seeds("5-2")


# Running ------------------------------------------------------------------------------------

def test_a_sweep_runs_every_run_and_summarises_it(finished_sweep):
    rows = read_summary(finished_sweep)
    assert [(r["group"], r["seed"], r["status"]) for r in rows] == [
        ("ddpg-fast-tau=0.01", "5", "finished"), ("ddpg-fast-tau=0.01", "6", "finished"),
        ("ddpg-fast-tau=0.05", "5", "finished"), ("ddpg-fast-tau=0.05", "6", "finished")]
    for row in rows:
        folder = finished_sweep / row["folder"]
        config = json.loads((folder / "config.json").read_text())
        assert config["tau"] == json.loads(row["overrides"])["tau"]
        assert config["seed"] == int(row["seed"])
        evaluations = read_evaluations(folder)
        assert [e["env_steps"] for e in evaluations] == [200, 400, 600]
        assert float(row["final_return"]) == evaluations[-1]["mean_return"]
        reached = [e["env_steps"] for e in evaluations if e["mean_return"] >= -1300]
        assert row["steps_to_threshold"] == (str(int(reached[0])) if reached else "")
        assert (folder / "training_state.pt").exists()  # kept: the run can be extended
    sweep_file = json.loads((finished_sweep / "sweep.json").read_text())
    assert sweep_file["seeds"] == [5, 6] and sweep_file["threshold"] == -1300


def test_running_a_finished_sweep_again_starts_no_run(finished_sweep):
    logs = sorted(finished_sweep.glob("*/seed*/train.log"))
    before = [log.stat().st_mtime_ns for log in logs]
    specs = make_grid("Pendulum-v1", ["ddpg"], ["fast"], {**TINY, "tau": [0.01, 0.05]}, [5, 6])
    rows = sweep(specs, finished_sweep, jobs=2, threshold=-1300, progress=False)
    assert [log.stat().st_mtime_ns for log in logs] == before
    assert len(rows) == 4 and all(r["status"] == "finished" for r in rows)


def test_the_progress_bar_counts_steps_across_runs(finished_sweep, tmp_path, capsys):
    from ddpg_tutorial.sweep import steps_done

    specs = make_grid("Pendulum-v1", ["ddpg"], ["fast"], {**TINY, "tau": [0.01, 0.05]}, [5, 6])
    totals = [600] * len(specs)
    assert steps_done(specs, finished_sweep, totals) == 4 * 600
    # A run stopped after its second evaluation counts up to it; one not started, nothing.
    partial = tmp_path / "partial"
    shutil.copytree(specs[0].folder(finished_sweep), specs[0].folder(partial))
    (specs[0].folder(partial) / "agent.pt").unlink()
    rows = (specs[0].folder(partial) / "evaluations.csv").read_text().splitlines()
    (specs[0].folder(partial) / "evaluations.csv").write_text("\n".join(rows[:3]) + "\n")
    assert steps_done(specs, partial, totals) == 400
    sweep(specs, finished_sweep, jobs=2, threshold=-1300, progress=True)  # all finished: full
    bar = capsys.readouterr().err
    assert "2.40k/2.40k" in bar and "4/4 runs finished" in bar


def test_a_sweep_into_a_folder_of_another_configuration_is_refused(finished_sweep):
    specs = make_grid("Pendulum-v1", ["ddpg"], ["fast"], {**TINY, "tau": [0.01, 0.05],
                                                          "gamma": [0.9]}, [5])
    with pytest.raises(DDPGError, match="holds a run of another configuration"):
        sweep(specs, finished_sweep, jobs=1, progress=False)


def test_a_sweep_over_runs_of_other_library_code_is_refused(finished_sweep, tmp_path):
    out = shutil.copytree(finished_sweep, tmp_path / "sweep")
    config = next(out.glob("*/seed5/config.json"))
    config.write_text(json.dumps({**json.loads(config.read_text()), "code": "0" * 16}))
    specs = make_grid("Pendulum-v1", ["ddpg"], ["fast"], {**TINY, "tau": [0.01, 0.05]}, [5, 6])
    with pytest.raises(DDPGError, match="holds a run made by other library code .digest 0{16}"):
        sweep(specs, out, jobs=1, progress=False)


def test_a_sweep_whose_run_trains_in_another_process_is_refused_before_anything_starts(
        finished_sweep, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(finished_sweep, out)
    specs = make_grid("Pendulum-v1", ["ddpg"], ["fast"], {**TINY, "tau": [0.01, 0.05]}, [5, 6])
    lock = FolderLock(specs[1].folder(out))  # as the same sweep, started earlier, holds it
    lock.acquire()
    try:
        before = (out / "summary.csv").read_bytes()
        with pytest.raises(DDPGError, match=re.escape(
                f"another process (pid {os.getpid()}) is training in '{specs[1].folder(out)}'")):
            sweep(specs, out, jobs=1, progress=False)
        assert (out / "summary.csv").read_bytes() == before
    finally:
        lock.release()


def test_a_failing_run_is_reported_with_its_log(tmp_path):
    # The test environments are registered in this process only: the run's process fails
    # (exit status 2) because it cannot make this one.
    specs = make_grid("DDPGTestSmall-v0", ["ddpg"], ["fast"], TINY, [0])
    with pytest.raises(DDPGError, match="1 of 1 runs failed; see .*seed0/train.log"):
        sweep(specs, tmp_path, jobs=1, progress=False)
    assert read_summary(tmp_path)[0]["status"] == "failed"


def sweep_command(out: Path, *extra: str) -> list[str]:
    sets = [arg for field, [value] in TINY.items() if field != "total_steps"
            for arg in ("--set", f"{field}={json.dumps(value)}")]
    return [sys.executable, "-m", "ddpg_tutorial", "sweep", "--out", str(out), "--seeds", "3",
            "--steps", "3000", "--set", "eval_every=500", *sets, "--jobs", "1",
            "--no-progress", *extra]


@pytest.mark.slow
def test_ctrl_c_stops_a_sweep_that_the_same_command_then_finishes_exactly(tmp_path):
    out = tmp_path / "sweep"
    command = sweep_command(out)
    # A session of its own, as a terminal's Ctrl-C reaches a whole process group.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    run = out / "ddpg-fast" / "seed3"
    deadline = time.monotonic() + 180
    while not (run / "evaluations.csv").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=180)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "continue with the same command" in err
    assert (run / "training_state.pt").exists()
    assert read_summary(out)[0]["status"] == "interrupted"

    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "1/1 runs finished" in again.stdout
    assert "resuming Pendulum-v1 from step" in (run / "train.log").read_text()
    assert read_summary(out)[0]["status"] == "finished"

    # The same run without interruption gives the same results.
    full = tmp_path / "full"
    subprocess.run(sweep_command(full), capture_output=True, check=True, timeout=300)
    uninterrupted = full / "ddpg-fast" / "seed3"
    def returns(folder: Path) -> list[tuple[float, float]]:
        return [(e["env_steps"], e["mean_return"]) for e in read_evaluations(folder)]

    assert returns(run) == returns(uninterrupted)
    assert (run / "episodes.csv").read_text() == (uninterrupted / "episodes.csv").read_text()


@pytest.mark.slow
def test_sigterm_stops_a_sweep_with_status_143(tmp_path):
    out = tmp_path / "sweep"
    process = subprocess.Popen(sweep_command(out), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    run = out / "ddpg-fast" / "seed3"
    deadline = time.monotonic() + 180
    while not (run / "evaluations.csv").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.terminate()  # SIGTERM to the sweep alone, as a batch scheduler sends it
    _, err = process.communicate(timeout=180)
    assert process.returncode == 143, err  # 128 + 15; a Ctrl-C's is 130
    assert "Traceback" not in err and "continue with the same command" in err
    assert (run / "training_state.pt").exists()
    assert read_summary(out)[0]["status"] == "interrupted"


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is "
                    "Linux's; elsewhere the run folder's lock keeps a second process out")
def test_a_sweep_killed_with_sigkill_leaves_no_run_training(tmp_path):
    out = tmp_path / "sweep"
    process = subprocess.Popen(sweep_command(out), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    run = out / "ddpg-fast" / "seed3"
    try:
        deadline = time.monotonic() + 180
        while not (run / "training_state.pt").exists():  # the run trains
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        runs = children_of(process.pid)
        assert len(runs) == 1
    finally:
        process.kill()  # SIGKILL: the sweep can pass nothing on
        process.communicate(timeout=60)
    deadline = time.monotonic() + 15
    while is_running(runs[0]):
        assert time.monotonic() < deadline, "the run outlived its sweep by 15 s"
        time.sleep(0.05)
    # It got SIGTERM, so it finished its episode and saved, for the sweep to resume.
    assert "SIGTERM: finishing the current episode" in (run / "train.log").read_text()
    assert (run / "training_state.pt").exists()


# Statistics ---------------------------------------------------------------------------------

@pytest.mark.parametrize("runs", [1, 2, 3, 4, 5, 10, 13])
def test_the_iqm_is_rliables_and_scipys_to_the_last_bit(runs):
    from rliable import metrics

    rng = np.random.default_rng(runs)
    finals = rng.normal(-300, 200, size=(runs, 1))
    finals[: runs // 2] = finals[-1]  # ties too
    assert stats.iqm(finals) == metrics.aggregate_iqm(finals)
    curves = rng.normal(-300, 200, size=(runs, 7))
    assert np.array_equal(stats.iqm(curves, axis=0), scipy_stats.trim_mean(curves, 0.25, axis=0))


def test_the_iqm_is_the_25_percent_trimmed_mean_and_its_interval_holds_it():
    returns = {"a": np.arange(12.0) ** 2, "b": -np.arange(10.0) ** 2}
    estimates = interval_estimates(returns, reps=2000)
    for name, values in returns.items():
        iqm, mean = estimates[name]["IQM"], estimates[name]["mean"]
        assert iqm.point == pytest.approx(scipy_stats.trim_mean(values, 0.25))
        assert mean.point == pytest.approx(values.mean())
        assert iqm.low < iqm.point < iqm.high and mean.low < mean.point < mean.high
    # 12 runs: 3 dropped at each end, the middle half: runs 3..8 (sorted).
    assert estimates["a"]["IQM"].point == pytest.approx(np.mean(np.arange(3, 9) ** 2))
    # 10 runs: 2 dropped at each end (a quarter, rounded down), the middle 6: runs 2..7.
    assert estimates["b"]["IQM"].point == pytest.approx(-np.mean(np.arange(2, 8) ** 2))


def test_the_iqm_is_described_as_the_25_percent_trimmed_mean(tmp_path):
    write_sweep(tmp_path, {("a", seed): ("finished", [-300.0 - seed]) for seed in range(4)})
    report(tmp_path, reps=100)
    readme = " ".join((Path(__file__).parent.parent / "README.md").read_text().split())
    report_cmd = next(action.choices["report"] for action in build_parser()._actions
                      if isinstance(action, argparse._SubParsersAction))
    for text in (readme, " ".join(stats.__doc__.split()), " ".join(
            interval_estimates.__doc__.split()), (tmp_path / "report.md").read_text(),
                 report_cmd.description.replace("%%", "%")):
        assert "25% trimmed mean" in text
        assert "mean of the middle half" not in text
    for text in (readme, " ".join(stats.__doc__.split()), (tmp_path / "report.md").read_text()):
        assert "middle 6" in text


def test_bootstraps_are_seeded_and_leave_numpy_alone():
    returns = {"a": np.random.default_rng(0).normal(size=10)}
    np.random.seed(123)
    expected_next = np.random.rand()
    np.random.seed(123)
    first = interval_estimates(returns, reps=500, seed=1)
    assert np.random.rand() == expected_next  # the global generator is as it was
    assert interval_estimates(returns, reps=500, seed=1) == first
    assert interval_estimates(returns, reps=500, seed=2) != first


def test_medians_of_steps_say_not_reached_when_most_runs_never_reached():
    estimates = median_estimates({"most": [1000, 2000, 3000, np.inf],
                                  "few": [1000, np.inf, np.inf]}, reps=500)
    assert estimates["most"].point == 2500
    assert estimates["few"].point == NOT_REACHED
    assert estimates["few"].format() == "not reached"
    assert Estimate(2500, 1000, NOT_REACHED).format() == "2500 [1000, not reached]"


def test_sample_efficiency_and_profiles_have_one_value_per_point():
    curves = {"a": np.array([[0.0, 1, 2], [0, 2, 4], [0, 3, 6], [1, 1, 1]])}
    (iqm, band), = sample_efficiency(curves, reps=300).values()
    assert iqm.shape == (3,) and band.shape == (2, 3)
    assert iqm == pytest.approx([scipy_stats.trim_mean(curves["a"][:, t], 0.25) for t in range(3)])
    thresholds = np.array([-1.0, 1.5, 10.0])
    (profile, band), = performance_profile({"a": [0.0, 1, 2, 3]}, thresholds, reps=300).values()
    assert profile == pytest.approx([1.0, 0.5, 0.0])
    assert band.shape == (2, 3)


def test_the_report_of_a_sweep(finished_sweep, capsys):
    assert main(["report", str(finished_sweep), "--reps", "500"]) == 0
    printed, warned = capsys.readouterr()
    assert printed.startswith("bootstrapping intervals with 500 resamples")
    assert warned.count("\n") == 1 and "fewer than 5 runs per configuration" in warned
    text = (finished_sweep / "report.md").read_text()
    assert "**Few runs**: 2 per configuration." in text
    results = load_sweep(finished_sweep)
    finals = results.final_returns()
    assert list(finals) == ["ddpg-fast-tau=0.01", "ddpg-fast-tau=0.05"]
    for group, values in finals.items():
        assert len(values) == 2
        iqm = interval_estimates({group: values}, reps=500)[group]["IQM"]
        assert f"| {group} | 2 | {iqm.format()} |" in text and f"| {group} | 2 |" in printed
    assert "reached -1300" in text and "Seeds: 5, 6." in text
    for figure in ("sample_efficiency.png", "performance_profile.png"):
        assert (finished_sweep / figure).stat().st_size > 10_000
        assert f"]({figure})" in text


def test_the_report_writes_its_figures_atomically(finished_sweep, tmp_path, monkeypatch):
    import matplotlib.figure

    out = tmp_path / "sweep"
    shutil.copytree(finished_sweep, out)
    report(out, reps=50)
    figures = {name: (out / name).read_bytes()
               for name in ("sample_efficiency.png", "performance_profile.png")}

    def crash_mid_write(fig, f, **kwargs):
        f.write(b"\x89PNG half a figure")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", crash_mid_write)
    with pytest.raises(OSError, match="No space left"):
        report(out, reps=50)
    assert {name: (out / name).read_bytes() for name in figures} == figures
    assert not list(out.glob(".*.tmp"))


def test_report_of_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"error: '{tmp_path}' is not a sweep folder") and err.count("\n") == 1
    assert out == ""  # no progress line before the error


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "x"], "--seeds takes numbers and ranges"),
    (["--seeds", "0", "--algo", "ppo"], "unknown combination --algo ppo --preset fast"),
    (["--seeds", "0", "--set", "tau"], "--set expects FIELD=VALUE"),
    (["--seeds", "0", "--jobs", "0"], "--jobs must be a positive integer"),
])
def test_sweep_errors_are_one_line(argv, message, tmp_path, capsys):
    assert main(["sweep", "--out", str(tmp_path / "s"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_the_code_digest_ignores_prose_and_sees_code(tmp_path):
    package = Path(ddpg_tutorial.__file__).parent
    copy = tmp_path / "ddpg_tutorial"
    shutil.copytree(package, copy)
    assert code_digest(copy) == code_digest()
    buffer = copy / "buffer.py"
    text = buffer.read_text()
    prose = text.replace('"""', '"""Reworded. ', 1).replace("\n", "\n# a comment\n", 1)
    buffer.write_text(prose)
    assert code_digest(copy) == code_digest()
    buffer.write_text(text + "\n\ndef _unused():\n    return 1\n")
    assert code_digest(copy) != code_digest()


def test_runs_record_the_code_digest(finished_sweep):
    for row in read_summary(finished_sweep):
        assert row["code"] == code_digest()
        config = json.loads((finished_sweep / row["folder"] / "config.json").read_text())
        assert config["code"] == code_digest()


def test_kept_results_hold_what_statistics_need_and_nothing_heavy(finished_sweep, tmp_path):
    specs = make_grid("Pendulum-v1", ["ddpg"], ["fast"], {**TINY, "tau": [0.01, 0.05]}, [5, 6])
    keep_results(specs, finished_sweep, tmp_path)
    kept = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    runs = [spec.folder(Path(".")).as_posix() for spec in specs]
    assert kept == sorted(["summary.csv", "sweep.json",
                           *(f"{run}/{name}" for run in runs for name in KEPT_FILES)])
    # The statistics read the kept folder as they read the sweep's.
    kept_results, results = load_sweep(tmp_path), load_sweep(finished_sweep)
    assert kept_results.rows == results.rows
    for group, curve in results.curves.items():
        np.testing.assert_array_equal(kept_results.curves[group], curve)
    # What a run's config.json records is what its spec says.
    for spec in specs:
        saved = json.loads((spec.folder(tmp_path) / "config.json").read_text())
        assert {k: v for k, v in saved.items() if k != "code"} == spec.record()


def test_a_kept_sweep_script_continues_its_sweep_and_keeps_the_results(finished_sweep, tmp_path,
                                                                      capsys):
    specs = make_grid("Pendulum-v1", ["ddpg"], ["fast"], {**TINY, "tau": [0.01, 0.05]}, [5, 6])
    # Every run of the sweep has finished, so nothing trains; the results are kept.
    make_kept_sweep("Make the data.", specs, tmp_path / "kept", "unused",
                    threshold=-1300, argv=["--work", str(finished_sweep), "--jobs", "1"])
    assert f"wrote 4 runs into {tmp_path / 'kept'}" in capsys.readouterr().out
    assert load_sweep(tmp_path / "kept").rows == load_sweep(finished_sweep).rows


def zero_training_rewards(trainer) -> None:
    """A change no config field describes: the training environment pays 0 for everything."""
    trainer.env = gym.wrappers.TransformReward(trainer.env, lambda reward: 0.0)


def test_a_kept_sweep_trains_its_changed_groups_in_process_and_describes_them(
        finished_sweep, tmp_path, capsys):
    plain = make_grid("Pendulum-v1", ["ddpg"], ["fast"], {**TINY, "tau": [0.01, 0.05]}, [5, 6])
    changed = [dataclasses.replace(spec, group="zero-reward") for spec in plain
               if dict(spec.overrides)["tau"] == 0.01]
    work = tmp_path / "work"
    shutil.copytree(finished_sweep, work)  # the plain runs have finished: only the change trains
    change = TrainerChange("every training reward 0", zero_training_rewards)
    make_kept_sweep("Make the data.", plain + changed, tmp_path / "kept", "unused",
                    threshold=-1300, argv=["--work", str(work), "--jobs", "1"],
                    changes={"zero-reward": change})
    out = capsys.readouterr().out
    assert "training zero-reward/seed5 in this process" in out
    assert "wrote 6 runs into" in out
    kept = tmp_path / "kept"
    for spec in plain + changed:
        episodes = (spec.folder(work) / "episodes.csv").read_text().splitlines()[1:]
        returns = [float(line.split(",")[1]) for line in episodes]
        assert (max(map(abs, returns)) == 0) == (spec.group == "zero-reward")
        assert (spec.folder(kept) / "evaluations.csv").is_file()
    info = json.loads((kept / "sweep.json").read_text())
    assert info["groups"]["zero-reward"]["description"] == "every training reward 0"
    assert all("description" not in info["groups"][spec.group] for spec in plain)
    assert sorted(row["group"] for row in read_summary(kept)) == sorted(
        spec.group for spec in plain + changed)
    # Run again: everything has finished, so nothing trains.
    make_kept_sweep("Make the data.", plain + changed, tmp_path / "kept", "unused",
                    threshold=-1300, argv=["--work", str(work), "--jobs", "1"],
                    changes={"zero-reward": change})
    assert "training" not in capsys.readouterr().out.replace("training in", "")


# Every run counts, paired comparisons (synthetic sweep folders, no training) -----------------

DIVERGED = "error: training diverged before step 250: summed critic_loss nan; try lower rates"


def write_sweep(out: Path, runs: dict[tuple[str, int], tuple[str, list[float]]],
                threshold: float | None = None) -> Path:
    """A sweep folder as :func:`sweep` leaves it: ``sweep.json``, ``summary.csv`` and each run's
    ``evaluations.csv`` (one evaluation every 100 steps, the returns given). ``runs``: (group,
    seed) -> (status, returns); a failed run's train.log ends with :data:`DIVERGED`."""
    rows = []
    for (group, seed), (status, returns) in runs.items():
        folder = out / group / f"seed{seed}"
        folder.mkdir(parents=True)
        if returns:
            with open(folder / "evaluations.csv", "w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(["env_steps", "wall_time_s", "mean_return", "std_return",
                                 "q_estimate", "discounted_return"])
                writer.writerows([100 * (i + 1), i + 1.0, r, 1.0, r, r]
                                 for i, r in enumerate(returns))
        if status == "failed":
            (folder / "train.log").write_text(f"starting\n{DIVERGED}\n")
        reached = next((i for i, r in enumerate(returns)
                        if threshold is not None and r >= threshold), None)
        rows.append({"group": group, "algorithm": "ddpg", "preset": "fast", "overrides": "{}",
                     "seed": seed, "env_id": "Pendulum-v1", "status": status,
                     "env_steps": 100 * len(returns),
                     "final_return": returns[-1] if returns else "nan",
                     "steps_to_threshold": "" if reached is None else 100 * (reached + 1),
                     "wall_to_threshold_s": "" if reached is None else reached + 1.0,
                     "wall_s": float(len(returns)),
                     "train_to_threshold_s": "" if reached is None else (reached + 1) / 2,
                     "train_s": len(returns) / 2, "code": code_digest(),
                     "folder": f"{group}/seed{seed}"})
    with open(out / "summary.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    (out / "sweep.json").write_text(json.dumps(
        {"env_id": "Pendulum-v1", "threshold": threshold, "seeds": sorted({s for _, s in runs}),
         "groups": {group: {} for group, _ in runs}}))
    return out


def stopped_sweep(out: Path, interrupted: bool = True) -> Path:
    """Three configurations on seeds 0-3; seed 3 of 'a' failed after reaching -200 at its
    second evaluation, of 'b' was interrupted after one (if ``interrupted``, else it
    finished) and of 'c' failed before its first."""
    runs = {}
    for seed in range(3):
        runs["a", seed] = ("finished", [-900.0 + seed, -500.0, -150.0 - seed])
        runs["b", seed] = ("finished", [-1000.0, -600.0, -300.0 - seed])
        runs["c", seed] = ("finished", [-800.0, -190.0 - seed, -180.0 - seed])
    runs["a", 3] = ("failed", [-700.0, -180.0])
    runs["b", 3] = (("interrupted", [-950.0]) if interrupted
                    else ("finished", [-1000.0, -600.0, -310.0]))
    runs["c", 3] = ("failed", [])
    return write_sweep(out, runs, threshold=-200)


def test_a_sweep_with_unfinished_runs_is_reported_only_with_partial(tmp_path, capsys):
    out = stopped_sweep(tmp_path)
    assert main(["report", str(out), "--reps", "200"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 1 of 12 runs in") and err.count("\n") == 1
    assert "b/seed3, interrupted" in err and "--partial" in err
    with pytest.raises(DDPGError, match="have not finished"):
        load_sweep(out)
    assert not (out / "report.md").exists()

    assert main(["report", str(out), "--reps", "200", "--partial"]) == 0
    text = (out / "report.md").read_text()
    assert text.startswith("# Pendulum-v1: 12 runs (9 finished, 2 failed, 1 interrupted), "
                           "partial report\n")
    assert "**Partial report**" in text and "**Partial report**" in capsys.readouterr().out
    assert "- b, seed 3: interrupted; counted at its last evaluation, step 100; running the " \
           "sweep again continues it" in text


def test_every_run_counts_a_failed_one_at_its_last_evaluation_and_as_not_reached(tmp_path,
                                                                                 capsys):
    out = stopped_sweep(tmp_path, interrupted=False)  # failed runs only: no --partial needed
    assert main(["report", str(out), "--reps", "200"]) == 0
    results = load_sweep(out)
    assert not results.partial
    # a's failed run counts at its last evaluation, carried to the end of the curve.
    np.testing.assert_array_equal(results.curves["a"][3], [-700, -180, -180])
    assert sorted(results.final_returns()["a"]) == sorted([-150.0, -151.0, -152.0, -180.0])
    # c's failed run has no evaluation: excluded from the returns, listed with its reason.
    assert results.curves["c"].shape == (3, 3) and results.seeds["c"] == [0, 1, 2]
    assert [(r.group, r.seed, r.status, r.last_step, r.excluded) for r in results.stopped] == [
        ("a", 3, "failed", 200, False), ("c", 3, "failed", 0, True)]
    # Both failed runs count as not reached, though a's passed -200 before failing.
    assert results.to_threshold("steps_to_threshold")["a"].tolist() == [300, 300, 300, math.inf]
    assert results.to_threshold("steps_to_threshold")["c"].tolist() == [200, 200, 200, math.inf]

    text = (out / "report.md").read_text()
    assert text.startswith("# Pendulum-v1: 12 runs (10 finished, 2 failed)\n")
    assert "partial" not in text.lower()
    estimates = interval_estimates(results.final_returns(), reps=200)
    assert f"| a | 4 | {estimates['a']['IQM'].format()} | {estimates['a']['mean'].format()} " \
           "| 3/4 |" in text
    assert "| b | 4 |" in text and " | 0/4 | not reached |" in text
    assert f"| c | 3 of 4 | {estimates['c']['IQM'].format()} |" in text and "| 3/4 |" in text
    assert f"- a, seed 3: failed; counted at its last evaluation, step 200; {DIVERGED}" in text
    assert f"- c, seed 3: failed; excluded from the returns (no evaluation); {DIVERGED}" in text
    assert "- c, seed 3: failed" in capsys.readouterr().out


def test_paired_differences_are_taken_on_the_shared_seeds():
    diffs = paired_differences({0: 1.0, 1: 2.0, 2: 3.0, 5: 10.0}, {0: 0.0, 1: 0.0, 2: 4.0, 3: 7.0},
                               reps=300)
    assert diffs.seeds == (0, 1, 2) and diffs.values.tolist() == [1, 2, -1]
    assert (diffs.higher, diffs.lower) == (2, 1)
    assert diffs.mean.point == pytest.approx(2 / 3)
    assert diffs.iqm.point == pytest.approx(scipy_stats.trim_mean([1, 2, -1], 0.25))
    assert diffs.mean.low <= diffs.mean.point <= diffs.mean.high
    none = paired_differences({0: 1.0}, {1: 1.0})
    assert none.seeds == () and none.mean is None and none.iqm is None


def test_the_probability_of_improvement_is_rliables_with_its_bootstrap_interval():
    from rliable import metrics

    better, worse = [3.0, 4.0, 5.0, 1.0], [0.0, 1.0, 2.0, 2.0]
    estimate = probability_of_improvement(better, worse, reps=300)
    expected = metrics.probability_of_improvement(np.array(better)[:, None],
                                                  np.array(worse)[:, None])
    assert estimate.point == pytest.approx(expected) == pytest.approx(13.5 / 16)  # ties: half
    assert 0 <= estimate.low <= estimate.point <= estimate.high <= 1
    assert probability_of_improvement(worse, worse, reps=100).point == 0.5
    assert probability_of_improvement(better, worse, reps=300) == estimate  # seeded


def test_steps_to_a_threshold_are_differenced_only_where_both_runs_reached_it():
    steps = compare_steps({0: 100.0, 1: math.inf, 2: 300.0, 3: math.inf, 4: 500.0},
                          {0: 200.0, 1: 100.0, 2: math.inf, 3: math.inf, 4: 200.0}, reps=200)
    assert steps.both.seeds == (0, 4) and steps.both.values.tolist() == [-100, 300]
    assert steps.both.mean.point == 100
    assert (steps.only_group, steps.only_baseline, steps.neither) == ((2,), (1,), (3,))


def test_report_with_a_baseline_compares_every_configuration_seed_by_seed(tmp_path, capsys):
    # 'better' is 'base' + 1 on every seed, but the seeds spread so much that the two
    # groups' intervals overlap: only the paired comparison sees the difference.
    spread = [-400.0, -300.0, -200.0, -150.0, -120.0, -100.0]
    runs = {("base", s): ("finished", [-1000.0, r]) for s, r in enumerate(spread)}
    runs |= {("better", s): ("finished", [-1000.0, r + 1]) for s, r in enumerate(spread)}
    runs |= {("worse", s): ("finished", [-1000.0, r - 2 * (s % 2)]) for s, r in enumerate(spread)}
    out = write_sweep(tmp_path, runs)
    assert main(["report", str(out), "--reps", "300", "--baseline", "base"]) == 0
    printed = capsys.readouterr().out
    text = (out / "report.md").read_text()
    estimates = interval_estimates(load_sweep(out).final_returns(), reps=300)
    assert estimates["better"]["mean"].low < estimates["base"]["mean"].high  # they overlap
    comparison = compare(load_sweep(out), "better", "base", reps=300)
    assert comparison.returns.values.tolist() == [1.0] * 6
    assert comparison.improvement.point == pytest.approx(
        scipy_stats.mannwhitneyu(np.array(spread) + 1, spread).statistic / 36)
    assert "## Paired against base" in text and "## Paired against base" in printed
    assert "overlapping intervals in the table above are not a test" in text.lower()
    assert "91%" in text
    assert (f"| better | 6 | 6 / 0 | 1.0 [1.0, 1.0] | 1.0 [1.0, 1.0] "
            f"| {comparison.improvement.format('.2f')} |") in text
    assert "| worse | 6 | 0 / 3 | -1.0 [" in text
    assert "| base | 6 | 0 / 0 |" not in text  # not against itself

    assert main(["report", str(out), "--baseline", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --baseline 'nosuch' is not a configuration of")
    assert "base, better, worse" in err and err.count("\n") == 1


def test_a_comparison_counts_a_failed_run_as_not_reaching_the_threshold(tmp_path):
    results = load_sweep(stopped_sweep(tmp_path, interrupted=False))
    comparison = compare(results, "c", "a", reps=200)
    assert comparison.returns.seeds == (0, 1, 2)  # c's seed 3 has no return to compare
    steps = comparison.steps
    assert steps.both.seeds == (0, 1, 2) and steps.both.values.tolist() == [-100] * 3
    assert steps.neither == (3,)  # both failed; a's seed 3 had passed -200 at step 200
    with pytest.raises(DDPGError, match="no configuration 'x'; its configurations: a, b, c"):
        compare(results, "x", "a")


def test_a_sweep_that_lists_a_run_twice_is_refused_before_anything_starts(tmp_path):
    spec = make_grid("Pendulum-v1", ["ddpg"], ["fast"], TINY, [0])[0]
    with pytest.raises(DDPGError, match="lists a run .configuration and seed. twice"):
        sweep([spec, spec], tmp_path / "out", jobs=1, progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("algorithms, presets, overrides, message", [
    (["ddpg", "ddpg"], ["fast"], {}, "holds the configuration 'ddpg-fast' twice"),
    (["ddpg"], ["fast", "fast"], {}, "holds the configuration 'ddpg-fast' twice"),
    (["ddpg"], ["fast"], {"tau": [0.01, 0.010]}, "configuration 'ddpg-fast-tau=0.01' twice"),
    (["ddpg"], ["fast"], {"tau": [1, 1.0]},
     "configurations 'ddpg-fast-tau=1' and 'ddpg-fast-tau=1.0' are the same"),
])
def test_a_grid_that_repeats_a_configuration_is_refused(algorithms, presets, overrides, message):
    with pytest.raises(DDPGError, match=message.replace(".", r"\.")):
        make_grid("Pendulum-v1", algorithms, presets, overrides, [0, 1])
