"""Showing the library's own source code, so a text about the code cannot drift from it."""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path


class Source:
    """The source code of a function, class or module, with the file it lives in.

    In Jupyter (and so in the built book) it displays as a highlighted Python
    block; ``str()`` gives the plain code.
    """

    def __init__(self, obj: object) -> None:
        obj = inspect.unwrap(obj)  # a decorated method (e.g. @torch.no_grad()) shows its own code
        self.code = textwrap.dedent(inspect.getsource(obj))
        file = Path(inspect.getsourcefile(obj)).resolve()
        package_root = Path(__file__).resolve().parent.parent
        self.file = (file.relative_to(package_root).as_posix()
                     if file.is_relative_to(package_root) else file.name)

    def __str__(self) -> str:
        return self.code

    def __repr__(self) -> str:
        return f"# {self.file}\n{self.code}"

    def _repr_markdown_(self) -> str:
        return f"*From `{self.file}`:*\n\n```python\n{self.code}```\n"


def show_source(obj: object) -> Source:
    """The source of ``obj`` (a function, class, method or module) as a :class:`Source`."""
    return Source(obj)
