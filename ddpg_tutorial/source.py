"""Showing the library's own source code, so a text about the code cannot drift from it."""

from __future__ import annotations

import ast
import hashlib
import inspect
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

#: The modules whose code decides the numbers a run produces (not the command line, files,
#: plots or statistics): what :func:`code_digest` hashes.
RUN_MODULES = (
    "agent",
    "algorithms",
    "base",
    "buffer",
    "config",
    "envs",
    "evaluation",
    "history",
    "networks",
    "noise",
    "sac",
    "seeding",
    "td3",
    "training",
)


class Source:
    """The source code of a function, class or module, with the file it lives in.

    In Jupyter (and so in the built book) it displays as a highlighted Python
    block; ``str()`` gives the plain code.
    """

    def __init__(self, obj: Callable[..., Any] | ModuleType) -> None:
        if callable(obj):
            obj = inspect.unwrap(obj)  # a decorated method (@torch.no_grad()) shows its own code
        self.code = textwrap.dedent(inspect.getsource(obj))
        file = Path(inspect.getsourcefile(obj) or inspect.getfile(obj)).resolve()
        package_root = Path(__file__).resolve().parent.parent
        self.file = (
            file.relative_to(package_root).as_posix()
            if file.is_relative_to(package_root)
            else file.name
        )

    def __str__(self) -> str:
        return self.code

    def __repr__(self) -> str:
        return f"# {self.file}\n{self.code}"

    def _repr_markdown_(self) -> str:
        return f"*From `{self.file}`:*\n\n```python\n{self.code}```\n"


def show_source(obj: Callable[..., Any] | ModuleType) -> Source:
    """The source of ``obj`` (a function, class, method or module) as a :class:`Source`."""
    return Source(obj)


def code_digest(package: str | Path | None = None) -> str:
    """A short hash of the code that decides a run's numbers (:data:`RUN_MODULES` of
    ``package``, by default this library), parsed, so that comments, docstrings and layout do
    not change it. A run records it in ``config.json``; results stored from runs whose digest
    differs came from other code."""
    digest = hashlib.sha256()
    package = Path(package or Path(__file__).resolve().parent)
    for name in RUN_MODULES:
        tree = ast.parse((package / f"{name}.py").read_text())
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (
                isinstance(body, list)
                and body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                body[:] = body[1:] or [ast.Pass()]  # the docstring, out of node.body
        digest.update(ast.dump(tree).encode())
    return digest.hexdigest()[:16]
