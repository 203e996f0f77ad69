"""One seed for a whole run, split into independent random streams."""

from __future__ import annotations

import numpy as np

#: The names of a run's random streams, one each for environment resets, warm-up actions,
#: exploration noise, replay sampling, and the agent's torch generator (initialisation and
#: sampling).
STREAMS = ("env", "warmup", "noise", "replay", "agent")


def stream_seeds(seed: int) -> dict[str, int]:
    """A 64-bit seed for each of :data:`STREAMS`, spawned from ``SeedSequence(seed)``.

    Spawned sequences are independent by construction, so no stream repeats another's
    numbers (as ``default_rng(seed)`` and ``env.reset(seed=seed)`` would: both build the
    same generator). The same ``seed`` always gives the same streams.
    """
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {
        name: int(child.generate_state(1, dtype=np.uint64)[0])
        for name, child in zip(STREAMS, children)
    }
