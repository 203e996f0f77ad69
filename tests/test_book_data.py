"""Stored book data is fresh: every run under book/data/ is what the make.py of its data folder
asks for now, and the library's present code still trains it the same way. When a preset or
the code's behaviour changes, these tests fail and name the make.py to run again.

A data folder is book/data/NAME/ with a make.py that defines ``planned_runs()``: each run's
folder (relative to NAME/) and what its ``config.json`` must hold, but for ``"code"``.

Fresh means "behaves the same", not "the same code digest": a refactor or a new config field
that keeps the old behaviour needs no retraining. So for one run of each configuration (its
first seed) the check trains the first steps again from the stored ``config.json`` (through
make.py's ``make_trainer`` where the configuration is a bug that make.py puts in, with the
change of make.py's ``CHANGES`` where it makes one) and compares
them with the stored ``losses.csv`` and ``evaluations.csv``: the warm-up, the first evaluation,
and the first ``CHECK_UPDATE_STEPS`` steps of updates. Not bit for bit, because the stored runs
may come from another x86 CPU, whose floating-point kernels round differently (README, "On
another CPU"): within ``RTOL``. Measured on an AMD EPYC against runs stored on an Intel Xeon,
the loss means of the first 200 steps of updates differ by at most 5e-5 relatively (the paper
preset; 1e-6 for the fast presets) and the first evaluation by 1e-7; after 400 steps of updates
the paper preset and TD3 without delay already differ by up to 6e-3, which is why the check
stops at 200 and cannot include a second evaluation (at 2,000 steps the two CPUs' returns
differ by percents, ``benchmarks/cpu_paths.py``). A change of behaviour moves these numbers by
far more than ``RTOL``: a critic learning rate 1% higher does (the last test).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import shutil
from pathlib import Path

import pytest
import torch

from ddpg_tutorial import Trainer
from ddpg_tutorial.algorithms import config_from_dict
from ddpg_tutorial.history import History

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "book" / "data"
FOLDERS = sorted(p for p in DATA.iterdir() if p.is_dir()) if DATA.is_dir() else []
CHECK_UPDATE_STEPS = 200  #: steps of updates after the warm-up that the behaviour check trains
RTOL = 1e-3  #: relative tolerance of the behaviour check (another CPU rounds differently)
RUN_FIELDS = ("env_id", "algorithm", "seed", "code")  #: config.json's keys that are no field


def shown(path: Path) -> str:
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)


def make_module(script: Path):
    """The make.py ``script``, imported (its main() does not run)."""
    spec = importlib.util.spec_from_file_location(f"book_data_{script.parent.name}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def planned_runs(script: Path) -> dict[str, dict]:
    """``planned_runs()`` of the make.py ``script``."""
    return make_module(script).planned_runs()


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def retrain(folder: Path, run: str, steps: int) -> History:
    """The first ``steps`` steps of the stored run ``folder/run``, trained again now."""
    saved = json.loads((folder / run / "config.json").read_text())
    group, seed = Path(run).parent.name, saved["seed"]
    module = make_module(folder / "make.py")
    torch.set_num_threads(1)  # as the sweep's runs
    if group in getattr(module, "BUGS", {}):  # a bug that make.py puts into a trainer
        trainer = module.make_trainer(group, seed, total_steps=steps)
    else:
        fields = {k: v for k, v in saved.items() if k not in RUN_FIELDS}
        config = config_from_dict(saved["algorithm"], fields).replace(total_steps=steps)
        trainer = Trainer(saved["env_id"], config, seed=seed, progress=False)
        if group in getattr(module, "CHANGES", {}):  # a change make.py makes (TrainerChange)
            module.CHANGES[group].apply(trainer)
    return trainer.run()


def close(stored: str, now: float) -> bool:
    value = float(stored) if stored else math.nan
    return (math.isnan(value) and math.isnan(now)) or math.isclose(value, now, rel_tol=RTOL,
                                                                   abs_tol=1e-9)


def behaviour_changes(folder: Path, run: str) -> list[str]:
    """Where the first steps of ``folder/run``, trained again now, differ from the stored
    files: one line per file, empty if they agree within ``RTOL``."""
    saved = json.loads((folder / run / "config.json").read_text())
    steps = saved["warmup_steps"] + CHECK_UPDATE_STEPS
    history = retrain(folder, run, steps)
    found = []
    stored = [r for r in read_rows(folder / run / "losses.csv") if float(r["env_steps"]) <= steps]
    now = [{"env_steps": r.env_steps, **r.means} for r in history.losses]
    if len(stored) != len(now) or not all(
            {k for k, v in s.items() if v} == set(n) and all(close(s[k], n[k]) for k in n)
            for s, n in zip(stored, now)):
        found.append(f"losses.csv up to step {steps:,}")
    stored = [r for r in read_rows(folder / run / "evaluations.csv")
              if float(r["env_steps"]) <= steps]
    # the run's own evaluations, not the one a shortened run makes at its last step
    evaluations = [e for e in history.evaluations if e.env_steps % saved["eval_every"] == 0]
    columns = ("env_steps", "mean_return", "std_return", "q_estimate", "discounted_return")
    if len(stored) != len(evaluations) or not all(
            close(s[k], getattr(e, k)) for s, e in zip(stored, evaluations) for k in columns):
        found.append(f"evaluations.csv up to step {steps:,}")
    return found


def problems(folder: Path) -> list[str]:
    """What is stale or missing in the data folder ``folder``; each line says what to run."""
    script = folder / "make.py"
    if not script.is_file():
        return [f"{shown(folder)} has no make.py that could make its data again"]
    again = f"run `.venv/bin/python {shown(script)}` again"
    found = []
    planned = planned_runs(script)
    stored = {c.parent.relative_to(folder).as_posix(): c for c in folder.rglob("config.json")}
    missing, extra = sorted(set(planned) - set(stored)), sorted(set(stored) - set(planned))
    if missing or extra:
        found.append(f"{shown(folder)}: runs missing {missing}, runs not planned {extra}; {again}")
    for run in sorted(set(planned) & set(stored)):
        saved = json.loads(stored[run].read_text())
        saved.pop("code", None)  # the digest of the code that made it: recorded, not judged
        # As the library reads it: a field added since takes the value the run had then.
        fields = {k: v for k, v in saved.items() if k not in RUN_FIELDS}
        saved = {**{k: v for k, v in saved.items() if k in RUN_FIELDS},
                 **config_from_dict(saved["algorithm"], fields).to_dict()}
        wanted = planned[run]
        changed = sorted(k for k in wanted.keys() | saved.keys() if saved.get(k) != wanted.get(k))
        if changed:
            found.append(f"{shown(folder)}/{run}: config.json differs from what make.py asks for "
                         f"now in {changed} (stored {[saved.get(k) for k in changed]}, now "
                         f"{[wanted.get(k) for k in changed]}); {again}")
        with open(folder / run / "evaluations.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows or int(rows[-1]["env_steps"]) != wanted.get("total_steps"):
            found.append(f"{shown(folder)}/{run}: evaluations.csv does not end at "
                         f"{wanted.get('total_steps')} steps; {again}")
    summary = folder / "summary.csv"
    if summary.is_file():  # a sweep folder: its summary lists the same runs, all fresh
        with open(summary, newline="") as f:
            rows = list(csv.DictReader(f))
        if sorted(row["folder"] for row in rows) != sorted(planned):
            found.append(f"{shown(summary)} lists other runs than make.py plans; {again}")
        unfinished = [row["folder"] for row in rows if row["status"] != "finished"]
        if unfinished:
            found.append(f"{shown(summary)}: runs unfinished: {unfinished}; {again}")
    return found


def first_runs(folder: Path) -> list[str]:
    """One run of each configuration of ``folder``: its lowest seed."""
    runs = sorted(planned_runs(folder / "make.py"), key=lambda r: (Path(r).parent.as_posix(),
                                                                    int(Path(r).name[4:])))
    return list({Path(run).parent.as_posix(): run for run in reversed(runs)}.values())


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_stored_runs_are_what_their_make_script_plans(folder):
    found = problems(folder)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_the_library_still_trains_the_stored_runs_the_same_way(folder):
    again = f"run `.venv/bin/python {shown(folder / 'make.py')}` again"
    found = [f"{shown(folder)}/{run} trains differently now ({', '.join(changes)}); {again}"
             for run in first_runs(folder) if (changes := behaviour_changes(folder, run))]
    assert not found, "\n".join(found)


def test_every_stored_run_is_in_a_data_folder_with_a_make_script():
    stray = [shown(c) for c in DATA.rglob("config.json")
             if not (DATA / c.relative_to(DATA).parts[0] / "make.py").is_file()] \
        if DATA.is_dir() else []
    assert not stray, f"stored runs without a make.py to make them again: {stray}"


@pytest.mark.skipif(not FOLDERS, reason="no book data")
def test_the_check_finds_a_changed_preset(tmp_path):
    folder = shutil.copytree(FOLDERS[0], tmp_path / FOLDERS[0].name)
    assert problems(folder) == []
    config = next(folder.rglob("config.json"))
    saved = json.loads(config.read_text())
    config.write_text(json.dumps({**saved, "tau": saved["tau"] * 2, "code": "0" * 16}))
    found = problems(folder)
    assert len(found) == 1 and "['tau']" in found[0], found  # the digest alone is no problem
    assert f"{folder / 'make.py'}` again" in found[0], found


def test_the_behaviour_check_finds_a_change_that_keeps_the_config(tmp_path):
    # The same config.json, trained by code whose update differs slightly: a learning rate
    # 1% higher than the stored one, as a changed default inside the update would do.
    folder = shutil.copytree(DATA / "when_ddpg_fails", tmp_path / "when_ddpg_fails")
    run = "ddpg-fast/seed200"
    assert behaviour_changes(folder, run) == []
    config = folder / run / "config.json"
    saved = json.loads(config.read_text())
    config.write_text(json.dumps({**saved, "critic_lr": saved["critic_lr"] * 1.01}))
    assert behaviour_changes(folder, run) == ["losses.csv up to step 1,200"]
