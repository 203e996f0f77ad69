"""Stored book data is fresh: every run under book/data/ came from the library's present code
and from what the make.py of its data folder asks for now. When a preset or the code that
decides a run's numbers changes, these tests fail and name the make.py to run again.

A data folder is book/data/NAME/ with a make.py that defines ``planned_runs()``: each run's
folder (relative to NAME/) and what its ``config.json`` must hold, but for ``"code"``. No
training here."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from ddpg_tutorial.source import code_digest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "book" / "data"
FOLDERS = sorted(p for p in DATA.iterdir() if p.is_dir()) if DATA.is_dir() else []


def shown(path: Path) -> str:
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)


def planned_runs(script: Path) -> dict[str, dict]:
    """``planned_runs()`` of the make.py ``script`` (imported; its main() does not run)."""
    spec = importlib.util.spec_from_file_location(f"book_data_{script.parent.name}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.planned_runs()


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
        code = saved.pop("code", None)
        if code != code_digest():
            found.append(f"{shown(folder)}/{run} came from other library code (digest {code}, "
                         f"now {code_digest()}); {again}")
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
        stale = [row["folder"] for row in rows
                 if row["status"] != "finished" or row["code"] != code_digest()]
        if stale:
            found.append(f"{shown(summary)}: runs unfinished or from other code: {stale}; "
                         f"{again}")
    return found


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_stored_runs_match_the_library_and_their_make_script(folder):
    found = problems(folder)
    assert not found, "\n".join(found)


def test_every_stored_run_is_in_a_data_folder_with_a_make_script():
    stray = [shown(c) for c in DATA.rglob("config.json")
             if not (DATA / c.relative_to(DATA).parts[0] / "make.py").is_file()] \
        if DATA.is_dir() else []
    assert not stray, f"stored runs without a make.py to make them again: {stray}"


@pytest.mark.skipif(not FOLDERS, reason="no book data")
def test_the_check_finds_a_changed_preset_and_other_code(tmp_path):
    folder = shutil.copytree(FOLDERS[0], tmp_path / FOLDERS[0].name)
    assert problems(folder) == []
    config = next(folder.rglob("config.json"))
    saved = json.loads(config.read_text())
    config.write_text(json.dumps({**saved, "tau": saved["tau"] * 2, "code": "0" * 16}))
    found = problems(folder)
    assert len(found) == 2, found
    assert "other library code" in found[0] and "['tau']" in found[1], found
    assert all(f"{folder / 'make.py'}` again" in line for line in found), found
