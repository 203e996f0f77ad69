"""Hyperparameter search with Optuna: the search space, the objective, pruning, failures,
worker processes sharing one study, continuing a study, and the best trial as flags."""

import importlib
import json
import multiprocessing
import shlex
import sys
import time
from types import SimpleNamespace

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from ddpg_tutorial import DDPGError, Trainer, get_preset
from ddpg_tutorial.algorithms import config_from_dict
from ddpg_tutorial.cli import _config_from_args, build_parser, main
from ddpg_tutorial.seeding import TUNE_EVAL_SEED_BASE
from ddpg_tutorial.tune import best_config, best_flags, search_space, tune, write_best

tune_module = importlib.import_module("ddpg_tutorial.tune")  # the module, not the function

ENV = "Pendulum-v1"
# Runs of about a second: two evaluations of two episodes, few updates.
TINY = dict(total_steps=400, warmup_steps=100, eval_every=200, eval_episodes=2)
SEEDS = (0, 1)
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def sqlite(tmp_path, name="tune.db") -> str:
    return f"sqlite:///{tmp_path / name}"


def finished(study) -> list:
    return study.get_trials(states=FINISHED)


# The search space ----------------------------------------------------------------------------

SHARED = {"actor_lr", "critic_lr", "tau", "batch_size", "actor_hidden", "critic_hidden",
          "gamma", "update_every"}
OWN = {"ddpg": {"noise", "noise_sigma"},
       "td3": {"noise", "noise_sigma", "policy_delay", "target_noise"},
       "sac": {"alpha_lr", "initial_alpha"}}


@pytest.mark.parametrize("algorithm", ["ddpg", "td3", "sac"])
def test_the_search_space_gives_valid_configs_of_each_algorithm(algorithm):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    widths = set()
    for _ in range(40):
        fields = search_space(study.ask(), algorithm)
        assert set(fields) == SHARED | OWN[algorithm]
        for preset in ("fast", "paper"):
            config = get_preset(preset, algorithm).replace(**fields)  # validates
            assert config.algorithm == algorithm
        assert 1e-4 <= fields["actor_lr"] <= 3e-3 and 1e-4 <= fields["critic_lr"] <= 3e-3
        assert 1e-3 <= fields["tau"] <= 5e-2 and fields["batch_size"] in (64, 128, 256)
        assert fields["gamma"] in (0.95, 0.97, 0.98, 0.99) and fields["update_every"] in (1, 2)
        width = fields["actor_hidden"][0]
        assert fields["actor_hidden"] == fields["critic_hidden"] == (width, width)
        widths.add(width)
        if algorithm != "sac":
            assert fields["noise"] in ("gaussian", "ou") and 0.05 <= fields["noise_sigma"] <= 0.5
        if algorithm == "td3":
            assert fields["policy_delay"] in (1, 2, 3) and 0.05 <= fields["target_noise"] <= 0.3
        if algorithm == "sac":
            assert 1e-4 <= fields["alpha_lr"] <= 3e-3 and 0.05 <= fields["initial_alpha"] <= 1
    assert widths == {64, 128, 160, 256}


# A study run twice, continued: the objective, and the best trial as flags --------------------

@pytest.fixture(scope="module")
def continued(tmp_path_factory):
    """A study of 1 trial over two seeds, continued to 2, then asked for 2 again."""
    storage = sqlite(tmp_path_factory.mktemp("continued"))
    first = tune(ENV, "ddpg", "fast", seeds=SEEDS, trials=1, storage=storage, fixed=TINY,
                 sampler_seed=0)
    first_numbers = [trial.number for trial in finished(first)]
    tune(ENV, "ddpg", "fast", seeds=SEEDS, trials=2, storage=storage, fixed=TINY,
         sampler_seed=0)
    again = tune(ENV, "ddpg", "fast", seeds=SEEDS, trials=2, storage=storage, fixed=TINY)
    return first_numbers, again, storage


