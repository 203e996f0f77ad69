"""Time-to-solve Pendulum-v1: ddpg_tutorial (fast, paper) against Stable-Baselines3 DDPG.

Run from the repository root:  ./dev bench   (or: python benchmarks/bench_pendulum.py)

All methods run interleaved seed by seed in this one process, on the same number of
PyTorch threads, and are evaluated by the same code: the greedy policy on 10 episodes
with the fixed seeds of ddpg_tutorial.evaluation, every 1,000 environment steps. Wall
time counts everything from the start of training (acting, updates, evaluations).

It then measures the update step against the hardware: floating-point operations per
update (from the layer sizes and the batch) divided by the measured time per update, as
a fraction of this CPU's matmul throughput measured in the same run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from ddpg_tutorial import PRESETS, DDPGConfig, ReplayBuffer, Trainer
from ddpg_tutorial.agent import DDPGAgent
from ddpg_tutorial.envs import make_env
from ddpg_tutorial.evaluation import eval_seeds, evaluate

SOLVED = -200.0
EVAL_EVERY = 1_000
EVAL_EPISODES = 10
ENV_ID = "Pendulum-v1"
OBS_DIM, ACT_DIM = 3, 1

# The RL Zoo's hyperparameters for DDPG on Pendulum-v1 (SB3 defaults: batch 256, tau 0.005).
SB3_ZOO = dict(gamma=0.98, buffer_size=200_000, learning_starts=10_000, train_freq=1,
               gradient_steps=1, learning_rate=1e-3, net_arch=[400, 300], noise_std=0.1,
               n_timesteps=20_000, batch_size=256, tau=0.005)


def run_ours(preset: str, seed: int, steps: int, stop_at_solve: bool) -> dict:
    config = PRESETS[preset].replace(total_steps=steps, eval_every=EVAL_EVERY,
                                     eval_episodes=EVAL_EPISODES)
    trainer = Trainer(ENV_ID, config, seed=seed, progress=False)
    stop = (lambda h: h.evaluations[-1].mean_return >= SOLVED) if stop_at_solve else None
    start = time.perf_counter()
    history = trainer.run(stop_when=stop)
    wall = time.perf_counter() - start
    # One update on every step after the warm-up whose number update_every divides.
    updates = trainer.step // config.update_every - config.warmup_steps // config.update_every
    return summarise(history.evaluations, trainer.step, updates, wall)


def run_sb3(seed: int, steps: int) -> dict:
    from stable_baselines3 import DDPG
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.noise import NormalActionNoise

    z = SB3_ZOO
    eval_envs = [make_env(ENV_ID) for _ in range(EVAL_EPISODES)]
    seeds = eval_seeds(EVAL_EPISODES)
    evaluations: list[tuple[int, float, float, float]] = []

    class Evaluate(BaseCallback):
        def _on_training_start(self) -> None:
            self.start = time.perf_counter()

        def _on_step(self) -> bool:
            if self.num_timesteps % EVAL_EVERY == 0:
                policy = lambda obs: self.model.predict(obs, deterministic=True)[0]  # noqa: E731
                returns = evaluate(policy, eval_envs, seeds).returns
                evaluations.append((self.num_timesteps, time.perf_counter() - self.start,
                                    float(returns.mean()), float(returns.std())))
            return True

    model = DDPG("MlpPolicy", make_env(ENV_ID), gamma=z["gamma"], buffer_size=z["buffer_size"],
                 learning_starts=z["learning_starts"], train_freq=z["train_freq"],
                 gradient_steps=z["gradient_steps"], learning_rate=z["learning_rate"],
                 batch_size=z["batch_size"], tau=z["tau"],
                 action_noise=NormalActionNoise(np.zeros(ACT_DIM), z["noise_std"] * np.ones(ACT_DIM)),
                 policy_kwargs={"net_arch": z["net_arch"]}, seed=seed, device="cpu", verbose=0)
    start = time.perf_counter()
    model.learn(steps, callback=Evaluate())
    wall = time.perf_counter() - start
    return summarise(evaluations, steps, max(steps - z["learning_starts"], 0), wall)


def summarise(evaluations: list, steps: int, updates: int, wall: float) -> dict:
    solved = next((e for e in evaluations if e[2] >= SOLVED), None)
    return {
        "steps_to_solve": solved[0] if solved else None,
        "wall_to_solve_s": solved[1] if solved else None,
        "final_return": evaluations[-1][2],
        "env_steps": steps,
        "env_steps_per_s": steps / wall,
        "updates_per_s": updates / wall,
        "evaluations": evaluations,
    }


# The update step against the hardware ---------------------------------------------------------

def linear_layers(config: DDPGConfig) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(in, out) of every linear layer of the actor and of the critic."""
    a = [OBS_DIM, *config.actor_hidden, ACT_DIM]
    actor = list(zip(a[:-1], a[1:]))
    h = config.critic_hidden
    c = [h[0] + ACT_DIM, *h[1:], 1]
    critic = [(OBS_DIM, h[0]), *zip(c[:-1], c[1:])]
    return actor, critic


