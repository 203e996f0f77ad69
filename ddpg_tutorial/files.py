"""Files that stay whole: atomic writes, and one process at a time in a run folder.

An atomic write never leaves half a file behind, whenever the process dies; a run folder's lock
keeps a second process from training in a folder while one does."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from ddpg_tutorial.errors import DDPGError

if sys.platform == "win32":  # no fcntl: lock a byte of the file with msvcrt instead
    import msvcrt
else:
    import fcntl

LOCK_FILE = ".lock"  #: the file in a run folder that the process training there locks


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
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
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
    return DDPGError(
        f"cannot write to '{folder}' ({err.strerror}); choose a writable output directory"
    )


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
    import torch  # here, so that what only reads run folders (the report) starts without it

    atomic_write(path, lambda f: torch.save(obj, f))


class FolderLock:
    """An exclusive lock on a run folder, held by the one process that trains in it.

    A second process (``train --resume`` run twice, a sweep started again while it runs) is
    refused before it reads, writes or deletes a file there.

    The lock is ``fcntl.flock`` on the file :data:`LOCK_FILE` in the folder (``msvcrt.locking``
    of its first byte on Windows). The operating system drops it when the process ends,
    however it ends, so a process killed with SIGKILL leaves no stale lock. The holder writes
    its process id into the file, which stays: deleting it would let two processes lock two
    different files of the same name. On a file system that cannot lock (NFS mounted with
    ``nolock``) the folder goes unguarded.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._file: BinaryIO | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._file is not None

    def acquire(self) -> None:
        """Take the lock, creating its file in the folder (which must exist).

        Raises a one-line :class:`.DDPGError` naming the folder if another process holds it.
        """
        file = self._open(os.O_CREAT)
        _lock_or_refuse(file, self.folder)
        file.truncate(0)
        file.write(f"{os.getpid()}\n".encode())
        file.flush()
        self._file = file

    def release(self) -> None:
        """Let the lock go (nothing if not held)."""
        if self._file is not None:
            if sys.platform == "win32":
                self._file.seek(0)
                msvcrt.locking(self._file.fileno(), msvcrt.LK_UNLCK, 1)
            self._file.close()  # closing drops an flock
            self._file = None

    def check_free(self) -> None:
        """Raise what :meth:`acquire` would if another process holds the lock, changing nothing."""
        if (self.folder / LOCK_FILE).is_file():
            with self._open(0) as file:
                _lock_or_refuse(file, self.folder)  # dropped again by closing

    def _open(self, flags: int) -> BinaryIO:
        try:
            fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | flags, 0o666)
        except FileNotFoundError:
            raise DDPGError(f"'{self.folder}' does not exist; pass the folder of a run") from None
        except OSError as err:
            raise _unwritable(self.folder, err) from None
        return os.fdopen(fd, "r+b")


def _lock_or_refuse(file: BinaryIO, folder: Path) -> None:
    """Lock ``file`` without waiting; if another process holds it, close it and raise."""
    try:
        if sys.platform == "win32":
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except OSError as err:
        if sys.platform != "win32" and not isinstance(err, BlockingIOError):
            return  # a file system without locks (NFS mounted with nolock): train unguarded
    try:
        holder = file.read().decode().strip()
    except (OSError, UnicodeDecodeError):  # Windows: the locked byte cannot be read
        holder = ""
    file.close()
    pid = f" (pid {holder})" if holder.isdigit() else ""
    raise DDPGError(
        f"another process{pid} is training in '{folder}'; a run folder takes one "
        "process at a time: wait for it to end, or stop it"
    )
