"""The book's notebooks use the library instead of redefining it, are stored executed,
import ddpg_tutorial, and check with assertions whatever nbval does not compare.  Passes on
whatever notebooks book/ holds, even none."""

import ast
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "book").glob("*.ipynb"))


def library_names() -> set[str]:
    """Every function, method and class name defined anywhere in ddpg_tutorial/*.py."""
    names = set()
    for path in (REPO / "ddpg_tutorial").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if not (node.name.startswith("__") and node.name.endswith("__")):
                    names.add(node.name)
    return names


def code_cells(notebook: Path) -> list[dict]:
    cells = json.loads(notebook.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def parse_cell(source: str, where: str) -> ast.Module:
    # IPython magics and shell escapes are not Python.
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines), filename=where)
    except SyntaxError as err:
        pytest.fail(f"{where} is not valid Python: {err}")


def module_level_definitions(tree: ast.Module) -> set[str]:
    """Names a cell defines at module level: def, class, or ``name = lambda ...``."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Lambda):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def cell_source(cell: dict) -> str:
    return "".join(cell["source"])


def test_the_checks_themselves_catch_what_they_should():
    # The library's names are collected, dunders excluded...
    names = library_names()
    assert {"soft_update", "ReplayBuffer", "OrnsteinUhlenbeckNoise", "sample", "forward",
            "safe_load", "main"} <= names
    assert not any(n.startswith("__") and n.endswith("__") for n in names)
    # ...and a cell that redefines one is caught, however it does it.
    tree = ast.parse("def soft_update(t, o, tau):\n    pass\n"
                     "class ReplayBuffer:\n    pass\n"
                     "evaluate = lambda policy: 0\n"
                     "x = 3\n"
                     "for i in range(2):\n    def inner(): pass\n")
    assert module_level_definitions(tree) & names == {"soft_update", "ReplayBuffer", "evaluate"}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_notebook_does_not_redefine_library_names(notebook):
    names = library_names()
    clashes = {}
    for i, cell in enumerate(code_cells(notebook)):
        tree = parse_cell(cell_source(cell), f"{notebook.name} code cell {i + 1}")
        for name in module_level_definitions(tree) & names:
            clashes[name] = i + 1
    assert not clashes, (f"{notebook.name} redefines library names (name: code cell): "
                         f"{clashes}; import them from ddpg_tutorial instead")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_notebook_is_stored_executed(notebook):
    cells = code_cells(notebook)
    unexecuted = [i + 1 for i, c in enumerate(cells) if c.get("execution_count") is None]
    assert not unexecuted, f"{notebook.name}: code cells {unexecuted} have not been executed"
    assert any(c.get("outputs") for c in cells), f"{notebook.name} stores no outputs at all"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_notebook_imports_the_library(notebook):
    modules = set()
    for i, cell in enumerate(code_cells(notebook)):
        for node in ast.walk(parse_cell(cell_source(cell), f"{notebook.name} cell {i + 1}")):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules.add(node.module)
            elif isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
    assert any(m == "ddpg_tutorial" or m.startswith("ddpg_tutorial.") for m in modules), \
        f"{notebook.name} does not import from ddpg_tutorial"


FOLDED = {"hide-input", "hide-cell", "remove-input", "remove-cell"}  # tags the HTML folds away


def folded(cell: dict) -> bool:
    """Whether the HTML book folds the cell's input away (a cell of checks)."""
    return bool(FOLDED & set(cell.get("metadata", {}).get("tags", [])))


def ignored_cells_without_a_check(cells: list[dict]) -> list[int]:
    """Code cells whose output nbval ignores and that no assertion follows within the next
    two code cells a reader sees, or the folded cells among and right after them (so that what
    they compute is checked by nothing)."""
    unchecked = []
    for i, cell in enumerate(cells):
        if "NBVAL_IGNORE_OUTPUT" in cell_source(cell):
            end, shown = i + 1, 0
            while end < len(cells) and (folded(cells[end]) or shown < 2):
                shown += not folded(cells[end])
                end += 1
            following = cells[i:end]
            if not any(isinstance(node, ast.Assert)
                       for c in following for node in ast.walk(parse_cell(cell_source(c), "cell"))):
                unchecked.append(i + 1)
    return unchecked


