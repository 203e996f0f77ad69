"""HalfCheetah-v5, 100,000 steps: this library's TD3 and SAC (``paper`` presets) side by side
with Stable-Baselines3's, set to the same hyperparameters and evaluated by the same code.

Run from the repository root:  .venv/bin/python benchmarks/halfcheetah_sb3.py [--jobs 2]

Eight runs (2 algorithms x 2 implementations x seeds 0 and 1), each in its own process on one
PyTorch thread, ``--jobs`` at a time, queued so that ours and SB3's run of the same algorithm
and seed start together and both implementations run under the same load. Every 5,000 steps
both are evaluated by ``ddpg_tutorial.evaluation.evaluate``: the greedy policy on the same 10
seeded episodes. Wall time per environment step leaves the evaluations out (SB3's ``predict`` is slower per
call than ours, and evaluation is not training); CPU time of the process is recorded too.

Both sides: random actions for the first 10,000 steps (the TD3 paper's warm-up on HalfCheetah;
the RL Zoo's ``learning_starts`` for both algorithms here), then one gradient step per
environment step, a 1,000,000-transition buffer, gamma 0.99. TD3: 400-300 networks, Adam 1e-3,
batch 100, tau 0.005, policy delay 2, target noise 0.2 clipped at 0.5, exploration N(0, 0.1).
SAC: 256-256, Adam 3e-4 (temperature too), batch 256, tau 0.005, automatic temperature
starting at 1 with target entropy -dim(A). Since version 0.3 the networks are the same too:
the critics take the action at their input and every layer starts in PyTorch's default range,
as SB3's (version 0.2's critics took it at their second layer, with last layers in
U(-3e-3, 3e-3)). What differs is the implementation.

Each run writes benchmarks/results/halfcheetah/IMPL-ALGO-seedN.json; runs whose file exists
are skipped, so the same command finishes an interrupted benchmark. ``--report`` prints the
table from those files.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

ENV_ID = "HalfCheetah-v5"
STEPS = 100_000
WARMUP = 10_000
EVAL_EVERY = 5_000
EVAL_EPISODES = 10
SEEDS = (0, 1)
ALGORITHMS = ("td3", "sac")
IMPLEMENTATIONS = ("ours", "sb3")
RESULTS = Path(__file__).parent / "results" / "halfcheetah"


class Clock:
    """Wall and process CPU time, with the time spent in evaluations kept apart."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        self.eval_wall = self.eval_cpu = 0.0

    def timed_evaluation(self, evaluate_fn):
        wall, cpu = time.perf_counter(), time.process_time()
        result = evaluate_fn()
        self.eval_wall += time.perf_counter() - wall
        self.eval_cpu += time.process_time() - cpu
        return result

    def totals(self) -> dict[str, float]:
        wall, cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu
        return {"wall_s": wall, "cpu_s": cpu, "eval_wall_s": self.eval_wall,
                "eval_cpu_s": self.eval_cpu,
                "train_wall_per_step_ms": 1e3 * (wall - self.eval_wall) / STEPS,
                "train_cpu_per_step_ms": 1e3 * (cpu - self.eval_cpu) / STEPS}


def run_ours(algorithm: str, seed: int) -> dict:
    from ddpg_tutorial import ALGORITHM_PRESETS, Trainer

    config = ALGORITHM_PRESETS[algorithm]["paper"].replace(
        total_steps=STEPS, warmup_steps=WARMUP, eval_every=EVAL_EVERY,
        eval_episodes=EVAL_EPISODES, gamma=0.99)
    trainer = Trainer(ENV_ID, config, seed=seed, progress=False)
    clock = Clock()
    evaluate_once = trainer._evaluate
    trainer._evaluate = lambda wall: clock.timed_evaluation(lambda: evaluate_once(wall))
    history = trainer.run()
    return {"config": config.to_dict(), **clock.totals(),
            "evaluations": [(e.env_steps, e.mean_return) for e in history.evaluations]}


