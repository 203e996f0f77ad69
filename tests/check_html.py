"""Check the built book as a reader would see it.

    python tests/check_html.py _build/html [--screenshots DIR]

1. Every internal link of every built page resolves: each ``href`` and ``src`` that points to a
   local file names a file that exists, and each ``#anchor`` names an ``id`` in that page.
2. Each chapter of ``_toc.yml`` opens in headless Chromium (Debian's ``chromium``, no network):
   the page shows the chapter's title and number, MathJax has typeset its math, code cells have
   copy buttons and the page offers its ``.ipynb`` for download. It has exercises
   (sphinx-exercise), and sphinx-togglebutton folds every solution until it is clicked. Every
   figure shows a readable image and a numbered caption. The
   training chapter shows its learning curve (a PNG) and an animated GIF; the search page finds
   pages; the bibliography lists entries.
3. With ``--screenshots DIR``, a PNG screenshot of each chapter page is written into DIR.

Prints one line per check, then ``N passed, M failed``; exits non-zero on any failure.
Needs only the standard library, Pillow and the ``chromium`` binary.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--virtual-time-budget=15000",
]
CHROMIUM_TIMEOUT_S = 120
MUST_HAVE_MATH = {"book/01_introduction", "book/06_ddpg_update"}
TRAINING_CHAPTER = "book/07_training"
LANDING_PAGE = "book/index"
SYMBOLS_PAGE = "book/symbols"
MIN_GIF_FRAMES = 3
SEARCH_TERM = "replay"
LINK_ATTRS = {"href", "src"}


class Results:
    def __init__(self) -> None:
        self.passed = self.failed = 0

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed += 1
            print(f"PASS {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f": {detail}" if detail else ""))
        return ok


class PageParser(HTMLParser):
    """Collects a page's ids, its local links and its images."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.imgs: list[str] = []
        self.h1: list[str] = []
        self._in_h1 = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in LINK_ATTRS:
            if attrs.get(key):
                self.links.append(attrs[key])
        if attrs.get("srcset"):
            self.links += [c.split()[0] for c in attrs["srcset"].split(",") if c.strip()]
        if tag == "img" and attrs.get("src"):
            self.imgs.append(attrs["src"])
        if tag == "h1":
            self._in_h1 += 1
            self.h1.append("")

    def handle_endtag(self, tag):
        if tag == "h1" and self._in_h1:
            self._in_h1 -= 1

    def handle_data(self, data):
        if self._in_h1:
            self.h1[-1] += data


def parse(text: str) -> PageParser:
    parser = PageParser()
    parser.feed(text)
    return parser


def normalize(text: str) -> str:
    """Text for comparing titles: no markup, plain quotes, single spaces."""
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    text = text.translate(str.maketrans("\u2018\u2019\u201c\u201d\u2013\u2014\u00a0",
                                        "''\"\"-- "))
    return " ".join(text.replace("`", "").replace("#", " ").split())


# 1. Links -----------------------------------------------------------------------------------