def update_flops(config: DDPGConfig) -> float:
    """Multiply-add FLOPs (2 per MAC) of the matrix products in one DDPG update.

    A linear layer costs 2*B*in*out forward, the same again for its weight gradient and
    again for its input gradient where one is needed. The critic's second layer holds two
    blocks, one for the first layer's features and one for the action, and autograd
    computes the input gradient of a block only when something before it needs one.
    """
    b = config.batch_size
    actor, critic = linear_layers(config)
    fwd = lambda layers: sum(2 * b * i * o for i, o in layers)  # noqa: E731
    h0, h1 = config.critic_hidden[:2]
    features_grad = 2 * b * h0 * h1  # the second layer's input gradient w.r.t. the features
    action_grad = 2 * b * ACT_DIM * h1  # ... and w.r.t. the action
    # Critic step: target actor + target critic forward, critic forward, weight gradients of
    # every critic layer, input gradients of the layers after the second, and of the second
    # layer's features (on the way to the first layer's weights; the action is data here).
    critic_step = fwd(actor) + 2 * fwd(critic) + fwd(critic) + fwd(critic[2:]) + features_grad
    # Actor step (gradients for the actor's weights only): actor and critic forward, input
    # gradients of the critic's layers after the second and of its action block (not of the
    # features, which do not depend on the actor), actor weight gradients, actor input
    # gradients but the first layer's.
    actor_step = (fwd(actor) + fwd(critic) + fwd(critic[2:]) + action_grad
                  + fwd(actor) + fwd(actor[1:]))
    if config.batch_norm:
        # The input's normalisation has a scale and shift to learn, so the first layers' input
        # gradients are needed too: the critic's in the critic step, the actor's in its own.
        critic_step += fwd(critic[:1])
        actor_step += fwd(actor[:1])
    return float(critic_step + actor_step)