def test_running_the_same_call_again_continues_the_study(continued):
    first_numbers, study, _ = continued
    assert first_numbers == [0]
    # Continued to 2 trials in the same file; the third call had nothing left to run.
    assert [trial.number for trial in study.get_trials()] == [0, 1]
    assert all(trial.state == TrialState.COMPLETE for trial in study.get_trials())
    # The same sampler seed, continued, does not suggest the first trial again.
    first, second = study.get_trials()
    assert second.params != first.params
    assert study.study_name == f"{ENV}-ddpg-fast"


def test_continuing_with_other_seeds_or_config_is_refused(continued):
    _, _, storage = continued
    with pytest.raises(DDPGError, match="started with another seeds"):
        tune(ENV, "ddpg", "fast", seeds=(5,), trials=4, storage=storage, fixed=TINY)
    with pytest.raises(DDPGError, match="started with another base_config"):
        tune(ENV, "ddpg", "fast", seeds=SEEDS, trials=4, storage=storage,
             fixed={**TINY, "total_steps": 600})


def test_a_searched_field_that_is_fixed_is_not_searched(tmp_path):
    study = tune(ENV, "ddpg", "fast", seeds=(0,), trials=1, storage=sqlite(tmp_path),
                 fixed={**TINY, "gamma": 0.9, "actor_hidden": [32, 32]})
    trial = study.best_trial
    assert "gamma" not in trial.params and "hidden_width" not in trial.params
    assert "actor_lr" in trial.params  # the rest is searched
    config = trial.user_attrs["config"]
    assert config["gamma"] == 0.9 and config["actor_hidden"] == [32, 32]
    assert study.user_attrs["settings"]["pinned"] == sorted({**TINY, "gamma": 0, "actor_hidden": 0})


def test_the_search_space_is_written_once_and_shown_in_the_help_and_the_readme():
    from pathlib import Path

    from ddpg_tutorial.tune_space import describe_space

    text = " ".join(describe_space().split())
    assert "policy_delay in {1, 2, 3}" in text and "tau in [0.001, 0.05] (log scale)" in text
    tune_help = build_parser()._subparsers._group_actions[0].choices["tune"].format_help()
    assert text in " ".join(tune_help.split())
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert text in " ".join(readme.split())


def study_lr(tmp_path) -> float:
    """The exact actor_lr of the one trial of the study in ``tmp_path``."""
    return optuna.load_study(study_name=None, storage=sqlite(tmp_path)).trials[0].params[
        "actor_lr"]


def test_a_run_too_short_for_its_score_is_warned_about_and_a_complete_study_says_so(
        tmp_path, capsys):
    short = {**TINY, "warmup_steps": 200}  # 1 of 2 evaluations before the first update
    tune(ENV, seeds=(0,), trials=1, storage=sqlite(tmp_path), fixed=short)
    out, err = capsys.readouterr()
    assert "warning: 1 of the 2 evaluations of each run come before the first update" in err
    assert "50% of the area score" in err and err.count("\n") == 1
    assert out.startswith("trial 0: ")
    actor_lr = float(out.split("actor_lr=")[1].split(",")[0])  # printed to 3 digits
    assert actor_lr == float(f"{actor_lr:.3g}") and actor_lr != study_lr(tmp_path)
    tune(ENV, seeds=(0,), trials=1, storage=sqlite(tmp_path), fixed=short)  # again
    out, _ = capsys.readouterr()
    assert "already has 1 finished trials (--trials 1): nothing left to run" in out
    tune(ENV, seeds=(0,), trials=1, storage=sqlite(tmp_path, "other"), fixed=TINY)
    assert capsys.readouterr().err == ""  # 0 of 2 evaluations before the first update