def local_target(page: Path, link: str, root: Path) -> tuple[Path, str] | None:
    """The file and fragment a link points to, or None for external and empty links."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or link.startswith("//"):
        return None  # http:, https:, mailto:, data:, javascript:, ...
    path, fragment = unquote(parts.path), unquote(parts.fragment)
    if not path and not fragment:
        return None
    target = (root / path.lstrip("/")) if path.startswith("/") else (page.parent / path)
    if not path:
        target = page
    if target.is_dir():
        target = target / "index.html"
    return target.resolve(), fragment


def check_links(root: Path, results: Results) -> None:
    # _static/ holds the themes' Jinja templates (webpack-macros.html), not built pages.
    pages = sorted(p for p in root.rglob("*.html") if p.relative_to(root).parts[0] != "_static")
    results.check(bool(pages), f"{root} has HTML pages", "none found; build the book first")
    parsed: dict[Path, PageParser] = {}

    def page_of(path: Path) -> PageParser:
        if path not in parsed:
            parsed[path] = parse(path.read_text(encoding="utf-8", errors="replace"))
        return parsed[path]

    for page in pages:
        bad, count = [], 0
        for link in page_of(page.resolve()).links:
            target = local_target(page.resolve(), link, root)
            if target is None:
                continue
            count += 1
            path, fragment = target
            if not path.is_file():
                bad.append(f"{link} (no file)")
            elif fragment and path.suffix == ".html" and fragment not in page_of(path).ids:
                bad.append(f"{link} (no id '{fragment}')")
        rel = page.relative_to(root).as_posix()
        results.check(not bad, f"links: {rel} ({count} local links)",
                      f"{len(bad)} broken: " + ", ".join(sorted(set(bad))[:8]))


# 2. The browser -----------------------------------------------------------------------------

def chromium(url: str, *extra: str) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory(prefix="check_html_chromium_") as profile:
        try:
            proc = subprocess.run(
                ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
                capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return 124, "", f"chromium took more than {CHROMIUM_TIMEOUT_S} s"
    return proc.returncode, proc.stdout, proc.stderr


def dump_dom(path: Path, query: str = "") -> tuple[str, str]:
    """The DOM after the page's scripts ran, or "" and why not."""
    rc, out, err = chromium(path.resolve().as_uri() + query, "--dump-dom")
    if rc != 0 or "<html" not in out.lower():
        tail = " | ".join(err.strip().splitlines()[-2:])
        return "", f"chromium exit status {rc}: {tail}"
    return out, ""


def chapters_from_toc() -> list[str]:
    """The numbered chapters of _toc.yml in order, e.g. 'book/01_introduction'."""
    toc = (REPO / "_toc.yml").read_text(encoding="utf-8")
    return re.findall(r"^\s*-\s*file:\s*(book/\d\d_[\w-]+)\s*$", toc, flags=re.M)


def notebook_title(docname: str) -> str | None:
    """The first '# ' heading of the chapter's notebook, if the notebook is there."""
    nb = REPO / f"{docname}.ipynb"
    try:
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return None
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            source = "".join(cell["source"])
            match = re.search(r"^# (.+)$", source, flags=re.M)
            if match:
                return re.sub(r"\{[\w:-]+\}", "", match.group(1))  # drop MyST roles
    return None


def image_file(page: Path, src: str) -> Path | None:
    target = local_target(page.resolve(), src, page.parent)
    return target[0] if target and target[0].is_file() else None


def image_size(page: Path, src: str) -> tuple[int, int]:
    """Width and height of the image file ``src`` of ``page`` ((0, 0) if unreadable)."""
    path = image_file(page, src)
    if path is None:
        return (0, 0)
    try:
        if path.suffix.lower() == ".svg":  # a vector image: the size its viewBox declares
            root = ElementTree.parse(path).getroot()
            _, _, width, height = (float(v) for v in root.get("viewBox", "0 0 0 0").split())
            return (int(width), int(height)) if root.tag.endswith("svg") else (0, 0)
        with Image.open(path) as im:
            return im.size
    except (OSError, ValueError, ElementTree.ParseError):
        return (0, 0)


