"""The training loop of every algorithm: warm-up, acting, updates, greedy evaluations,
crash-safe saves."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ddpg_tutorial.agent import DDPGAgent
from ddpg_tutorial.algorithms import Agent, config_from_dict, make_agent
from ddpg_tutorial.base import Metrics
from ddpg_tutorial.buffer import ReplayBuffer
from ddpg_tutorial.checkpoint import agent_payload, load_agent_state, save_agent
from ddpg_tutorial.config import Config
from ddpg_tutorial.envs import check_env, make_env
from ddpg_tutorial.errors import DDPGError
from ddpg_tutorial.evaluation import eval_seeds, evaluate
from ddpg_tutorial.files import FolderLock, atomic_write, make_folder
from ddpg_tutorial.history import EpisodeRecord, EvalRecord, History, LossRecord
from ddpg_tutorial.run_folder import AGENT_FILE, CONFIG_FILE
from ddpg_tutorial.seeding import EVAL_SEED_BASE, stream_seeds
from ddpg_tutorial.source import code_digest
from ddpg_tutorial.training_state import (
    TRAINING_STATE_FORMAT,
    load_training_state,
    save_training_state,
)


class TrainingDiverged(DDPGError):
    """A loss became NaN or infinite."""


class MetricSums:
    """Per-metric sums of what the updates return, kept on the agent's device (adding waits
    for nothing), and how many updates measured each; read once, by :meth:`means`."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, metrics: Metrics) -> None:
        """Add one update's metrics (a NamedTuple of 0-dim tensors; None: not measured)."""
        for name, value in metrics._asdict().items():
            if value is not None:
                self.sums[name] = self.sums[name] + value if name in self.sums else value
                self.counts[name] = self.counts.get(name, 0) + 1

    def means(self) -> dict[str, float]:
        """Each metric's mean over the updates that measured it: one wait for the device."""
        totals = torch.stack(list(self.sums.values())).tolist() if self.sums else []
        return {name: total / self.counts[name] for name, total in zip(self.sums, totals)}

    def finite(self) -> bool:
        return not self.sums or bool(torch.isfinite(torch.stack(list(self.sums.values()))).all())


