"""Benchmark, second edition: ddpg_tutorial against Stable-Baselines3 on Pendulum-v1.

Run from the repository root:  ./dev bench   (or: .venv/bin/python benchmarks/bench_sb3.py)

Every run is a process of its own on one PyTorch thread, ``--jobs`` at a time, queued so that
ours and SB3's runs alternate and both see the same machine. Three measurements, reported apart:

1. **Implementation**: ours and SB3's DDPG, TD3 and SAC with identical hyperparameters and
   network shapes (``IDENTICAL``), 11,000 steps on seeds 100-109: environment steps per second
   of training (the one evaluation at the end left out), and the ratio ours / SB3.
2. **End to end**: the ``fast`` preset of each of our algorithms, and DDPG's with the batch
   size issue 26 chose (``ours_end_to_end``), against the RL Zoo's Pendulum-v1 configurations
   of SB3's DDPG, TD3 and SAC (``ZOO``), on the seeds 200-209, which no tuning and no choice
   of a preset has seen (tuning: 0-4 and 1000-1004; choosing: 100-109, then 300-309); the
   first edition of this part ran on 100-109. Every 1,000 steps both are evaluated by
   ``ddpg_tutorial.evaluation.evaluate``: the greedy policy on 10 episodes with reset seeds
   10000-10009 (never a training seed). A run stops at its first evaluation of -200 or more.
   Reported: runs that reached -200, and the median steps and training seconds to get there
   (evaluations left out) with 95% bootstrap confidence intervals (``ddpg_tutorial.stats``);
   the ratio of the fastest SB3 configuration's median seconds to ours.
3. **The loop against the physical limit**: our DDPG ``fast`` run's training time per
   environment step (from 1.) against a floor: the update's matrix FLOPs (``update_flops``,
   of the first edition, bench_pendulum.py, checked against torch.profiler by
   tests/test_benchmark.py) at the matmul throughput
   measured in the same run, divided by ``update_every``, plus a bare environment step and a
   bare actor forward pass. Reported as floor / measured.

Each run writes benchmarks/results/sb3/KIND-METHOD-seedN.json; runs whose file exists are
skipped, so the same command finishes an interrupted benchmark (``--fresh`` starts over).
``--report-only`` renders report.md from those files.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from bench_pendulum import cpu_name, time_call, update_flops  # the first edition's tools

ENV_ID = "Pendulum-v1"
OBS_DIM, ACT_DIM = 3, 1
SOLVED = -200.0
RESULTS = Path(__file__).parent / "results" / "sb3"
IMPLEMENTATION_SEEDS = tuple(range(100, 110))
END_TO_END_SEEDS = tuple(range(200, 210))
IMPLEMENTATION_STEPS = 11_000

# Identical on both sides (SB3 has one learning rate for every network, so ours uses it too).
IDENTICAL = dict(hidden=[160, 160], batch_size=256, update_every=2, warmup_steps=1_000,
                 learning_rate=1e-3, gamma=0.98, tau=0.01, buffer_size=200_000, noise_sigma=0.1,
                 policy_delay=2, target_noise=0.2, target_noise_clip=0.5, initial_alpha=1.0)

# The RL Zoo's Pendulum-v1 hyperparameters (rl-baselines3-zoo, hyperparams/{ddpg,td3,sac}.yml);
# what is not listed is SB3's default (SAC: batch 256, tau 0.005, gamma 0.99, 256-256 networks,
# learning_starts 100, automatic temperature; DDPG and TD3: batch 256, tau 0.005).
ZOO = {
    "ddpg": dict(n_timesteps=20_000, gamma=0.98, buffer_size=200_000, learning_starts=10_000,
                 noise_std=0.1, gradient_steps=1, train_freq=1, learning_rate=1e-3,
                 net_arch=[400, 300]),
    "td3": dict(n_timesteps=20_000, gamma=0.98, buffer_size=200_000, learning_starts=10_000,
                noise_std=0.1, gradient_steps=1, train_freq=1, learning_rate=1e-3,
                net_arch=[400, 300]),
    "sac": dict(n_timesteps=20_000, learning_rate=1e-3),
}
ALGORITHMS = ("ddpg", "td3", "sac")


def ours_end_to_end() -> dict[str, object]:
    """Our end-to-end configurations by name: each algorithm's ``fast`` preset, and DDPG's with
    batch size 256, its preset before issue 26 chose 64 for training seconds
    (benchmarks/README.md, "Presets tuned for seconds")."""
    from ddpg_tutorial import ALGORITHM_PRESETS

    fast = {algorithm: ALGORITHM_PRESETS[algorithm]["fast"] for algorithm in ALGORITHMS}
    return {**fast, "ddpg-batch-256": fast["ddpg"].replace(batch_size=256)}


class Clock:
    """Training time: wall time since the start, less the time spent in evaluations."""

    def __init__(self) -> None:
        self.start, self.in_evaluations = time.perf_counter(), 0.0

    def training_s(self) -> float:
        return time.perf_counter() - self.start - self.in_evaluations

    def timed(self, fn):
        start = time.perf_counter()
        result = fn()
        self.in_evaluations += time.perf_counter() - start
        return result


# Ours ---------------------------------------------------------------------------------------

def identical_config(algorithm: str):
    from ddpg_tutorial import ALGORITHM_PRESETS

    p = IDENTICAL
    fields = dict(actor_hidden=p["hidden"], critic_hidden=p["hidden"], batch_size=p["batch_size"],
                  update_every=p["update_every"], warmup_steps=p["warmup_steps"],
                  actor_lr=p["learning_rate"], critic_lr=p["learning_rate"], gamma=p["gamma"],
                  tau=p["tau"], buffer_size=p["buffer_size"], critic_weight_decay=0.0,
                  total_steps=IMPLEMENTATION_STEPS, eval_every=IMPLEMENTATION_STEPS)
    if algorithm in ("ddpg", "td3"):
        fields.update(noise="gaussian", noise_sigma=p["noise_sigma"])
    if algorithm == "td3":
        fields.update(policy_delay=p["policy_delay"], target_noise=p["target_noise"],
                      target_noise_clip=p["target_noise_clip"])
    if algorithm == "sac":
        fields.update(alpha_lr=p["learning_rate"], initial_alpha=p["initial_alpha"],
                      target_entropy=None)
    return ALGORITHM_PRESETS[algorithm]["fast"].replace(**fields)


def run_ours(config, seed: int, stop_at_solve: bool) -> dict:
    from ddpg_tutorial import Trainer

    trainer = Trainer(ENV_ID, config, seed=seed, progress=False)
    trainer.run(stop_when=(lambda h: h.evaluations[-1].mean_return >= SOLVED)
                if stop_at_solve else None)
    # train_time_s: the run's own training seconds, evaluations and saves left out
    evaluations = [(r.env_steps, r.train_time_s, r.mean_return)
                   for r in trainer.history.evaluations]
    return {"config": config.to_dict(), "env_steps": trainer.step,
            "training_s": evaluations[-1][1], "evaluations": evaluations}


# Stable-Baselines3 --------------------------------------------------------------------------

def sb3_model(algorithm: str, seed: int, hyperparameters: dict):
    from stable_baselines3 import DDPG, SAC, TD3
    from stable_baselines3.common.noise import NormalActionNoise

    from ddpg_tutorial.envs import make_env

    h = dict(hyperparameters)
    h.pop("n_timesteps", None)
    kwargs = {"policy_kwargs": {"net_arch": h.pop("net_arch")}} if "net_arch" in h else {}
    if "noise_std" in h:
        std = h.pop("noise_std")
        kwargs["action_noise"] = NormalActionNoise(np.zeros(ACT_DIM), std * np.ones(ACT_DIM))
    cls = {"ddpg": DDPG, "td3": TD3, "sac": SAC}[algorithm]
    return cls("MlpPolicy", make_env(ENV_ID), seed=seed, device="cpu", verbose=0, **h, **kwargs)


def identical_sb3(algorithm: str) -> dict:
    p = IDENTICAL
    h = dict(net_arch=p["hidden"], batch_size=p["batch_size"], train_freq=p["update_every"],
             gradient_steps=1, learning_starts=p["warmup_steps"],
             learning_rate=p["learning_rate"], gamma=p["gamma"], tau=p["tau"],
             buffer_size=p["buffer_size"])
    if algorithm in ("ddpg", "td3"):
        h["noise_std"] = p["noise_sigma"]
    if algorithm == "td3":
        h.update(policy_delay=p["policy_delay"], target_policy_noise=p["target_noise"],
                 target_noise_clip=p["target_noise_clip"])
    if algorithm == "sac":
        h.update(ent_coef=f"auto_{p['initial_alpha']}", target_entropy="auto")
    return h


def run_sb3(algorithm: str, seed: int, hyperparameters: dict, steps: int,
            stop_at_solve: bool) -> dict:
    from stable_baselines3.common.callbacks import BaseCallback

    from ddpg_tutorial.envs import make_env
    from ddpg_tutorial.evaluation import eval_seeds, evaluate

    model = sb3_model(algorithm, seed, hyperparameters)
    eval_envs = [make_env(ENV_ID) for _ in range(10)]
    seeds = eval_seeds(10)
    evaluations = []

    class Evaluate(BaseCallback):
        def _on_step(self) -> bool:
            if not stop_at_solve or self.num_timesteps % 1_000:
                return True
            training_s = clock.training_s()
            policy = lambda obs: self.model.predict(obs, deterministic=True)[0]  # noqa: E731
            returns = clock.timed(lambda: evaluate(policy, eval_envs, seeds).returns)
            evaluations.append((self.num_timesteps, training_s, float(returns.mean())))
            return evaluations[-1][2] < SOLVED

    clock = Clock()
    model.learn(steps, callback=Evaluate())
    return {"hyperparameters": hyperparameters, "env_steps": model.num_timesteps,
            "training_s": clock.training_s() if not stop_at_solve else evaluations[-1][1],
            "evaluations": evaluations}


# The floor of the loop ----------------------------------------------------------------------

def measure_floor() -> dict:
    from ddpg_tutorial import DDPGAgent
    from ddpg_tutorial.envs import make_env

    config = identical_config("ddpg")
    n = 1024
    x, w = torch.randn(n, n), torch.randn(n, n)
    throughput = 2 * n**3 / time_call(lambda: x @ w, 30)
    env = make_env(ENV_ID)
    env.reset(seed=0)
    action = np.zeros(ACT_DIM, dtype=np.float32)
    env_step = time_call(lambda: env.step(action), 20_000)
    agent = DDPGAgent(OBS_DIM, np.array([-2.0]), np.array([2.0]), config, seed=0)
    obs = torch.zeros(1, OBS_DIM)
    with torch.no_grad():
        actor_forward = time_call(lambda: agent.actor(obs), 20_000)
    flops = update_flops(config)
    update_s = flops / throughput / config.update_every
    return {"matmul_gflops": throughput / 1e9, "mflop_per_update": flops / 1e6,
            "update_floor_ms": 1e3 * flops / throughput, "env_step_ms": 1e3 * env_step,
            "actor_forward_ms": 1e3 * actor_forward,
            "floor_ms_per_step": 1e3 * (update_s + env_step + actor_forward)}


# Jobs and the report ------------------------------------------------------------------------

def jobs() -> list[tuple[str, str, str, int]]:
    """(kind, side, algorithm, seed), ours and SB3 alternating."""
    listed = [("floor", "ours", "ddpg", 0)]
    for seed in IMPLEMENTATION_SEEDS:
        for algorithm in ALGORITHMS:
            listed += [("implementation", side, algorithm, seed) for side in ("ours", "sb3")]
    for seed in END_TO_END_SEEDS:
        for method in ours_end_to_end():
            listed.append(("end_to_end", "ours", method, seed))
            if method in ALGORITHMS:
                listed.append(("end_to_end", "sb3", method, seed))
    return listed


def result_path(job: tuple[str, str, str, int]) -> Path:
    kind, side, algorithm, seed = job
    return RESULTS / f"{kind}-{side}-{algorithm}-seed{seed}.json"


def run_job(job: tuple[str, str, str, int]) -> str:
    torch.set_num_threads(1)
    kind, side, algorithm, seed = job
    if kind == "floor":
        result = measure_floor()
    elif kind == "implementation" and side == "ours":
        result = run_ours(identical_config(algorithm), seed, stop_at_solve=False)
    elif kind == "implementation":
        result = run_sb3(algorithm, seed, identical_sb3(algorithm), IMPLEMENTATION_STEPS,
                         stop_at_solve=False)
    elif side == "ours":
        result = run_ours(ours_end_to_end()[algorithm], seed, stop_at_solve=True)
    else:
        result = run_sb3(algorithm, seed, ZOO[algorithm], ZOO[algorithm]["n_timesteps"],
                         stop_at_solve=True)
    result.update(kind=kind, side=side, algorithm=algorithm, seed=seed, torch=torch.__version__)
    result_path(job).write_text(json.dumps(result, indent=1) + "\n")
    return f"{kind} {side} {algorithm} seed {seed}: done"


def load(kind: str, side: str, algorithm: str, seeds: tuple[int, ...]) -> list[dict]:
    """The results of one kind, side and algorithm (or configuration) on ``seeds``."""
    paths = [result_path((kind, side, algorithm, seed)) for seed in seeds]
    return [json.loads(p.read_text()) for p in paths if p.exists()]


def steps_to_solve(run: dict) -> tuple[float, float]:
    """(steps, training seconds) at the first evaluation >= -200, inf if none."""
    reached = next((e for e in run["evaluations"] if e[2] >= SOLVED), None)
    return (reached[0], reached[1]) if reached else (np.inf, np.inf)


def report() -> str:
    from ddpg_tutorial.stats import median_estimates

    floor = json.loads((RESULTS / "floor-ours-ddpg-seed0.json").read_text())
    machine = json.loads((RESULTS / "machine.json").read_text())
    jobs, machines = machine["jobs"], machine["machines"]  # by measurement
    lines = ["Every run on one PyTorch thread.", "",
             "### 1. The implementation, at identical hyperparameters", "",
             f"{machines['implementation']}; {jobs['implementation']} run(s) at a time. "
             f"{IMPLEMENTATION_STEPS:,} steps on seeds "
             f"{', '.join(map(str, IMPLEMENTATION_SEEDS))}; hyperparameters on both sides: "
             + ", ".join(f"{k} {v}" for k, v in IDENTICAL.items()) + ".", "",
             "| algorithm | seeds | ours, env steps/s | SB3, env steps/s | **ours / SB3** |",
             "|---|---|---|---|---|"]
    speed = {}
    for algorithm in ALGORITHMS:
        runs = {side: {r["seed"]: r["env_steps"] / r["training_s"]
                       for r in load("implementation", side, algorithm, IMPLEMENTATION_SEEDS)}
                for side in ("ours", "sb3")}
        seeds = sorted(runs["ours"].keys() & runs["sb3"].keys())
        rates = {side: np.array([runs[side][seed] for seed in seeds]) for side in runs}
        ratios = rates["ours"] / rates["sb3"]  # per seed: the two ran one after the other
        ci = median_estimates({**rates, "ratio": ratios})
        speed[algorithm] = {side: ci[side].point for side in rates}
        lines.append(f"| {algorithm} | {len(seeds)} | {ci['ours'].format()} "
                     f"| {ci['sb3'].format()} | **{ci['ratio'].format('.2f')}x** |")
    lines += ["", "(medians over the seeds with 95% bootstrap confidence intervals; the ratio "
              "is the median of the per-seed ratios, ours and SB3 on the same seed having run "
              "one after the other)", "",
              "### 2. End to end: our fast presets against the RL Zoo's configurations", ""]
    if not any(any(RESULTS.glob(f"end_to_end-*-seed{seed}.json")) for seed in END_TO_END_SEEDS):
        lines += ["Not measured yet (`--only end_to_end`).", ""]
    else:
        lines += [f"{machines['end_to_end']}; {jobs['end_to_end']} run(s) at a time.", ""]
        lines += end_to_end_report()
    lines += ["### 3. The loop against the physical limit (DDPG, identical settings above)", "",
              f"{machines['floor']}; the floor measured with {jobs['floor']} run(s) at a "
              "time.", ""]
    measured = 1e3 / speed["ddpg"]["ours"]
    lines += [f"- measured training time per environment step: {measured:.3f} ms",
              f"- floor: update {floor['mflop_per_update']:.1f} MFLOP at "
              f"{floor['matmul_gflops']:.1f} GFLOP/s (1024 x 1024 float32 product, same run) = "
              f"{floor['update_floor_ms']:.3f} ms per update, every "
              f"{IDENTICAL['update_every']} steps; environment step "
              f"{floor['env_step_ms']:.4f} ms; actor forward {floor['actor_forward_ms']:.4f} ms;"
              f" total {floor['floor_ms_per_step']:.3f} ms per step",
              f"- **the floor is {floor['floor_ms_per_step'] / measured:.0%} of the measured time "
              f"per step: the loop takes {measured / floor['floor_ms_per_step']:.1f}x the "
              "floor's time**"]
    return "\n".join(lines)


def end_to_end_report() -> list[str]:
    from ddpg_tutorial.stats import median_estimates

    lines = [f"Held-out seeds {END_TO_END_SEEDS[0]}-{END_TO_END_SEEDS[-1]}; a run stops at "
             "its first greedy evaluation >= -200. Medians with 95% bootstrap confidence "
             "intervals; seconds are training time (evaluations left out).", "",
             "| method | reached -200 | median steps to -200 | median seconds to -200 |",
             "|---|---|---|---|"]
    steps, seconds = {}, {}
    methods = [("ours", m) for m in ours_end_to_end()] + [("sb3", a) for a in ALGORITHMS]
    for side, method in methods:
        name = (f"ours {method.replace('-batch-', ' fast, batch ')}" if "-batch-" in method
                else f"ours {method} fast" if side == "ours" else f"SB3 {method} (RL Zoo)")
        runs = load("end_to_end", side, method, END_TO_END_SEEDS)
        if runs:
            pairs = [steps_to_solve(r) for r in runs]
            steps[name], seconds[name] = [p[0] for p in pairs], [p[1] for p in pairs]
    steps_ci, seconds_ci = median_estimates(steps), median_estimates(seconds)
    for name in steps:
        reached = sum(np.isfinite(steps[name]))
        lines.append(f"| {name} | {reached}/{len(steps[name])} | {steps_ci[name].format()} "
                     f"| {seconds_ci[name].format('.1f')} |")
    fastest = lambda side: min((n for n in seconds if n.startswith(side)),  # noqa: E731
                               key=lambda n: seconds_ci[n].point)
    ours_best, sb3_best = fastest("ours"), fastest("SB3")
    lines += ["", f"Fastest of ours: {ours_best}; fastest SB3 configuration: {sb3_best}; "
              f"ratio of their median seconds to -200 (SB3 / ours): "
              f"**{seconds_ci[sb3_best].point / seconds_ci[ours_best].point:.1f}x**.", ""]
    return lines


def main() -> None:
    from ddpg_tutorial.sweep import available_cores

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=available_cores())
    parser.add_argument("--fresh", action="store_true", help="discard earlier results first")
    parser.add_argument("--report-only", action="store_true", help="only render report.md")
    parser.add_argument("--only", nargs="+", choices=["floor", "implementation", "end_to_end"],
                        default=["floor", "implementation", "end_to_end"],
                        help="run only these measurements (the report needs all three)")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.fresh:
        for path in RESULTS.glob("*.json"):
            path.unlink()
    if not args.report_only:
        machine_file = RESULTS / "machine.json"  # each measurement's machine and jobs
        saved = json.loads(machine_file.read_text()) if machine_file.exists() else {}
        here = f"{cpu_name()}, {os.cpu_count()} cores; torch {torch.__version__}"
        machine_file.write_text(json.dumps({
            "machines": {**saved.get("machines", {}), **{kind: here for kind in args.only}},
            "jobs": {**saved.get("jobs", {}), **{kind: args.jobs for kind in args.only}}}) + "\n")
        todo = [job for job in jobs() if job[0] in args.only and not result_path(job).exists()]
        with ProcessPoolExecutor(args.jobs) as pool:
            for line in pool.map(run_job, todo):
                print(line, flush=True)
    text = report()
    print("\n" + text)
    (RESULTS / "report.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
