"""One seed for a whole run, split into independent random streams.

Also the first reset seeds of the greedy evaluations: training's, tuning's and the checks'
(``evaluate``, ``render``), three disjoint ranges.
"""

from __future__ import annotations

import numpy as np

#: The names of a run's random streams, one each for environment resets, warm-up actions,
#: exploration noise, replay sampling, and the agent's torch generator (initialisation and
#: sampling).
STREAMS = ("env", "warmup", "noise", "replay", "agent")

#: The first reset seed of training's greedy evaluations, which reports and sweeps read
#: (10000, 10001, ...). Training seeds are small numbers (0-2 in the book, 100-109 and
#: 200-209 held out, 1000-1002 for tuning), so no training run resets its environment with one.
EVAL_SEED_BASE = 10_000
#: The first reset seed of ``tune``'s trials (20000, 20001, ...), disjoint from those of
#: EVAL_SEED_BASE, so that a search never scores on the start states of the runs reported after.
TUNE_EVAL_SEED_BASE = 20_000
#: The first reset seed of ``ddpg-tutorial evaluate`` and ``render`` (30000, 30001, ...), start
#: states on which no training run, report or tuning trial was scored.
CHECK_SEED_BASE = 30_000


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