def check_chapter(root: Path, number: int, docname: str, results: Results,
                  shots: Path | None) -> None:
    page = root / f"{docname}.html"
    name = f"{docname}.html"
    if not results.check(page.is_file(), f"{name}: built", "no such page (chapter missing?)"):
        return
    static = page.read_text(encoding="utf-8", errors="replace")
    dom, why = dump_dom(page)
    if not results.check(bool(dom), f"{name}: opens in chromium", why):
        return
    parsed = parse(dom)

    # The theme repeats the title without its number in the page header: look at every <h1>.
    title = normalize(notebook_title(docname) or (parse(static).h1 or [""])[-1])
    headings = [normalize(h) for h in parsed.h1]
    results.check(bool(title) and any(title in h for h in headings),
                  f"{name}: shows its title '{title}'", f"the page's <h1>s are {headings}")
    results.check(any(h.startswith(f"{number}. ") and title in h for h in headings),
                  f"{name}: numbered chapter {number}", f"the page's <h1>s are {headings}")

    n_math = len(re.findall(r'class="math notranslate nohighlight"', static))
    n_typeset = len(re.findall(r"<mjx-container\b", dom))
    if n_math or docname in MUST_HAVE_MATH:
        results.check(n_math > 0 and n_typeset >= n_math,
                      f"{name}: MathJax typeset its math ({n_typeset} of {n_math})",
                      "math missing" if not n_math else "MathJax did not run")
        # A TeX error becomes an merror node; an undefined macro, red text (noundefined).
        errors = len(re.findall(r'<g [^>]*data-mml-node="merror"|<mjx-merror\b'
                                r'|<g data-mml-node="mtext" fill="red"', dom))
        results.check(errors == 0, f"{name}: no TeX errors",
                      f"{errors} TeX errors or undefined macros (shown in red)")

    if 'class="highlight' in static:
        results.check("copybtn" in dom, f"{name}: code cells have copy buttons",
                      "no sphinx-copybutton button in the page")
    ipynb = f"_sources/{docname}.ipynb"
    results.check(ipynb in static and (root / ipynb).is_file(),
                  f"{name}: download button offers {ipynb}", "no link to it, or no such file")
    # {exercise} and {solution} (sphinx-exercise); a solution is folded (toggle-hidden) by
    # sphinx-togglebutton until the reader clicks it.
    n_exercises = len(re.findall(r'<div class="exercise\b[^"]*"', static))
    solutions = re.findall(r'<div class="(solution\b[^"]*)"', dom)
    folded = [s for s in solutions if "toggle-hidden" in s.split()]
    results.check(n_exercises > 0, f"{name}: has exercises ({n_exercises})",
                  "no {exercise} directive on the page")
    results.check(bool(solutions) and len(folded) == len(solutions),
                  f"{name}: solutions hidden until clicked ({len(folded)} of {len(solutions)})",
                  "no {solution} on the page" if not solutions
                  else "sphinx-togglebutton left some solutions open")
    for caption in re.findall(r"<figcaption>(.*?)</figcaption>", static, flags=re.S):
        results.check('class="caption-number"' in caption,
                      f"{name}: figure caption numbered: {normalize(caption)[:60]}",
                      "caption without a number (numfig)")
    for figure in re.findall(r"<figure\b.*?</figure>", static, flags=re.S):
        caption = normalize(re.sub(r"<[^>]+>", " ", figure))[:50]
        sizes = [image_size(page, src) for src in re.findall(r'<img [^>]*src="([^"]+)"', figure)]
        results.check(any(w >= 100 and h >= 100 for w, h in sizes),
                      f"{name}: figure shows its image: {caption}",
                      f"no readable image of at least 100 x 100 pixels (found {sizes})")

    if docname == TRAINING_CHAPTER:
        check_training_images(page, name, parsed.imgs, results)

    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        shot = shots / f"{Path(docname).name}.png"
        rc, _, err = chromium(page.resolve().as_uri(), f"--screenshot={shot}",
                              "--window-size=1280,1600", "--hide-scrollbars")
        results.check(rc == 0 and shot.is_file(), f"{name}: screenshot {shot}",
                      f"chromium exit status {rc}")