def test_the_objective_is_the_mean_of_every_evaluation_of_every_seed(continued):
    _, study, _ = continued
    for trial in study.get_trials():
        config = config_from_dict("ddpg", trial.user_attrs["config"])
        assert config.total_steps == TINY["total_steps"]  # fixed fields under the search space
        assert config.actor_lr == trial.params["actor_lr"]
        # Train the stored config again on each seed, evaluated from the trials' own start
        # states: the runs are repeatable.
        returns = [record.mean_return for seed in SEEDS
                   for record in Trainer(ENV, config, seed=seed, progress=False,
                                         eval_seed_base=TUNE_EVAL_SEED_BASE).run().evaluations]
        assert len(returns) == 2 * len(SEEDS)
        assert trial.value == pytest.approx(np.mean(returns), rel=1e-12, abs=0)
        # One report per evaluation, numbered across seeds: the running mean of the returns.
        assert list(trial.intermediate_values) == list(range(len(returns)))
        running = np.cumsum(returns) / np.arange(1, len(returns) + 1)
        np.testing.assert_allclose(list(trial.intermediate_values.values()), running)
        break  # one trial is enough; each costs two runs


def test_the_best_flags_give_the_best_config_through_the_command_line(continued, tmp_path):
    _, study, _ = continued
    flags = best_flags(study)
    assert flags[:6] == ["--env", ENV, "--algo", "ddpg", "--preset", "fast"]
    assert f"total_steps={TINY['total_steps']}" in flags  # fixed fields too
    width = study.best_trial.params["hidden_width"]
    # The searched width is set when it differs from the preset's (the last check: exactly
    # the differing fields are).
    assert (f"actor_hidden=[{width},{width}]" in flags) == \
        ((width, width) != get_preset("fast", "ddpg").actor_hidden)
    expected = config_from_dict("ddpg", study.best_trial.user_attrs["config"])
    assert best_config(study) == expected
    args = build_parser().parse_args(["train", *flags])
    assert args.env == ENV and _config_from_args(args) == expected
    # Only the fields that differ from the preset are set.
    preset = get_preset("fast", "ddpg").to_dict()
    set_fields = {flag.split("=")[0] for flag in flags[7::2]}
    assert set_fields == {f for f, v in expected.to_dict().items() if v != preset[f]}

    path = tmp_path / "best.json"
    assert write_best(study, path) == [expected]
    saved = json.loads(path.read_text())
    assert saved["trial"] == study.best_trial.number and saved["value"] == study.best_value
    assert shlex.split(saved["command"]) == ["ddpg-tutorial", "train", *flags]
    assert config_from_dict(saved["algorithm"], saved["config"]) == expected


# Pruning and failures ------------------------------------------------------------------------

def test_a_trial_far_below_the_others_is_pruned_and_its_run_stopped(tmp_path):
    storage, fixed = sqlite(tmp_path), {**TINY, "total_steps": 600}  # 3 evaluations a run
    study = optuna.create_study(storage=storage, study_name="pruning", direction="maximize")
    for _ in range(tune_module.PRUNER_STARTUP_TRIALS):  # perfect trials: Pendulum's best is 0
        study.add_trial(optuna.trial.create_trial(
            state=TrialState.COMPLETE, value=0.0, intermediate_values={0: 0.0, 1: 0.0, 2: 0.0}))
    tune(ENV, "ddpg", "fast", seeds=(0, 1), trials=6, storage=storage, study_name="pruning",
         fixed=fixed)
    trial = study.get_trials()[-1]
    assert trial.state == TrialState.PRUNED and "config" in trial.user_attrs
    # The pruner waits for half of a run's evaluations (1 of 3), then prunes at once: the run
    # stopped after its second evaluation, and the second seed never ran.
    assert list(trial.intermediate_values) == [0, 1]
    assert all(value < 0 for value in trial.intermediate_values.values())
    assert len(finished(study)) == 6


