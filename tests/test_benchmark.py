"""The benchmark's arithmetic: its FLOP count of an update is what PyTorch really computes."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from torch.profiler import ProfilerActivity, profile

from ddpg_tutorial import PRESETS, DDPGAgent, ReplayBuffer

BENCH_FILE = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_pendulum.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_pendulum", BENCH_FILE)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


@pytest.mark.parametrize("preset", ["fast", "paper"])
def test_update_flops_match_the_profilers_count_of_matrix_products(preset):
    """update_flops (from layer sizes and batch) equals the FLOPs torch.profiler counts in
    the matrix products (mm, addmm) of one real update: no product is missed or invented."""
    bench = load_bench()
    config = PRESETS[preset]
    agent = DDPGAgent(bench.OBS_DIM, np.array([-2.0]), np.array([2.0]), config, seed=0)
    buffer = ReplayBuffer(1_000, bench.OBS_DIM, bench.ACT_DIM, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(config.batch_size):
        buffer.add(rng.normal(size=bench.OBS_DIM), rng.uniform(-2, 2, bench.ACT_DIM), -1.0,
                   rng.normal(size=bench.OBS_DIM), False)
    batch = buffer.sample(config.batch_size)
    agent.update(batch)  # the first update creates the optimiser state
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        agent.update(batch)
    counted = sum(e.flops for e in prof.events() if e.name in ("aten::mm", "aten::addmm"))
    assert counted > 0
    assert bench.update_flops(config) == counted