def check_training_images(page: Path, name: str, srcs: list[str], results: Results) -> None:
    pngs, gifs = [], []
    for src in srcs:
        path = image_file(page, src)
        if path is None:
            continue
        try:
            with Image.open(path) as im:
                kind, frames = im.format, getattr(im, "n_frames", 1)
        except OSError:
            continue
        if kind == "PNG" and path.suffix.lower() == ".png":
            pngs.append(path)
        if kind == "GIF" and path.suffix.lower() == ".gif":
            gifs.append((path, frames))
    results.check(bool(pngs), f"{name}: shows a PNG image (the learning curve)",
                  f"no <img> with an existing PNG file among {len(srcs)} images")
    best = max(gifs, key=lambda g: g[1], default=None)
    results.check(best is not None and best[1] >= MIN_GIF_FRAMES,
                  f"{name}: shows an animated GIF"
                  + (f" ({best[0].name}, {best[1]} frames)" if best else ""),
                  f"no <img> with a GIF file of at least {MIN_GIF_FRAMES} frames")


def check_landing_page(root: Path, chapters: list[str], results: Results) -> None:
    """The landing page shows the trained pendulum (an animated GIF) and a learning curve (a
    PNG), links every chapter, and the notation page is built and typeset."""
    page = root / f"{LANDING_PAGE}.html"
    dom, why = dump_dom(page)
    if not results.check(bool(dom), "landing page: opens in chromium", why):
        return
    parsed = parse(dom)
    check_training_images(page, "landing page", parsed.imgs, results)
    # The chapter map in the page's text (the navigation sidebar links every chapter anyway).
    article = re.search(r"<article\b.*?</article>", page.read_text(encoding="utf-8"), re.S)
    hrefs = {unquote(urlsplit(link).path).split("/")[-1]
             for link in parse(article.group(0) if article else "").links}
    missing = [c for c in chapters if f"{Path(c).name}.html" not in hrefs]
    results.check(not missing, f"landing page: its chapter map links all {len(chapters)} chapters",
                  f"no link to {missing} in the page's article")
    symbols, why = dump_dom(root / f"{SYMBOLS_PAGE}.html")
    results.check("<mjx-container" in symbols and "<table" in symbols,
                  "notation page: a table of symbols, typeset", why or "no typeset table")


def check_search(root: Path, results: Results) -> None:
    page = root / "search.html"
    if not results.check(page.is_file(), "search.html: built"):
        return
    dom, why = dump_dom(page, f"?q={SEARCH_TERM}")
    hits = re.findall(r'<li[^>]*>\s*<a[^>]+href="[^"]+"', dom.split('<ul class="search"', 1)[-1]
                      if '<ul class="search"' in dom else "")
    results.check(bool(dom) and len(hits) > 0,
                  f"search.html?q={SEARCH_TERM}: finds pages ({len(hits)} results)",
                  why or "no results listed")


def check_bibliography(root: Path, results: Results) -> None:
    page = root / "book" / "references.html"
    if not results.check(page.is_file(), "book/references.html: built"):
        return
    entries = re.findall(r'class="citation"', page.read_text(encoding="utf-8"))
    results.check(bool(entries), f"book/references.html: lists {len(entries)} cited entries",
                  "the bibliography is empty")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html_dir", type=Path, help="the built book, e.g. _build/html")
    parser.add_argument("--screenshots", type=Path, metavar="DIR",
                        help="write a PNG screenshot of each chapter page into DIR")
    args = parser.parse_args()
    if shutil.which("chromium") is None:
        print("FAIL chromium not found: install Debian's headless browser with "
              "`apt-get install chromium`")
        return 1
    root = args.html_dir.resolve()
    results = Results()
    if not results.check(root.is_dir(), f"{args.html_dir} exists", "build the book first"):
        print(f"{results.passed} passed, {results.failed} failed")
        return 1

    check_links(root, results)
    chapters = chapters_from_toc()
    results.check(len(chapters) > 0, f"_toc.yml lists {len(chapters)} chapters")
    for number, docname in enumerate(chapters, start=1):
        check_chapter(root, number, docname, results, args.screenshots)
    check_landing_page(root, chapters, results)
    check_search(root, results)
    check_bibliography(root, results)

    print(f"{results.passed} passed, {results.failed} failed")
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