def test_a_config_that_fails_validation_is_pruned_with_its_reason(tmp_path):
    storage = sqlite(tmp_path)
    fixed = {**TINY, "buffer_size": 100}  # the paper's batches of 64 fit, 128 and 256 do not
    study = optuna.create_study(storage=storage, study_name="rejected", direction="maximize")
    study.enqueue_trial({"batch_size": 256})
    study.enqueue_trial({"batch_size": 64})
    tune(ENV, "ddpg", "paper", seeds=(0,), trials=2, storage=storage, study_name="rejected",
         fixed=fixed)
    rejected, ran = study.get_trials()
    assert rejected.state == TrialState.PRUNED and not rejected.intermediate_values
    assert "config rejected" in rejected.user_attrs["error"]
    assert "batch_size" in rejected.user_attrs["error"]
    assert ran.state == TrialState.COMPLETE and ran.params["batch_size"] == 64


def test_a_diverged_run_fails_its_trial_and_the_worker_goes_on(tmp_path):
    # conftest's environment gives NaN rewards after 300 steps: every run diverges.
    with pytest.raises(DDPGError, match="2 trials of study 'nan' failed"):
        tune("DDPGTestNaNReward-v0", "ddpg", "fast", seeds=(0,), trials=2,
             storage=sqlite(tmp_path), study_name="nan", fixed=TINY)
    study = optuna.load_study(study_name="nan", storage=sqlite(tmp_path))
    trials = study.get_trials()
    assert [trial.state for trial in trials] == [TrialState.FAIL, TrialState.FAIL]
    assert all("diverged" in trial.user_attrs["error"] for trial in trials)


# Several workers on one study ----------------------------------------------------------------

def test_two_worker_processes_share_one_sqlite_study(tmp_path):
    study = tune(ENV, "ddpg", "fast", seeds=(0,), trials=3, storage=sqlite(tmp_path),
                 jobs=2, fixed=TINY, sampler_seed=0)
    done = finished(study)
    assert len(done) == 3  # exactly: neither worker started a fourth
    workers = {trial.user_attrs["worker"] for trial in done}
    assert len(workers) == 2  # host:pid of both processes
    assert all(trial.params != done[0].params for trial in done[1:])


def _hang_in_a_trial(storage: str) -> None:
    """A worker whose objective starts a trial and never returns (killed by the test)."""
    def hang(trial, env_id, base, *_):
        search_space(trial, base.algorithm)  # the parameters to run again
        time.sleep(1)  # the heartbeat thread has written its first heartbeat
        trial.report(0.0, step=0)
        time.sleep(600)

    tune_module.objective = hang
    tune(ENV, "ddpg", "fast", seeds=(0,), trials=1, storage=storage, fixed=TINY)


def test_a_killed_workers_trial_is_failed_and_run_again(tmp_path, monkeypatch):
    storage = sqlite(tmp_path)
    optuna.create_study(storage=storage, study_name=f"{ENV}-ddpg-fast", direction="maximize")
    worker = multiprocessing.get_context("spawn").Process(target=_hang_in_a_trial,
                                                          args=(storage,))
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            trials = optuna.load_study(study_name=f"{ENV}-ddpg-fast", storage=storage).get_trials()
            if trials and trials[0].intermediate_values:
                break
            time.sleep(0.2)
        assert trials and trials[0].state == TrialState.RUNNING
    finally:
        worker.kill()
        worker.join()
    killed = trials[0]
    monkeypatch.setattr(tune_module, "HEARTBEAT_INTERVAL_S", 1)
    monkeypatch.setattr(tune_module, "GRACE_PERIOD_S", 1)
    waits = []

    def sleep(seconds):  # fail rather than wait forever for a trial that never goes stale
        waits.append(seconds)
        assert len(waits) < 30, "the killed worker's trial was never failed"
        time.sleep(seconds)

    monkeypatch.setattr(tune_module, "time", SimpleNamespace(sleep=sleep))

    study = tune(ENV, "ddpg", "fast", seeds=(0,), trials=1, storage=storage, fixed=TINY)
    stale, rerun = study.get_trials()
    assert stale.number == killed.number and stale.state == TrialState.FAIL
    assert killed.params and rerun.params == killed.params
    assert rerun.state == TrialState.COMPLETE
    assert rerun.system_attrs["failed_trial"] == killed.number


