"""The book's length: the words of prose in each part, against the third edition's bars.

Prose is the text of the markdown cells without code blocks and display math (words are runs
of letters). Issues 22 and 23 set the bars: Part I at most 20,000 words, Part II at most
10,000. Until a part meets its bar, its test holds it at most at its length when the bar was
set here (a ratchet: a change may shorten a part, never lengthen it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BARS = {"Part I: DDPG": 20_000, "Part II: TD3 and SAC": 10_000}  #: the third edition's
RATCHET = {"Part I: DDPG": 20_000, "Part II: TD3 and SAC": 10_700}  #: until a part meets it


def prose_words(notebook: Path) -> int:
    cells = json.loads(notebook.read_text())["cells"]
    text = " ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    return len(re.findall(r"[A-Za-z][A-Za-z'-]*", text))


def parts() -> dict[str, list[Path]]:
    """Each part's caption in _toc.yml and its chapters' notebooks."""
    found: dict[str, list[Path]] = {}
    caption = None
    for line in (REPO / "_toc.yml").read_text().splitlines():
        if m := re.match(r'\s*- caption: "?([^"]+)"?$', line):
            caption = m.group(1)
            found[caption] = []
        elif (m := re.match(r"\s*- file: (\S+)$", line)) and caption is not None:
            notebook = REPO / f"{m.group(1)}.ipynb"
            if notebook.exists():
                found[caption].append(notebook)
    return found


def test_the_word_count_skips_code_and_display_math(tmp_path):
    notebook = tmp_path / "a.ipynb"
    cells = [{"cell_type": "markdown", "source": ["One two.\n```python\nx = 1\n```\n$$a = b$$"]},
             {"cell_type": "code", "source": ["three = 3"]}]
    notebook.write_text(json.dumps({"cells": cells}))
    assert prose_words(notebook) == 2


def test_the_parts_are_found_in_the_table_of_contents():
    found = parts()
    assert set(BARS) <= set(found)
    assert [p.name for p in found["Part I: DDPG"]][:1] == ["01_introduction.ipynb"]
    assert len(found["Part II: TD3 and SAC"]) == 3


@pytest.mark.parametrize("part", sorted(BARS))
def test_each_part_is_no_longer_than_its_bar_or_its_ratchet(part):
    words = sum(prose_words(notebook) for notebook in parts()[part])
    limit = BARS[part] if words <= BARS[part] else RATCHET[part]
    assert words <= limit, (f"{part} has {words:,} words of prose; at most {limit:,} "
                            f"(the bar is {BARS[part]:,})")