def run_sb3(algorithm: str, seed: int) -> dict:
    from stable_baselines3 import SAC, TD3
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.noise import NormalActionNoise

    from ddpg_tutorial.envs import make_env
    from ddpg_tutorial.evaluation import eval_seeds, evaluate

    env = make_env(ENV_ID)
    act_dim = env.action_space.shape[0]
    shared = dict(buffer_size=1_000_000, learning_starts=WARMUP, gamma=0.99, tau=0.005,
                  train_freq=1, gradient_steps=1, seed=seed, device="cpu", verbose=0)
    if algorithm == "td3":
        model = TD3("MlpPolicy", env, learning_rate=1e-3, batch_size=100, policy_delay=2,
                    target_policy_noise=0.2, target_noise_clip=0.5,
                    action_noise=NormalActionNoise(np.zeros(act_dim), 0.1 * np.ones(act_dim)),
                    policy_kwargs={"net_arch": [400, 300]}, **shared)
    else:
        model = SAC("MlpPolicy", env, learning_rate=3e-4, batch_size=256, ent_coef="auto_1.0",
                    target_entropy="auto", policy_kwargs={"net_arch": [256, 256]}, **shared)
    eval_envs = [make_env(ENV_ID) for _ in range(EVAL_EPISODES)]
    seeds = eval_seeds(EVAL_EPISODES)
    evaluations: list[tuple[int, float]] = []

    class Evaluate(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % EVAL_EVERY == 0:
                policy = lambda obs: self.model.predict(obs, deterministic=True)[0]  # noqa: E731
                result = clock.timed_evaluation(lambda: evaluate(policy, eval_envs, seeds))
                evaluations.append((self.num_timesteps, float(result.returns.mean())))
            return True

    clock = Clock()
    model.learn(STEPS, callback=Evaluate())
    return {"sb3_hyperparameters": {k: str(v) for k, v in shared.items()}, **clock.totals(),
            "evaluations": evaluations}


def run_one(job: tuple[str, str, int]) -> str:
    implementation, algorithm, seed = job
    torch.set_num_threads(1)
    result = (run_ours if implementation == "ours" else run_sb3)(algorithm, seed)
    result.update(implementation=implementation, algorithm=algorithm, seed=seed,
                  torch=torch.__version__)
    path = RESULTS / f"{implementation}-{algorithm}-seed{seed}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    return (f"{implementation} {algorithm} seed {seed}: final {result['evaluations'][-1][1]:.0f}, "
            f"{result['train_wall_per_step_ms']:.2f} ms/step")


def report() -> str:
    runs = {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))}
    lines = ["| algorithm | seed | final return, ours | final return, SB3 | ms/step ours "
             "| ms/step SB3 | wall ratio ours/SB3 | CPU ratio ours/SB3 |",
             "|---|---|---|---|---|---|---|---|"]
    ratios: dict[str, list[float]] = {a: [] for a in ALGORITHMS}
    for algorithm in ALGORITHMS:
        for seed in SEEDS:
            ours = runs.get(f"ours-{algorithm}-seed{seed}")
            sb3 = runs.get(f"sb3-{algorithm}-seed{seed}")
            if ours is None or sb3 is None:
                continue
            wall = ours["train_wall_per_step_ms"] / sb3["train_wall_per_step_ms"]
            cpu = ours["train_cpu_per_step_ms"] / sb3["train_cpu_per_step_ms"]
            ratios[algorithm].append(wall)
            lines.append(f"| {algorithm} | {seed} | {ours['evaluations'][-1][1]:.0f} "
                         f"| {sb3['evaluations'][-1][1]:.0f} "
                         f"| {ours['train_wall_per_step_ms']:.2f} "
                         f"| {sb3['train_wall_per_step_ms']:.2f} | {wall:.2f} | {cpu:.2f} |")
    for algorithm, values in ratios.items():
        if values:
            lines.append(f"\n{algorithm}: mean wall-clock ratio ours/SB3 "
                         f"{statistics.mean(values):.2f} over {len(values)} seeds")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--report", action="store_true", help="only print the table")
    args = parser.parse_args()
    if not args.report:
        RESULTS.mkdir(parents=True, exist_ok=True)
        jobs = [(impl, algorithm, seed) for seed in SEEDS for algorithm in ALGORITHMS
                for impl in IMPLEMENTATIONS
                if not (RESULTS / f"{impl}-{algorithm}-seed{seed}.json").exists()]
        with ProcessPoolExecutor(args.jobs) as pool:
            for line in pool.map(run_one, jobs):
                print(line, flush=True)
    print(report())


if __name__ == "__main__":
    main()