def test_the_tune_command_writes_the_best_trial_and_prints_its_train_command(tmp_path, capsys):
    out = tmp_path / "tune"
    rc = main(["tune", "--out", str(out), "--seeds", "7", "--trials", "2", "--steps", "400",
               "--set", "warmup_steps=100", "--set", "eval_every=200", "--set", "eval_episodes=2",
               "--sampler-seed", "0"])
    printed = capsys.readouterr().out
    assert rc == 0
    best = json.loads((out / "best.json").read_text())
    assert (out / "study.db").is_file()
    assert f"best: trial {best['trial']}, mean greedy return over its evaluations " \
           f"{best['value']:.4g}" in printed
    assert "best.json holds the exact ones): ddpg-tutorial train --env Pendulum-v1 --algo ddpg " \
           "--preset fast" in printed
    assert printed.count("\ntrial ") + printed.startswith("trial ") == 2


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "x"], "--seeds takes numbers and ranges"),
    (["--seeds", "0", "--algo", "ppo"], "unknown combination --algo ppo --preset fast"),
    (["--seeds", "0", "--trials", "0"], "tuning needs trials >= 1"),
    (["--seeds", "0", "--objective", "seconds", "--env", "MountainCarContinuous-v0x"],
     "unknown environment id"),
    (["--seeds", "0", "--objective", "both", "--env", "DDPGTestSmall-v0"],
     "--objective both needs --threshold: 'DDPGTestSmall-v0' has no known return"),
])
def test_tune_errors_are_one_line(argv, message, tmp_path, capsys):
    assert main(["tune", "--out", str(tmp_path / "t"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_a_study_whose_finished_trials_were_all_pruned_is_one_error_line(tmp_path, capsys):
    out = tmp_path / "tune"
    out.mkdir()
    study = optuna.create_study(storage=f"sqlite:///{out / 'study.db'}",
                                study_name=f"{ENV}-ddpg-fast", direction="maximize")
    for _ in range(2):  # the study already has its 2 trials, both pruned: nothing to run
        study.add_trial(optuna.trial.create_trial(state=TrialState.PRUNED,
                                                  intermediate_values={0: -1000.0}))
    rc = main(["tune", "--out", str(out), "--seeds", "0", "--trials", "2", "--steps", "400",
               "--set", "warmup_steps=100"])
    captured = capsys.readouterr()
    assert rc == 2
    assert captured.err == (f"error: study '{ENV}-ddpg-fast' has no complete trial, so no best "
                            "configuration (2 pruned, 0 failed, 0 running)\n")
    assert not (out / "best.json").exists()
    with pytest.raises(DDPGError, match="no complete trial"):
        best_config(study)


def test_tune_out_an_existing_file_is_one_error_line_before_tuning(tmp_path, capsys):
    path = tmp_path / "taken"
    path.write_text("not a folder")
    assert main(["tune", "--out", str(path), "--seeds", "0", "--trials", "1"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: --out '{path}' is a file, not a folder; choose another --out\n"
    assert path.read_text() == "not a folder"
    # A folder inside a file cannot be made either.
    assert main(["tune", "--out", str(path / "sub"), "--seeds", "0", "--trials", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot create the folder --out '{path / 'sub'}' (")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_postgresql_storage_without_its_driver_names_the_extra(tmp_path, capsys,
                                                                 monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    assert main(["tune", "--out", str(tmp_path / "t"), "--seeds", "0", "--trials", "1",
                 "--storage", "postgresql://tuner:secret@127.0.0.1:1/db"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot open the tuning storage: ") and err.count("\n") == 1
    assert err.endswith("for PostgreSQL, in a clone of the repository: "
                        "pip install -e '.[postgres]'\n")


def test_trials_evaluate_on_start_states_that_no_training_run_or_report_uses(tmp_path,
                                                                             monkeypatch):
    # A sweep's runs are ddpg-tutorial train processes: Trainers with the default start states.
    used = []

    class Recording(Trainer):
        def run(self, *args, **kwargs):
            used.append(list(self.eval_seeds))
            return super().run(*args, **kwargs)

    monkeypatch.setattr(tune_module, "Trainer", Recording)
    tune(ENV, "ddpg", "fast", seeds=SEEDS, trials=1, storage=sqlite(tmp_path), fixed=TINY)
    trial_starts = {seed for seeds in used for seed in seeds}
    sweep_starts = set(Trainer(ENV, get_preset("fast").replace(**TINY), seed=0,
                               progress=False).eval_seeds)
    assert len(used) == len(SEEDS) and trial_starts and sweep_starts
    assert trial_starts.isdisjoint(sweep_starts)


# Objectives: seconds to a threshold, and both --------------------------------------------

def test_seconds_to_a_threshold_count_training_time_and_charge_a_run_that_never_got_there():
    from ddpg_tutorial.history import EvalRecord, History
    from ddpg_tutorial.tune import NOT_REACHED_FACTOR, seconds_to

    history = History(evaluations=[EvalRecord(1000, 9.0, -900.0, 1.0, train_time_s=4.0),
                                   EvalRecord(2000, 19.0, -150.0, 1.0, train_time_s=8.5),
                                   EvalRecord(3000, 29.0, -140.0, 1.0, train_time_s=13.0)])
    assert seconds_to(history, -200.0) == 8.5  # training time, not wall time
    assert seconds_to(history, -100.0) == NOT_REACHED_FACTOR * 13.0


def test_the_seconds_objective_stops_runs_at_the_threshold_and_is_minimised(tmp_path):
    studies = {}
    for name, threshold in (("reached", -1e9), ("never", 1e9)):
        studies[name] = tune(ENV, seeds=SEEDS, trials=1, storage=sqlite(tmp_path, name),
                             fixed=TINY, sampler_seed=0, objective="seconds",
                             threshold=threshold)
    reached, never = (studies[n].best_trial for n in ("reached", "never"))
    assert studies["reached"].direction == optuna.study.StudyDirection.MINIMIZE
    # Same sampler seed, same config; stopped at the first evaluation (200 of 400 steps)
    # against twice the whole run.
    assert reached.user_attrs["config"] == never.user_attrs["config"]
    assert 0 < reached.value < never.value / 2
    assert reached.user_attrs["seconds_to_threshold"] == reached.value


def test_both_objectives_write_the_pareto_front_with_a_command_each(tmp_path, capsys):
    out = tmp_path / "tune"
    rc = main(["tune", "--out", str(out), "--seeds", "7", "--trials", "3", "--steps", "400",
               "--set", "warmup_steps=100", "--set", "eval_every=200", "--set", "eval_episodes=2",
               "--sampler-seed", "0", "--objective", "both"])
    printed = capsys.readouterr().out
    assert rc == 0
    best = json.loads((out / "best.json").read_text())
    assert best["objective"] == "both" and best["threshold"] == -200.0  # Pendulum's own
    front = best["front"]
    assert front and [p["value"]["seconds"] for p in front] == \
        sorted(p["value"]["seconds"] for p in front)  # the fastest first
    for point in front:  # no point of the front beats another on both objectives
        assert not any(o["value"]["area"] >= point["value"]["area"]
                       and o["value"]["seconds"] < point["value"]["seconds"] for o in front)
        assert point["command"].startswith("ddpg-tutorial train --env Pendulum-v1")
        assert f"trial {point['trial']}: mean return" in printed
    assert f"Pareto front: {len(front)} trials" in printed