def test_the_ignored_output_check_finds_an_unchecked_cell():
    cells = [{"source": s} for s in ["# NBVAL_IGNORE_OUTPUT\nprint(1)", "x = 2", "y = 3",
                                     "assert x == 2"]]
    assert ignored_cells_without_a_check(cells) == [1]
    assert ignored_cells_without_a_check(cells[1:]) == []
    assert ignored_cells_without_a_check([cells[0], cells[3]]) == []
    hidden = {"source": "z = 4", "metadata": {"tags": ["hide-input"]}}
    assert ignored_cells_without_a_check([cells[0], cells[1], hidden, cells[2], cells[3]]) == [1]
    assert ignored_cells_without_a_check([cells[0], cells[1], cells[2], hidden,
                                          {**cells[3], "metadata": hidden["metadata"]}]) == []


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_every_cell_whose_output_nbval_ignores_is_checked_by_an_assertion(notebook):
    # nbval compares every other output with a fresh run, which is what catches an unseeded
    # random number; where it cannot (timings, CPU-dependent floats), an assertion must.
    unchecked = ignored_cells_without_a_check(code_cells(notebook))
    assert not unchecked, (f"{notebook.name}: code cells {unchecked} ignore their output and "
                           "no assertion in the next two cells checks what they compute")


def visible_assertions(cells: list[dict]) -> list[int]:
    """Code cells (1-based) with an assert statement whose input the HTML book shows."""
    return [i + 1 for i, cell in enumerate(cells)
            if not folded(cell) and any(isinstance(node, ast.Assert)
                    for node in ast.walk(parse_cell(cell_source(cell), "cell")))]


def test_the_visible_assertion_check_finds_an_unfolded_check():
    cells = [{"source": "x = 1\nassert x == 1"},
             {"source": "def check(f):\n    assert f()", "metadata": {"tags": ["hide-input"]}},
             {"source": "print('assert')"}]
    assert visible_assertions(cells) == [1]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_no_assertion_is_visible_to_a_reader(notebook):
    # A reader sees the teaching code; the checks nbval runs sit in cells the book folds away.
    visible = visible_assertions(code_cells(notebook))
    assert not visible, (f"{notebook.name}: code cells {visible} show an assert; move the checks "
                         "into a cell tagged hide-input")


NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\w)")
GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`[^`]*`")


def numbers_in(text: str) -> set[str]:
    """The numbers in a text, without signs and thousands separators: '-1,234.5' -> '1234.5'."""
    return {m.group().replace(",", "").lstrip("-") for m in NUMBER.finditer(text)}


def decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


def output_text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return "".join(output.get("text", ""))
    data = output.get("data", {})
    return "".join(data.get("text/plain", "")) + "".join(data.get("text/markdown", ""))


def unglued_varying_numbers(cells: list[dict]) -> list[str]:
    """Numbers the prose types by hand that only outputs nbval ignores print: 'prose~output'.

    A number is varying when an ``NBVAL_IGNORE_OUTPUT`` cell's output prints it and no code
    and no compared output holds it; the prose quotes it when a markdown cell, outside its
    ``{glue}`` roles, holds it, or its rounding to the prose's decimals where the prose has
    decimals (two significant digits at least, so that '0.5' or '7' match nothing; a whole
    number matches only itself, so that 'equation 18' does not match 18.4)."""
    varying, stable = set(), set()
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        stable |= numbers_in(source)
        printed = numbers_in(" ".join(output_text(o) for o in cell.get("outputs", [])))
        (varying if "NBVAL_IGNORE_OUTPUT" in source else stable).update(printed)
    varying -= stable
    hits = set()
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        for typed in numbers_in(GLUE_ROLE.sub("", cell_source(cell))) - stable:
            if len(typed.replace(".", "").lstrip("0")) < 2:
                continue
            hits |= {f"{typed}~{v}" for v in varying
                     if v == typed or (0 < decimals(typed) < decimals(v)
                                       and round(float(v), decimals(typed)) == float(typed))}
    return sorted(hits)


def test_the_glue_check_finds_a_typed_number():
    ignored = {"cell_type": "code", "source": "# NBVAL_IGNORE_OUTPUT\nprint(t)",
               "outputs": [{"output_type": "stream", "text": "took 3.62 s, loss 0.5"}]}
    shown = {"cell_type": "code", "source": "print(n)",
             "outputs": [{"output_type": "stream", "text": "10,000 steps"}]}
    prose = {"cell_type": "markdown", "source": "It took 3.6 s for 10,000 steps at loss 0.5."}
    assert unglued_varying_numbers([ignored, shown, prose]) == ["3.6~3.62"]
    glued = {"cell_type": "markdown", "source": "It took {glue:text}`t:.1f` s (10,000 steps)."}
    assert unglued_varying_numbers([ignored, shown, glued]) == []


#: Chapters whose prose still types varying numbers, until their third edition glues them
#: (issue 22 and 23); the test fails for a chapter on this list that no longer does.
NOT_YET_GLUED: set[str] = set()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_prose_glues_the_numbers_that_vary(notebook):
    typed = unglued_varying_numbers(json.loads(notebook.read_text())["cells"])
    if notebook.name in NOT_YET_GLUED:
        assert typed, f"{notebook.name} glues its numbers now: take it off NOT_YET_GLUED"
        return
    assert not typed, (f"{notebook.name}: the prose types numbers that only ignored outputs "
                       f"print (prose~output): {typed}; glue them (myst_nb.glue)")


# The first code cell of every chapter stops with one line when ddpg_tutorial cannot be imported
# (tests/test_lab.py runs it); it is the same cell everywhere, hidden from the HTML book.
def guard_cells() -> dict[str, dict]:
    return {nb.name: code_cells(nb)[0] for nb in NOTEBOOKS if code_cells(nb)}


def test_every_chapter_starts_with_the_same_guard_cell():
    guards = {name: cell_source(cell) for name, cell in guard_cells().items()}
    assert len(set(guards.values())) <= 1, (
        "the first code cells differ; copy the first code cell of the first chapter: "
        + ", ".join(sorted(guards)))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_notebook_starts_with_the_import_guard(notebook):
    cell = code_cells(notebook)[0]
    tree = parse_cell(cell_source(cell), f"{notebook.name} code cell 1")
    guard = tree.body[0] if tree.body else None
    assert isinstance(guard, ast.Try) and len(tree.body) == 1, (
        f"{notebook.name}: the first code cell must be only the try/except import guard")
    imports = [alias.name for node in guard.body if isinstance(node, ast.Import)
               for alias in node.names]
    handlers = [ast.unparse(h.type) for h in guard.handlers if h.type is not None]
    assert imports == ["ddpg_tutorial"] and handlers == ["ModuleNotFoundError"]
    assert "_render_traceback_" in cell_source(cell)  # one line in Jupyter, not a traceback
    assert cell.get("outputs") == [], f"{notebook.name}: the guard cell stores outputs"
    assert "remove-cell" in cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_notebook_execution_counts_run_in_order(notebook):
    counts = [c.get("execution_count") for c in code_cells(notebook)]
    assert counts == list(range(1, len(counts) + 1)), f"{notebook.name}: {counts}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_notebook_asks_for_the_python3_kernel_by_its_own_name(notebook):
    # With another display name, JupyterLab rewrites it and marks the chapter modified on opening.
    kernelspec = json.loads(notebook.read_text())["metadata"]["kernelspec"]
    assert kernelspec == {"name": "python3", "display_name": "Python 3 (ipykernel)",
                          "language": "python"}, f"{notebook.name}: {kernelspec}"


# `./dev test` runs the chapters that train once more with another seed (BOOK_SEED) and other
# CPU code paths, and their assertions must hold there too (the README, "On another CPU"). The
# same pattern as its grep finds them.
TRAINS = re.compile(r"\b(train|Trainer|make_trainer)\(")
READS_BOOK_SEED = 'SEED = int(os.environ.get("BOOK_SEED", "0"))'
LITERAL_SEED = re.compile(r"\bseed=\d")


def trains(notebook: Path) -> bool:
    return any(TRAINS.search(cell_source(c)) for c in code_cells(notebook))


def test_the_chapters_that_train_are_found():
    assert {"07_training.ipynb", "09_beyond_pendulum.ipynb", "10_when_ddpg_fails.ipynb"} <= {
        nb.name for nb in NOTEBOOKS if trains(nb)}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_a_chapter_that_trains_takes_its_seed_from_book_seed(notebook):
    if not trains(notebook):
        return
    sources = [cell_source(c) for c in code_cells(notebook)]
    assert any(READS_BOOK_SEED in s for s in sources), (
        f"{notebook.name} trains but does not set {READS_BOOK_SEED}")
    fixed = [i + 1 for i, s in enumerate(sources) if TRAINS.search(s) and LITERAL_SEED.search(s)]
    assert not fixed, f"{notebook.name}: code cells {fixed} train with a literal seed, not SEED"