def time_call(fn, repeats: int) -> float:
    for _ in range(max(3, repeats // 10)):
        fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def matmul_throughput(n: int = 1024) -> float:
    """FLOP/s of an n x n by n x n float32 matrix product, the CPU's practical peak."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2 * n**3 / time_call(lambda: a @ b, 30)


def shape_matched_throughput(config: DDPGConfig) -> float:
    """FLOP/s of bare matrix products of the forward shapes of one update (a roofline for them)."""
    b = config.batch_size
    actor, critic = linear_layers(config)
    mats = [(torch.randn(b, i), torch.randn(i, o)) for i, o in actor + critic]
    flops = sum(2 * b * i * o for i, o in actor + critic)
    return flops / time_call(lambda: [x @ w for x, w in mats], 300)


def measure_update(preset: str) -> dict:
    config = PRESETS[preset]
    agent = DDPGAgent(OBS_DIM, np.array([-2.0]), np.array([2.0]), config, seed=0)
    buffer = ReplayBuffer(10_000, OBS_DIM, ACT_DIM, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(10_000):
        buffer.add(rng.normal(size=OBS_DIM), rng.uniform(-2, 2, ACT_DIM), -rng.random(),
                   rng.normal(size=OBS_DIM), False)
    batch = buffer.sample(config.batch_size)
    t_update = time_call(lambda: agent.update(batch), 300)
    t_sampled = time_call(lambda: agent.update(buffer.sample(config.batch_size)), 300)
    flops = update_flops(config)
    peak, shaped = matmul_throughput(), shape_matched_throughput(config)
    return {"preset": preset, "hidden": list(config.actor_hidden), "batch": config.batch_size,
            "mflop_per_update": flops / 1e6, "ms_per_update": t_update * 1e3,
            "ms_per_update_with_sampling": t_sampled * 1e3,
            "achieved_gflops": flops / t_update / 1e9, "peak_gflops": peak / 1e9,
            "fraction_of_peak": flops / t_update / peak,
            "shape_matched_gflops": shaped / 1e9,
            "fraction_of_shape_matched": flops / t_update / shaped}


# Reporting --------------------------------------------------------------------------------------

def cpu_name() -> str:
    """The processor's model name from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def fmt(x, spec: str = ".1f") -> str:
    return "—" if x is None else format(x, spec)


def compare(args: argparse.Namespace) -> dict[str, dict[int, dict]]:
    """Every method on every seed, interleaved, at the current thread count."""
    results: dict[str, dict[int, dict]] = {m: {} for m in args.methods}
    for seed in args.seeds:  # interleaved: every method once per seed
        for method in args.methods:
            if method == "sb3":
                r = run_sb3(seed, args.sb3_steps)
            elif method == "fast":
                r = run_ours("fast", seed, args.fast_steps, stop_at_solve=False)
            else:
                r = run_ours("paper", seed, args.paper_steps, stop_at_solve=not args.paper_full)
            results[method][seed] = r
            print(f"{torch.get_num_threads()} threads, seed {seed} {method:5s}: solved at "
                  f"{fmt(r['steps_to_solve'], 'd')} steps, {fmt(r['wall_to_solve_s'])} s; "
                  f"final {r['final_return']:.1f}", flush=True)
    return results


def comparison_report(results: dict[str, dict]) -> list[str]:
    """The table of runs at one thread count, then solved seeds, medians and ratios."""
    lines = ["| method | seed | steps to -200 | wall s to -200 | final return | env steps/s | "
             "updates/s |", "|---|---|---|---|---|---|---|"]
    for method, by_seed in results.items():
        for seed, r in by_seed.items():
            lines.append(f"| {method} | {seed} | {fmt(r['steps_to_solve'], 'd')} | "
                         f"{fmt(r['wall_to_solve_s'])} | {r['final_return']:.1f} | "
                         f"{r['env_steps_per_s']:.0f} | {r['updates_per_s']:.0f} |")
    lines.append("")
    medians = {}
    for method, by_seed in results.items():
        walls = [r["wall_to_solve_s"] for r in by_seed.values()]
        solved = [w for w in walls if w is not None]
        medians[method] = statistics.median(walls) if len(solved) == len(walls) else None
        finals = [r["final_return"] for r in by_seed.values()]
        lines.append(f"- {method}: solved {len(solved)}/{len(walls)} seeds; median wall to solve "
                     f"{fmt(medians[method])} s; mean final return {np.mean(finals):.1f}")
    for ours in ("fast", "paper"):
        if medians.get("sb3") and medians.get(ours):
            lines.append(f"- **ratio SB3 / {ours}** (median wall to solve): "
                         f"**{medians['sb3'] / medians[ours]:.2f}x**")
    return lines


def report(data: dict) -> str:
    """The Markdown report of a run, from what results.json holds."""
    lines = [f"Machine: {data['machine']}"]
    for threads, results in data["results"].items():
        plural = "s" if int(threads) > 1 else ""
        lines += ["", f"### {threads} PyTorch thread{plural}", "", *comparison_report(results)]
    lines += ["", "### The update step against the hardware", "",
              "| preset | threads | network, batch | MFLOP per update | ms per update | GFLOP/s | "
              "matmul peak GFLOP/s | **fraction of peak** | fraction of shape-matched |",
              "|---|---|---|---|---|---|---|---|---|"]
    for h in data["hardware"]:
        network = "-".join(str(n) for n in h["hidden"])
        lines.append(f"| {h['preset']} | {h['threads']} | {network}, {h['batch']} | "
                     f"{h['mflop_per_update']:.1f} | {h['ms_per_update']:.3f} | "
                     f"{h['achieved_gflops']:.1f} | {h['peak_gflops']:.1f} | "
                     f"**{h['fraction_of_peak']:.1%}** | {h['fraction_of_shape_matched']:.1%} |")
    lines += ["", "ms per update on a fixed batch; with a fresh batch sampled each time: "
              + ", ".join(f"{h['preset']} {h['ms_per_update_with_sampling']:.3f} ms "
                          f"({h['threads']} thread{'s' if h['threads'] > 1 else ''})"
                          for h in data["hardware"])
              + ". Shape-matched: bare matrix products of the update's own shapes, "
              + ", ".join(f"{h['shape_matched_gflops']:.0f}" for h in data["hardware"])
              + " GFLOP/s in the same order."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--threads", type=int, nargs="+",
                        default=sorted({1, torch.get_num_threads()}),
                        help="PyTorch CPU threads; the whole comparison runs once per value, "
                             "every method on the same number (default: one, and all cores)")
    parser.add_argument("--fast-steps", type=int, default=20_000)
    parser.add_argument("--paper-steps", type=int, default=60_000)
    parser.add_argument("--sb3-steps", type=int, default=SB3_ZOO["n_timesteps"])
    parser.add_argument("--paper-full", action="store_true",
                        help="run paper to --paper-steps instead of stopping once solved")
    parser.add_argument("--methods", nargs="+", default=["fast", "paper", "sb3"],
                        choices=["fast", "paper", "sb3"])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: rewrite report.md from the results.json in --out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results_file = args.out / "results.json"

    if args.report_only:
        data = json.loads(results_file.read_text())
    else:
        data = {"machine": f"{cpu_name()}, {os.cpu_count()} cores; torch {torch.__version__}",
                "results": {}, "hardware": []}
        for threads in args.threads:
            torch.set_num_threads(threads)
            data["results"][threads] = compare(args)
        for threads in args.threads:
            torch.set_num_threads(threads)
            data["hardware"] += [{"threads": threads, **measure_update(p)}
                                 for p in ("fast", "paper")]
        results_file.write_text(json.dumps(data, indent=1))
        with open(args.out / "evaluations.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["threads", "method", "seed", "env_steps", "wall_time_s",
                             "mean_return", "std_return"])
            for threads, by_method in data["results"].items():
                for method, by_seed in by_method.items():
                    for seed, r in by_seed.items():
                        writer.writerows([threads, method, seed, *e] for e in r["evaluations"])
    text = report(data)
    print("\n" + text)
    (args.out / "report.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
