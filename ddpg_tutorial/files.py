"""Writing files atomically, so that a crash never leaves half a file behind."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import torch

from ddpg_tutorial.errors import DDPGError


def atomic_write(path: str | Path, write: Callable[[BinaryIO], Any]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``.

    The data and the rename are flushed to disk before returning, so a crash, a kill or a
    power cut at any moment leaves either the previous file or the new one at ``path``.
    """
    path = Path(path)
    make_folder(path.parent)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    try:
        # Mode 0o666, less the umask, which the kernel applies: the permissions of any new file
        # (reading the umask would mean setting it, racing threads that create files).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
    except OSError as err:
        raise _unwritable(path.parent, err) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def make_folder(folder: str | Path) -> None:
    """Create ``folder`` and its parents where missing (a one-line DDPGError if impossible)."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _unwritable(Path(folder), err) from None


def _unwritable(folder: Path, err: OSError) -> DDPGError:
    return DDPGError(f"cannot write to '{folder}' ({err.strerror}); "
                     "choose a writable output directory")


def remove_temporary_files(folder: str | Path) -> None:
    """Delete what :func:`atomic_write` leaves in ``folder`` when killed mid-write."""
    for path in Path(folder).glob(".*.tmp"):
        path.unlink(missing_ok=True)


def fsync_dir(folder: Path) -> None:
    """Make the renames and deletions in ``folder`` durable (a no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_save(obj: Any, path: str | Path) -> None:
    """``torch.save(obj)`` to ``path`` through :func:`atomic_write`."""
    atomic_write(path, lambda f: torch.save(obj, f))