class Trainer:
    """One run of DDPG, TD3 or SAC (the class of ``config`` decides) on a Gymnasium
    environment, resumable at episode boundaries.

    With ``out_dir`` set, the run writes there: ``config.json`` when it starts; at every
    evaluation ``agent.pt`` and the CSV logs; and at the first episode end after every
    ``save_every`` steps (default: ``config.eval_every``) the full training state, which
    :meth:`resume` continues exactly, even after the process was killed. A finished run
    keeps its training state, so that :meth:`extend` can train it longer. ``tensorboard_dir``
    also writes the logs for TensorBoard.
    One process at a time trains in a folder: :meth:`run` (or :meth:`resume`, before it reads
    anything) takes the folder's :class:`~ddpg_tutorial.files.FolderLock`, and :meth:`run`
    lets it go when it returns.
    The greedy evaluations reset their environments with the seeds ``eval_seed_base``,
    ``eval_seed_base + 1``, ... (:func:`~ddpg_tutorial.evaluation.eval_seeds`; ``tune`` gives
    its trials start states of their own).
    """

    def __init__(
        self,
        env_id: str,
        config: Config,
        seed: int = 0,
        device: str = "cpu",
        out_dir: str | Path | None = None,
        progress: bool = True,
        save_every: int | None = None,
        tensorboard_dir: str | Path | None = None,
        eval_seed_base: int = EVAL_SEED_BASE,
    ) -> None:
        self.config, self.seed, self.progress = config, seed, progress
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.folder_lock = FolderLock(self.out_dir) if self.out_dir is not None else None
        self.save_every = config.eval_every if save_every is None else save_every
        if self.save_every <= 0:
            raise DDPGError(f"--save-every must be a positive number of steps, got {save_every}")
        self.tensorboard_dir = tensorboard_dir
        self.env = make_env(env_id)
        self.spec = check_env(self.env, env_id)
        self.eval_envs = [make_env(env_id) for _ in range(config.eval_episodes)]
        self.eval_seed_base = eval_seed_base
        self.eval_seeds = eval_seeds(config.eval_episodes, eval_seed_base)
        seeds = stream_seeds(seed)  # independent streams, one per use
        self.env_seed = seeds["env"]
        self.agent = make_agent(
            self.spec.obs_dim,
            self.spec.action_low,
            self.spec.action_high,
            config,
            seed=seed,
            device=device,
        )
        self.buffer = ReplayBuffer(
            config.buffer_size,
            self.spec.obs_dim,
            self.spec.act_dim,
            seed=seeds["replay"],
            device=self.agent.device,
        )
        self.warmup_rng = np.random.default_rng(seeds["warmup"])
        self.history = History()
        self.step = 0
        self.elapsed_s = 0.0  # wall time of earlier sessions of this run (resume)
        self.overhead_s = 0.0  # of which in evaluations and saves, not training
        self.replay_chunks: list[tuple[int, int]] = []  # replay rows saved so far (resume)
        self.stop_requested = False
        self.saved_step: int | None = None  # the step of the last training state saved
        self.moved_from: str | None = None  # resumed from another kind of device: its name

    # The loop -------------------------------------------------------------------------------

    def run(self, stop_when: Callable[[History], bool] | None = None) -> History:
        """Train until ``config.total_steps``, or stop at the end of an episode once
        :meth:`request_stop` was called or ``stop_when(history)`` returned True after
        an evaluation.

        Returns the history; ``self.step < config.total_steps`` tells a stopped run. Raises a
        :class:`.DDPGError` naming the folder if another process trains in it.
        """
        cfg, agent, env, buffer = self.config, self.agent, self.env, self.buffer
        self.stop_requested = False
        with self._holding_files():  # TensorBoard's writer, and the run folder locked
            self._start()
            start = time.perf_counter() - self.elapsed_s
            bar = tqdm(
                total=cfg.total_steps,
                initial=self.step,
                disable=not self.progress,
                unit="step",
                dynamic_ncols=True,
            )
            obs, _ = env.reset(seed=self.env_seed if self.step == 0 else None)
            agent.start_episode()
            episode_return, episode_length, metrics = 0.0, 0, MetricSums()
            while self.step < cfg.total_steps:
                if self.step < cfg.warmup_steps:
                    action = self.warmup_rng.uniform(self.spec.action_low, self.spec.action_high)
                else:
                    action = agent.act(obs, explore=True)
                next_obs, reward, terminated, truncated, _ = env.step(action)
                buffer.add(obs, action, float(reward), next_obs, terminated)
                obs = next_obs
                episode_return += float(reward)
                episode_length += 1
                self.step += 1
                bar.update()

                if (
                    self.step > cfg.warmup_steps
                    and self.step % cfg.update_every == 0
                    and len(buffer) >= cfg.batch_size
                ):
                    metrics.add(agent.update(buffer.sample(cfg.batch_size)))

                if terminated or truncated:
                    self._end_episode(episode_return, episode_length, metrics)
                    bar.set_postfix(ret=f"{episode_return:.0f}", refresh=False)
                    episode_return, episode_length, metrics = 0.0, 0, MetricSums()
                    obs = None

                if self.step % cfg.eval_every == 0 or self.step == cfg.total_steps:
                    self._check_finite(metrics)
                    evaluating = time.perf_counter()
                    self._evaluate(evaluating - start)
                    self.overhead_s += time.perf_counter() - evaluating
                    if stop_when is not None and stop_when(self.history):
                        self.request_stop()
                    bar.set_postfix(
                        eval=f"{self.history.evaluations[-1].mean_return:.0f}", refresh=False
                    )

                if obs is None and self.step < cfg.total_steps:
                    self.elapsed_s = time.perf_counter() - start
                    if self.stop_requested or self.step >= self._next_save:
                        saving = time.perf_counter()
                        self._save()
                        self.overhead_s += time.perf_counter() - saving
                    if self.stop_requested:  # stop between episodes, so a resume is exact
                        break
                    obs, _ = env.reset()
                    agent.start_episode()
            bar.close()
            self.elapsed_s = time.perf_counter() - start
            self._finish(at_episode_end=obs is None)
        return self.history

    def request_stop(self) -> None:
        """Ask :meth:`run` to stop at the end of the current episode (safe in a signal handler)."""
        self.stop_requested = True

    # What the loop records ------------------------------------------------------------------

    def _end_episode(self, episode_return: float, length: int, metrics: MetricSums) -> None:
        self.history.episodes.append(EpisodeRecord(self.step, episode_return, length))
        self._log_scalars({"train/episode_return": episode_return, "train/episode_length": length})
        if metrics.counts:
            self._check_finite(metrics)
            record = LossRecord(self.step, metrics.means())
            self.history.losses.append(record)
            self._log_scalars({f"train/{name}": mean for name, mean in record.means.items()})

    def _check_finite(self, metrics: MetricSums) -> None:
        if metrics.finite():
            return
        kept = (
            f"the last good checkpoint is {self.out_dir / AGENT_FILE}"
            if self.out_dir is not None and (self.out_dir / AGENT_FILE).exists()
            else "no checkpoint was written yet"
        )
        sums = ", ".join(f"{name} {float(total)}" for name, total in metrics.sums.items())
        raise TrainingDiverged(
            f"training diverged before step {self.step}: summed {sums}; {kept}; "
            "try lower learning rates"
        )

    def _evaluate(self, wall_time_s: float) -> None:
        result = evaluate(self.agent.act, self.eval_envs, self.eval_seeds, self.config.gamma)
        returns = result.returns
        q_estimate = float(self.agent.estimate_value(result.first_obs).mean())
        record = EvalRecord(
            self.step,
            wall_time_s,
            float(returns.mean()),
            float(returns.std()),
            q_estimate,
            float(result.discounted_returns.mean()),
            wall_time_s - self.overhead_s,
        )
        self.history.evaluations.append(record)
        self._log_scalars(
            {
                "eval/mean_return": record.mean_return,
                "eval/std_return": record.std_return,
                "eval/q_estimate": record.q_estimate,
                "eval/discounted_return": record.discounted_return,
            }
        )
        if self.out_dir is not None:
            self.history.write_csv(self.out_dir)
            save_agent(self.out_dir / AGENT_FILE, self.agent, self.spec)

    def _log_scalars(self, scalars: dict[str, float]) -> None:
        if self._tensorboard is not None:
            for name, value in scalars.items():
                self._tensorboard.add_scalar(name, value, self.step)

    # Files: the lock, start, periodic saves, finish -----------------------------------------

    @contextlib.contextmanager
    def _holding_files(self) -> Iterator[None]:
        """Hold TensorBoard's writer and the run folder's lock for the ``with`` block.

        The writer opens first, so that a folder it cannot write to stops the run before the
        run folder is made; the lock is taken unless :meth:`resume` took it already."""
        self._tensorboard = None
        if self.tensorboard_dir is not None:
            # Events after the saved step came from a run that died later: hide them.
            self._tensorboard = open_tensorboard(
                self.tensorboard_dir, purge_step=self.step + 1 if self.step else None
            )
        try:
            if self.folder_lock is not None and not self.folder_lock.held:
                make_folder(self.folder_lock.folder)
                self.folder_lock.acquire()
            yield
        finally:
            if self.folder_lock is not None:
                self.folder_lock.release()
            if self._tensorboard is not None:
                self._tensorboard.close()

    def _start(self) -> None:
        self._next_save = (self.step // self.save_every + 1) * self.save_every
        if self.out_dir is not None and self.step == 0:
            write_config(self.out_dir, self.spec.env_id, self.config, self.seed)
            self._save()  # a state to resume from, however early the run dies

    def _save(self) -> None:
        if self.out_dir is None:
            return
        state = self.state_dict()
        save_training_state(self.out_dir, state, self.buffer)
        self.saved_step = self.step
        self.replay_chunks = state["replay_chunks"]
        self._next_save = (self.step // self.save_every + 1) * self.save_every

    def _finish(self, at_episode_end: bool) -> None:
        if self.out_dir is None:
            return
        self.history.write_csv(self.out_dir)
        # A finished run keeps a training state, so that ``extend`` can train it longer: its
        # last step's where the run ended between episodes, else the last one saved (a resume
        # trains the rest of that episode again, exactly as before).
        if self.step >= self.config.total_steps and at_episode_end:
            self._save()

    def extend(self, total_steps: int) -> None:
        """Train to ``total_steps`` in all instead of ``config.total_steps`` (more than the
        steps done). The run goes on exactly as if it had been started with that many steps,
        since nothing before a run's end depends on its length; ``config.json`` records the
        new length."""
        if total_steps <= self.step:
            raise DDPGError(
                f"--steps must be more than the {self.step} steps this run has done, "
                f"got {total_steps}"
            )
        self.config = self.config.replace(total_steps=total_steps)
        self.agent.config = self.config
        if self.out_dir is not None:
            saved = json.loads((self.out_dir / CONFIG_FILE).read_text())
            text = json.dumps({**saved, "total_steps": total_steps}, indent=2) + "\n"
            atomic_write(self.out_dir / CONFIG_FILE, lambda f: f.write(text.encode()))

    # Resume ---------------------------------------------------------------------------------

    def state_dict(self) -> dict:
        """Everything needed to continue this run exactly but the replay buffer's rows (saved
        apart, see :mod:`.training_state`): the agent's whole state (networks, optimisers,
        noise, generator), the other random generators, counters and history."""
        return {
            "format": TRAINING_STATE_FORMAT,
            "agent": agent_payload(self.agent, self.spec),
            "device": str(self.agent.device),
            "seed": self.seed,
            "step": self.step,
            "elapsed_s": self.elapsed_s,
            "overhead_s": self.overhead_s,
            "save_every": self.save_every,
            "eval_seed_base": self.eval_seed_base,
            "tensorboard_dir": None if self.tensorboard_dir is None else str(self.tensorboard_dir),
            "buffer": self.buffer.state_dict(with_rows=False),
            "replay_chunks": list(self.replay_chunks),
            "warmup_rng": self.warmup_rng.bit_generator.state,
            "env_rng": self.env.unwrapped.np_random.bit_generator.state,
            "history": self.history.state_dict(),
        }

    @classmethod
    def resume(
        cls,
        out_dir: str | Path,
        device: str = "cpu",
        progress: bool = True,
        total_steps: int | None = None,
    ) -> Trainer:
        """A trainer that continues the run whose training state is saved in ``out_dir``,
        to ``total_steps`` if given (:meth:`extend`), else to the end it was started with.

        It holds the folder's lock from before it reads the state (which deletes what a killed
        process left half-written) until its :meth:`run` returns; a :class:`.DDPGError` naming
        the folder if another process trains in it. A run trained on another kind of device
        (CPU, CUDA) goes on, but not exactly: torch generator states do not move between the
        two, so the agent's and the replay buffer's generators start new streams, from the
        run's seed and step; ``moved_from`` then names the device it trained on.
        """
        lock = FolderLock(out_dir)
        lock.acquire()
        try:
            trainer = cls._from_state(load_training_state(out_dir), out_dir, device, progress)
            if total_steps is not None:
                trainer.extend(total_steps)
        except BaseException:
            lock.release()
            raise
        trainer.folder_lock = lock
        return trainer

    @classmethod
    def _from_state(cls, state: dict, out_dir: str | Path, device: str, progress: bool) -> Trainer:
        saved = state["agent"]
        config = config_from_dict(saved.get("algorithm", "ddpg"), saved["config"])
        trainer = cls(
            saved["env_id"],
            config,
            state["seed"],
            device,
            out_dir,
            progress,
            state.get("save_every"),
            state.get("tensorboard_dir"),
            state.get("eval_seed_base", EVAL_SEED_BASE),
        )
        if not load_agent_state(trainer.agent, saved["state"]):
            # States before 0.3 do not name the device; the other kind is the one it was.
            trainer.moved_from = state.get("device") or (
                "cuda" if trainer.agent.device.type == "cpu" else "cpu"
            )
            state["buffer"].pop("generator", None)
        if "noise" in state:  # version 0.1.0 (DDPG alone) kept the noise out of the agent's state
            assert isinstance(trainer.agent, DDPGAgent)
            trainer.agent.noise.load_state_dict(state["noise"])
        trainer.step, trainer.elapsed_s = state["step"], state["elapsed_s"]
        trainer.saved_step = trainer.step
        trainer.overhead_s = state.get("overhead_s", 0.0)  # states before 0.3 lack it
        trainer.buffer.load_state_dict(state["buffer"])
        if trainer.moved_from is not None:
            trainer._reseed_generators()
        trainer.replay_chunks = [tuple(c) for c in state["replay_chunks"]]
        trainer.warmup_rng.bit_generator.state = state["warmup_rng"]
        trainer.env.reset(seed=trainer.env_seed)  # creates np_random; then restore its state
        trainer.env.unwrapped.np_random.bit_generator.state = state["env_rng"]
        trainer.history = History.from_state_dict(state["history"])
        return trainer

    def _reseed_generators(self) -> None:
        """Seed the agent's and the replay buffer's torch generators from the run's seed and step.

        For a run resumed on another kind of device, where its generator states do not fit."""
        agent_seed, replay_seed = np.random.SeedSequence([self.seed, self.step]).generate_state(
            2, np.uint64
        )
        self.agent.generator.manual_seed(int(agent_seed))
        self.buffer.generator.manual_seed(int(replay_seed))


def open_tensorboard(log_dir: str | Path, purge_step: int | None):
    """A TensorBoard ``SummaryWriter`` that hides events already in ``log_dir`` at
    ``purge_step`` and later, so that a resumed run's curves do not overlap."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise DDPGError(
            "--tensorboard needs the tensorboard package: "
            "in a clone of the repository, pip install -e '.[tensorboard]'"
        ) from None
    try:
        return SummaryWriter(str(log_dir), purge_step=purge_step)
    except OSError as err:
        raise DDPGError(
            f"cannot write TensorBoard logs to '{log_dir}' ({err.strerror}); "
            "choose a writable --tensorboard folder"
        ) from None


def train(
    env_id: str,
    config: Config,
    seed: int = 0,
    device: str = "cpu",
    out_dir: str | Path | None = None,
    progress: bool = True,
) -> tuple[Agent, History]:
    """Train on ``env_id`` for ``config.total_steps`` steps with the algorithm of ``config``
    (DDPG, TD3 or SAC); return the agent and the history.

    With ``out_dir``, also write ``config.json``, the CSV logs and ``agent.pt`` there.
    """
    trainer = Trainer(env_id, config, seed, device, out_dir, progress)
    history = trainer.run()
    return trainer.agent, history


def write_config(out_dir: str | Path, env_id: str, config: Config, seed: int) -> None:
    """``config.json``: the environment, the algorithm, the seed, every hyperparameter, and the
    digest of the code that decides the run's numbers (:func:`.source.code_digest`)."""
    text = (
        json.dumps(
            {
                "env_id": env_id,
                "algorithm": config.algorithm,
                "seed": seed,
                **config.to_dict(),
                "code": code_digest(),
            },
            indent=2,
        )
        + "\n"
    )
    atomic_write(Path(out_dir) / CONFIG_FILE, lambda f: f.write(text.encode()))
