"""The training loop: warm-up, acting with noise, updates, greedy evaluations."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ddpg_tutorial.agent import DDPGAgent
from ddpg_tutorial.buffer import ReplayBuffer
from ddpg_tutorial.checkpoint import (
    TRAINING_STATE_FORMAT, agent_payload, atomic_save, safe_load, save_agent,
)
from ddpg_tutorial.config import DDPGConfig
from ddpg_tutorial.envs import check_env, make_env
from ddpg_tutorial.errors import DDPGError
from ddpg_tutorial.evaluation import eval_seeds, evaluate
from ddpg_tutorial.history import EpisodeRecord, EvalRecord, History, LossRecord

TRAINING_STATE_FILE = "training_state.pt"
AGENT_FILE = "agent.pt"


class TrainingDiverged(DDPGError):
    """A loss became NaN or infinite."""


class Trainer:
    """One DDPG run on a Gymnasium environment, resumable at episode boundaries.

    With ``out_dir`` set, each evaluation rewrites ``evaluations.csv``,
    ``episodes.csv`` and the checkpoint ``agent.pt`` there.
    """

    def __init__(self, env_id: str, config: DDPGConfig, seed: int = 0, device: str = "cpu",
                 out_dir: str | Path | None = None, progress: bool = True) -> None:
        self.config, self.seed, self.progress = config, seed, progress
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.env = make_env(env_id)
        self.spec = check_env(self.env, env_id)
        self.eval_envs = [make_env(env_id) for _ in range(config.eval_episodes)]
        self.eval_seeds = eval_seeds(config.eval_episodes)
        self.agent = DDPGAgent(self.spec.obs_dim, self.spec.action_low, self.spec.action_high,
                               config, seed=seed, device=device)
        buffer_seed, warmup_seed = np.random.SeedSequence(seed).generate_state(2)
        self.buffer = ReplayBuffer(config.buffer_size, self.spec.obs_dim, self.spec.act_dim,
                                   seed=int(buffer_seed))
        self.warmup_rng = np.random.default_rng(int(warmup_seed))
        self.history = History()
        self.step = 0
        self.elapsed_s = 0.0  # wall time of earlier sessions of this run (resume)
        self.stop_requested = False

    # The loop -------------------------------------------------------------------------------

    def run(self, stop_when: Callable[[History], bool] | None = None) -> History:
        """Train until ``config.total_steps``, or stop at the end of an episode once
        :meth:`request_stop` was called or ``stop_when(history)`` returned True after
        an evaluation.

        Returns the history; ``self.step < config.total_steps`` tells a stopped run.
        """
        cfg, agent, env, buffer = self.config, self.agent, self.env, self.buffer
        start = time.perf_counter() - self.elapsed_s
        bar = tqdm(total=cfg.total_steps, initial=self.step, disable=not self.progress,
                   unit="step", dynamic_ncols=True)
        obs, _ = env.reset(seed=self.seed if self.step == 0 else None)
        agent.noise.reset()
        episode_return, episode_length, losses = 0.0, 0, []
        while self.step < cfg.total_steps:
            if self.step < cfg.warmup_steps:
                action = self.warmup_rng.uniform(self.spec.action_low, self.spec.action_high)
            else:
                action = agent.act(obs, explore=True)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            buffer.add(obs, action, reward, next_obs, terminated)
            obs = next_obs
            episode_return += float(reward)
            episode_length += 1
            self.step += 1
            bar.update()

            if (self.step > cfg.warmup_steps and self.step % cfg.update_every == 0
                    and len(buffer) >= cfg.batch_size):
                metrics = agent.update(buffer.sample(cfg.batch_size, agent.device))
                if not (math.isfinite(metrics.critic_loss) and math.isfinite(metrics.actor_loss)):
                    self._diverged(metrics)
                losses.append((metrics.critic_loss, metrics.actor_loss, metrics.mean_q))

            if terminated or truncated:
                self.history.episodes.append(
                    EpisodeRecord(self.step, episode_return, episode_length))
                if losses:
                    # Plain floats: safe_load refuses NumPy scalars in a training state.
                    means = (float(m) for m in np.mean(losses, axis=0))
                    self.history.losses.append(LossRecord(self.step, *means))
                bar.set_postfix(ret=f"{episode_return:.0f}", refresh=False)
                episode_return, episode_length, losses = 0.0, 0, []
                obs = None

            if self.step % cfg.eval_every == 0 or self.step == cfg.total_steps:
                self._evaluate(time.perf_counter() - start)
                if stop_when is not None and stop_when(self.history):
                    self.request_stop()
                bar.set_postfix(eval=f"{self.history.evaluations[-1].mean_return:.0f}",
                                refresh=False)

            if obs is None and self.step < cfg.total_steps:
                if self.stop_requested:  # stop between episodes, so a resume is exact
                    break
                obs, _ = env.reset()
                agent.noise.reset()
        bar.close()
        self.elapsed_s = time.perf_counter() - start
        return self.history

    def request_stop(self) -> None:
        """Ask :meth:`run` to stop at the end of the current episode (safe from a signal handler)."""
        self.stop_requested = True

    def _evaluate(self, wall_time_s: float) -> None:
        returns = evaluate(self.agent.act, self.eval_envs, self.eval_seeds)
        self.history.evaluations.append(
            EvalRecord(self.step, wall_time_s, float(returns.mean()), float(returns.std())))
        if self.out_dir is not None:
            self.history.write_csv(self.out_dir)
            save_agent(self.out_dir / AGENT_FILE, self.agent, self.spec)

    def _diverged(self, metrics) -> None:
        kept = (f"the last good checkpoint is {self.out_dir / AGENT_FILE}"
                if self.out_dir is not None and (self.out_dir / AGENT_FILE).exists()
                else "no checkpoint was written yet")
        raise TrainingDiverged(
            f"training diverged at step {self.step}: critic loss {metrics.critic_loss}, "
            f"actor loss {metrics.actor_loss}; {kept}; try lower learning rates"
        )

    # Resume ---------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Everything needed to continue this run exactly: networks, optimisers, replay
        buffer, noise, every random generator, counters and history."""
        return {
            "format": TRAINING_STATE_FORMAT,
            "agent": agent_payload(self.agent, self.spec),
            "seed": self.seed,
            "step": self.step,
            "elapsed_s": self.elapsed_s,
            "buffer": self.buffer.state_dict(),
            "noise": self.agent.noise.state_dict(),
            "warmup_rng": self.warmup_rng.bit_generator.state,
            "env_rng": self.env.unwrapped.np_random.bit_generator.state,
            "history": self.history.state_dict(),
        }

    def save_state(self, path: str | Path) -> None:
        """Write :meth:`state_dict` to ``path`` atomically, for :meth:`resume`."""
        atomic_save(self.state_dict(), path)

    @classmethod
    def resume(cls, path: str | Path, device: str = "cpu", out_dir: str | Path | None = None,
               progress: bool = True) -> Trainer:
        """A trainer that continues the run saved at ``path`` by :meth:`save_state`."""
        state = safe_load(path, TRAINING_STATE_FORMAT)
        saved = state["agent"]
        trainer = cls(saved["env_id"], DDPGConfig.from_dict(saved["config"]), state["seed"],
                      device, out_dir, progress)
        trainer.agent.load_state_dict(saved["state"])
        trainer.step, trainer.elapsed_s = state["step"], state["elapsed_s"]
        trainer.buffer.load_state_dict(state["buffer"])
        trainer.agent.noise.load_state_dict(state["noise"])
        trainer.warmup_rng.bit_generator.state = state["warmup_rng"]
        trainer.env.reset(seed=state["seed"])  # creates np_random, then overwrite its state
        trainer.env.unwrapped.np_random.bit_generator.state = state["env_rng"]
        trainer.history = History.from_state_dict(state["history"])
        return trainer


def train(env_id: str, config: DDPGConfig, seed: int = 0, device: str = "cpu",
          out_dir: str | Path | None = None, progress: bool = True) -> tuple[DDPGAgent, History]:
    """Train DDPG on ``env_id`` for ``config.total_steps`` steps; return the agent and history.

    With ``out_dir``, also write ``config.json``, the CSV logs and ``agent.pt`` there.
    """
    trainer = Trainer(env_id, config, seed, device, out_dir, progress)
    if out_dir is not None:
        write_config(out_dir, env_id, config, seed)
    history = trainer.run()
    return trainer.agent, history


def write_config(out_dir: str | Path, env_id: str, config: DDPGConfig, seed: int) -> None:
    """``config.json``: the environment, the seed and every hyperparameter of the run."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.json").write_text(
            json.dumps({"env_id": env_id, "seed": seed, **config.to_dict()}, indent=2) + "\n")
    except OSError as err:
        raise DDPGError(f"cannot write to '{out_dir}' ({err.strerror}); "
                        "choose a writable output directory with --out") from None
