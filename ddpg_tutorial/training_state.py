"""Crash-safe training states: what a run needs to continue exactly, saved at episode ends.

A run folder holds ``training_state.pt`` (networks, optimisers, random generators, counters,
history, and the list of replay chunks) and ``replay/``, the replay buffer as append-only
chunk files: each save writes only the transitions added since the one before, so saving
costs the same whether the buffer holds a thousand transitions or a million. Chunks are
written first and the state file last, each atomically, so whenever the process dies (an
exception, SIGKILL, out of memory, a power cut) the folder holds one complete state: the
last one saved.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ddpg_tutorial.buffer import ReplayBuffer
from ddpg_tutorial.checkpoint import safe_load
from ddpg_tutorial.files import atomic_save, fsync_dir, remove_temporary_files
from ddpg_tutorial.run_folder import REPLAY_DIR, STATE_FILE

TRAINING_STATE_FORMAT = "ddpg-tutorial/training-state/2"
OLD_TRAINING_STATE_FORMAT = "ddpg-tutorial/training-state/1"  # 0.1.0: one file, whole buffer
CHUNK_FORMAT = "ddpg-tutorial/replay-chunk/1"


def chunk_path(folder: Path, start: int, stop: int) -> Path:
    return folder / REPLAY_DIR / f"{start:012d}-{stop:012d}.pt"


def save_training_state(folder: str | Path, state: dict, buffer: ReplayBuffer) -> None:
    """Write ``state`` (without replay rows) and the buffer's new rows into ``folder``.

    ``state["replay_chunks"]`` lists the (start, stop) chunks already on disk; this adds one
    for the transitions added since, drops those the buffer has overwritten since, and deletes
    chunk files that no saved state refers to any more.
    """
    folder = Path(folder)
    oldest = buffer.added - buffer.size
    chunks = [(a, b) for a, b in state.get("replay_chunks", []) if b > oldest]
    saved_until = chunks[-1][1] if chunks else oldest
    start = max(saved_until, oldest)
    if buffer.added > start:
        atomic_save(
            {"format": CHUNK_FORMAT, "rows": buffer.rows(start, buffer.added)},
            chunk_path(folder, start, buffer.added),
        )
        chunks.append((start, buffer.added))
    state["replay_chunks"] = chunks
    atomic_save(state, folder / STATE_FILE)
    keep = {chunk_path(folder, a, b).name for a, b in chunks}
    for path in (folder / REPLAY_DIR).glob("*.pt"):
        if path.name not in keep:
            path.unlink()
    fsync_dir(folder / REPLAY_DIR)


def load_training_state(folder: str | Path) -> dict:
    """The state :func:`save_training_state` wrote into ``folder``, with the replay rows
    gathered back into ``state["buffer"]["rows"]`` (oldest first), ready for
    :meth:`.ReplayBuffer.load_state_dict`. A state written by version 0.1.0 is upgraded."""
    folder = Path(folder)
    for where in (folder, folder / REPLAY_DIR):  # left by a process killed mid-write
        remove_temporary_files(where)
    state = safe_load(
        folder / STATE_FILE, "a training state", TRAINING_STATE_FORMAT, OLD_TRAINING_STATE_FORMAT
    )
    if state["format"] == OLD_TRAINING_STATE_FORMAT:
        return _upgrade_0_1_0(state)
    buffer = state["buffer"]
    oldest = buffer["added"] - min(buffer["added"], buffer["capacity"])
    parts = []
    for start, stop in state["replay_chunks"]:
        rows = safe_load(chunk_path(folder, start, stop), "a replay chunk", CHUNK_FORMAT)["rows"]
        parts.append(rows[max(oldest - start, 0) :])
    buffer["rows"] = torch.cat(parts) if parts else torch.zeros((0, 0))
    return state


def _upgrade_0_1_0(old: dict) -> dict:
    """A training state of version 0.1.0 in today's layout. Its NumPy replay sampler cannot
    become a torch generator, so replay sampling starts a new stream from the run's seed;
    everything else (networks, optimisers, transitions, noise, counters, history) carries over."""
    b = old["buffer"]
    fields = torch.cat(
        [b[name] for name in ("obs", "action", "reward", "next_obs", "terminated")], dim=1
    )
    # 0.1.0 stored the ring as it was: oldest first is position..end, then 0..position.
    n, position = b["size"], b["position"]
    rows = torch.cat([fields[position:n], fields[:position]]) if n == b["capacity"] else fields
    return {
        **old,
        "format": TRAINING_STATE_FORMAT,
        "buffer": {"capacity": b["capacity"], "added": old["step"], "rows": rows},
        "replay_chunks": [],
    }
