"""The training loop: determinism, exact resume, what the buffer stores, divergence,
the files a run writes, and one end-to-end run on Pendulum-v1."""

import csv
import json
import math
import re
import shutil
import time

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import NAN_AFTER, stop_after, tiny_config

from ddpg_tutorial import PRESETS, DDPGError, History, Trainer, load_agent, train
from ddpg_tutorial.history import EpisodeRecord, EvalRecord
from ddpg_tutorial.source import code_digest
from ddpg_tutorial.training import TrainingDiverged


def outcome(history: History) -> tuple:
    """Everything a run records except wall-clock times."""
    evaluations = [(e.env_steps, e.mean_return, e.std_return) for e in history.evaluations]
    return history.episodes, evaluations, history.losses


def run(seed: int, env_id: str = "Pendulum-v1", **changes) -> History:
    return Trainer(env_id, tiny_config(**changes), seed=seed, progress=False).run()


def test_same_seed_gives_identical_runs_and_another_seed_does_not():
    first, second, other = run(seed=0), run(seed=0), run(seed=1)
    assert len(first.episodes) == 3 and len(first.evaluations) == 3  # 600 steps
    assert [e.env_steps for e in first.evaluations] == [200, 400, 600]
    assert outcome(first) == outcome(second)
    episodes, evaluations, _ = outcome(other)
    assert [e.episode_return for e in episodes] != [e.episode_return for e in first.episodes]
    assert evaluations != outcome(first)[1]


@pytest.mark.parametrize("update_every", [1, 3])
def test_update_every_sets_how_many_updates_follow_the_warm_up(update_every):
    """An update follows every step after the 200 warm-up steps whose number is a multiple
    of k: of 600 steps, 600 // k - 200 // k updates."""
    trainer = Trainer("Pendulum-v1", tiny_config(update_every=update_every), seed=0,
                      progress=False)
    trainer.run()
    for optimizer in (trainer.agent.actor_optimizer, trainer.agent.critic_optimizer):
        first = optimizer.param_groups[0]["params"][0]
        assert int(optimizer.state[first]["step"]) == 600 // update_every - 200 // update_every


def test_truncation_is_stored_as_not_terminated():
    # Pendulum-v1 never terminates; its episodes are cut by the 200-step time limit.
    trainer = Trainer("Pendulum-v1", tiny_config(total_steps=450), progress=False)
    trainer.run()
    assert [e.length for e in trainer.history.episodes] == [200, 200]
    assert len(trainer.buffer) == 450
    assert not trainer.buffer.terminated[:450].any()


def test_termination_is_stored_as_terminated():
    trainer = Trainer("DDPGTestTerminating-v0", tiny_config(total_steps=300, warmup_steps=100,
                                                            eval_every=100), progress=False)
    trainer.run()
    assert {e.length for e in trainer.history.episodes} == {10}
    flags = trainer.buffer.terminated[:300, 0]
    np.testing.assert_array_equal(np.flatnonzero(flags), np.arange(9, 300, 10))


@pytest.mark.parametrize("noise", ["gaussian", "ou"])
def test_stopped_saved_and_resumed_run_equals_an_uninterrupted_run(tmp_path, noise):
    config = dict(total_steps=800, eval_every=200, noise=noise)
    reference = run(seed=3, **config)

    trainer = Trainer("Pendulum-v1", tiny_config(**config), seed=3, out_dir=tmp_path,
                      progress=False)
    stop_after(trainer, 250)
    stopped = trainer.run()
    assert trainer.step == 400  # the end of the episode in which the stop was asked for
    assert len(stopped.evaluations) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".lock", "agent.pt", "config.json", "episodes.csv", "evaluations.csv", "losses.csv",
        "replay", "training_state.pt"]  # and no temporary files

    resumed = Trainer.resume(tmp_path, progress=False)
    assert resumed.step == 400 and resumed.config == trainer.config and resumed.seed == 3
    history = resumed.run()
    assert resumed.step == 800
    assert outcome(history) == outcome(reference)
    assert [e.wall_time_s for e in history.evaluations][:2] == \
        [e.wall_time_s for e in stopped.evaluations]
    # Finished, with the state kept at the last step (an episode end), to extend the run.
    assert torch.load(tmp_path / "training_state.pt", weights_only=True)["step"] == 800


@pytest.mark.parametrize("first_length", [800, 700])  # the end of an episode, and inside one
def test_a_finished_run_extended_equals_a_run_started_with_the_longer_length(
    tmp_path, first_length
):
    config = dict(eval_every=200, noise="ou")
    reference = run(seed=4, total_steps=1200, **config)
    Trainer("Pendulum-v1", tiny_config(total_steps=first_length, **config), seed=4,
            out_dir=tmp_path, progress=False).run()

    extended = Trainer.resume(tmp_path, progress=False, total_steps=1200)
    assert extended.config == tiny_config(total_steps=1200, **config)
    assert json.loads((tmp_path / "config.json").read_text())["total_steps"] == 1200
    assert outcome(extended.run()) == outcome(reference)
    assert load_agent(tmp_path / "agent.pt")[0].config.total_steps == 1200


def test_a_run_cannot_be_extended_to_steps_it_has_done(tmp_path):
    Trainer("Pendulum-v1", tiny_config(total_steps=400), seed=0, out_dir=tmp_path,
            progress=False).run()
    with pytest.raises(DDPGError, match="more than the 400 steps this run has done, got 400"):
        Trainer.resume(tmp_path, progress=False, total_steps=400)
    Trainer.resume(tmp_path, progress=False, total_steps=600)  # the lock was let go


def test_run_called_again_after_a_stop_goes_on_to_the_end():
    trainer = Trainer("Pendulum-v1", tiny_config(total_steps=1000), seed=2, progress=False)
    stop_after(trainer, 250)
    trainer.run()
    assert trainer.step == 400
    trainer.env.step = trainer.env.step.__closure__[0].cell_contents  # undo stop_after
    trainer.run()
    assert trainer.step == 1000  # not stopped again after one episode


def test_each_save_writes_only_the_new_replay_rows_and_drops_overwritten_ones(tmp_path):
    # Capacity 500, a save every 200 steps (at the episode ends at 200, 400, ...).
    config = tiny_config(total_steps=1200, buffer_size=500)
    trainer = Trainer("Pendulum-v1", config, seed=1, out_dir=tmp_path, progress=False,
                      save_every=200)
    stop_after(trainer, 1000)
    trainer.run()
    chunks = sorted(p.name for p in (tmp_path / "replay").iterdir())
    # The oldest transition still stored is number 500; chunks wholly before it are gone.
    assert chunks == [f"{a:012d}-{b:012d}.pt" for a, b in
                      [(400, 600), (600, 800), (800, 1000)]]
    resumed = Trainer.resume(tmp_path, progress=False)
    torch.testing.assert_close(resumed.buffer.storage, trainer.buffer.storage, rtol=0, atol=0)
    assert resumed.buffer.added == 1000


def test_a_training_state_holds_only_safe_plain_data(tmp_path):
    trainer = Trainer("Pendulum-v1", tiny_config(total_steps=800), out_dir=tmp_path,
                      progress=False)
    stop_after(trainer, 450)
    trainer.run()
    # weights_only=True refuses anything that is not tensors and plain Python data.
    state = torch.load(tmp_path / "training_state.pt", weights_only=True)
    assert state["step"] == 600
    assert all(type(x) is float for _, means in state["history"]["losses"]
               for x in means.values())
    assert "rows" not in state["buffer"]  # the transitions live in the replay chunks


def test_random_streams_are_independent_and_the_noise_is_not_the_environments():
    trainer = Trainer("Pendulum-v1", tiny_config(), seed=0, progress=False)
    trainer.env.reset(seed=trainer.env_seed)
    draws = {
        "env": trainer.env.unwrapped.np_random.standard_normal(8),
        "noise": trainer.agent.noise.rng.standard_normal(8),
        "warmup": trainer.warmup_rng.standard_normal(8),
        "replay": torch.randn(8, generator=trainer.buffer.generator).numpy(),
        "agent": torch.randn(8, generator=trainer.agent.generator).numpy(),
    }
    for a in draws:
        for b in draws:
            if a < b:
                assert abs(np.corrcoef(draws[a], draws[b])[0, 1]) < 0.99, (a, b)
                assert not np.allclose(draws[a], draws[b]), (a, b)
    # What 0.1.0 did, and why it was wrong: the noise's default_rng(seed) is the very
    # generator that env.reset(seed=seed) builds.
    np.testing.assert_array_equal(gym.utils.seeding.np_random(0)[0].random(8),
                                  np.random.default_rng(0).random(8))


def test_training_leaves_the_global_generators_alone():
    torch.manual_seed(7)
    np.random.seed(7)
    expected = torch.rand(3), np.random.rand(3)
    torch.manual_seed(7)
    np.random.seed(7)
    run(seed=0, total_steps=400)
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected[0].numpy())
    np.testing.assert_array_equal(np.random.rand(3), expected[1])


def test_divergence_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint(tmp_path):
    config = tiny_config(warmup_steps=100, eval_every=100, total_steps=2000, batch_size=32)
    trainer = Trainer("DDPGTestNaNReward-v0", config, seed=0, out_dir=tmp_path, progress=False)
    with pytest.raises(TrainingDiverged) as info:
        trainer.run()
    assert isinstance(info.value, DDPGError)
    message = str(info.value)
    step = int(re.search(r"training diverged before step (\d+): ", message).group(1))
    assert step == trainer.step
    assert NAN_AFTER < step < 2000  # the first NaN reward is that of step NAN_AFTER + 1
    assert "summed critic_loss nan" in message
    assert f"the last good checkpoint is {tmp_path / 'agent.pt'}" in message
    assert "\n" not in message

    agent, spec = load_agent(tmp_path / "agent.pt")
    assert spec.env_id == "DDPGTestNaNReward-v0"
    for net in (agent.actor, agent.critic, agent.actor_target, agent.critic_target):
        assert all(torch.isfinite(p).all() for p in net.parameters())
    assert np.isfinite(agent.act(np.zeros(3, dtype=np.float32))).all()
    assert list(tmp_path.glob(".*.tmp")) == []  # no half-written file
    # The last training state is from before the NaN too: the run can go on from there.
    assert Trainer.resume(tmp_path, progress=False).step <= NAN_AFTER + 50


def test_divergence_without_an_output_directory_says_so():
    config = tiny_config(warmup_steps=100, eval_every=1000, total_steps=2000, batch_size=32)
    with pytest.raises(TrainingDiverged, match="no checkpoint was written yet"):
        Trainer("DDPGTestNaNReward-v0", config, progress=False).run()


def test_train_writes_config_logs_and_checkpoint(tmp_path):
    config = tiny_config(total_steps=300, warmup_steps=100, eval_every=100)
    agent, history = train("DDPGTestSmall-v0", config, seed=4, out_dir=tmp_path / "run",
                           progress=False)
    out = tmp_path / "run"
    saved = json.loads((out / "config.json").read_text())
    assert (saved["env_id"], saved["algorithm"], saved["seed"]) == ("DDPGTestSmall-v0", "ddpg", 4)
    assert {k: v for k, v in saved.items()
            if k not in ("env_id", "algorithm", "seed", "code")} == config.to_dict()
    assert saved["code"] == code_digest()
    with open(out / "evaluations.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["env_steps", "wall_time_s", "mean_return", "std_return", "q_estimate",
                       "discounted_return", "train_time_s"]
    assert [int(r[0]) for r in rows[1:]] == [100, 200, 300]
    assert [float(r[2]) for r in rows[1:]] == [e.mean_return for e in history.evaluations]
    with open(out / "episodes.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["env_steps", "return", "length"]
    assert [int(r[0]) for r in rows[1:]] == [50, 100, 150, 200, 250, 300]
    with open(out / "losses.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["env_steps", "critic_loss", "actor_loss", "mean_q"]
    assert [int(r[0]) for r in rows[1:]] == [150, 200, 250, 300]  # episodes with updates
    assert [tuple(map(float, r)) for r in rows[1:]] == [
        (r.env_steps, r.means["critic_loss"], r.means["actor_loss"], r.means["mean_q"])
        for r in history.losses]
    loaded, _ = load_agent(out / "agent.pt")
    obs = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))


def test_history_steps_to_reach_and_state_round_trip():
    history = History(
        episodes=[EpisodeRecord(200, -1500.0, 200)],
        evaluations=[EvalRecord(1000, 1.0, -900.0, 10.0), EvalRecord(2000, 2.0, -199.0, 5.0),
                     EvalRecord(3000, 3.0, -250.0, 5.0)])
    assert history.steps_to_reach(-200) == 2000
    assert history.steps_to_reach(-900) == 1000
    assert history.steps_to_reach(0) is None
    assert History.from_state_dict(history.state_dict()) == history


@pytest.mark.slow
def test_end_to_end_pendulum_with_the_fast_preset_is_solved():
    agent, history = train("Pendulum-v1", PRESETS["fast"], seed=0, progress=False)
    means = [e.mean_return for e in history.evaluations]
    assert len(means) == PRESETS["fast"].total_steps // PRESETS["fast"].eval_every
    assert all(math.isfinite(m) for m in means)
    reached = history.steps_to_reach(-200)
    assert reached is not None, f"greedy evaluations never reached -200: {means}"
    assert means[-1] >= -200, means
    assert means[-1] > means[0] + 500, means  # an untrained policy scores about -1200


def read_tensorboard(folder) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)]
            for tag in events.Tags()["scalars"]}


def test_tensorboard_gets_the_returns_losses_and_q_of_the_history(tmp_path):
    pytest.importorskip("tensorboard")
    trainer = Trainer("Pendulum-v1", tiny_config(), seed=0, progress=False,
                      tensorboard_dir=tmp_path / "tb")
    history = trainer.run()
    scalars = read_tensorboard(tmp_path / "tb")
    assert scalars["train/episode_return"] == [
        (e.env_steps, pytest.approx(e.episode_return, rel=1e-6)) for e in history.episodes]
    assert scalars["eval/mean_return"] == [
        (e.env_steps, pytest.approx(e.mean_return, rel=1e-6)) for e in history.evaluations]
    for name in ("critic_loss", "actor_loss", "mean_q"):
        assert scalars[f"train/{name}"] == [
            (r.env_steps, pytest.approx(r.means[name], rel=1e-6)) for r in history.losses]


def test_a_resumed_run_hides_the_tensorboard_events_it_repeats(tmp_path):
    pytest.importorskip("tensorboard")
    config = tiny_config(total_steps=800)
    trainer = Trainer("Pendulum-v1", config, seed=0, out_dir=tmp_path / "run", progress=False,
                      tensorboard_dir=tmp_path / "tb")
    stop_after(trainer, 250)
    trainer.run()  # stopped and saved at step 400
    shutil.copytree(tmp_path / "run", tmp_path / "saved-at-400")
    Trainer.resume(tmp_path / "run", progress=False).run()  # on to 800, logging 600 and 800
    # As if that process had died at 800 with nothing saved since 400: resume the 400 state.
    resumed = Trainer.resume(tmp_path / "saved-at-400", progress=False)
    assert resumed.tensorboard_dir == str(tmp_path / "tb")
    history = resumed.run()
    steps = [step for step, _ in read_tensorboard(tmp_path / "tb")["train/episode_return"]]
    assert steps == [e.env_steps for e in history.episodes] == [200, 400, 600, 800]


@pytest.mark.parametrize("algorithm", ["ddpg", "td3", "sac"])
def test_each_evaluation_records_the_critics_estimate_and_the_discounted_return(algorithm):
    from ddpg_tutorial import ALGORITHM_PRESETS
    from ddpg_tutorial.envs import make_env
    from ddpg_tutorial.evaluation import eval_seeds

    config = ALGORITHM_PRESETS[algorithm]["fast"].replace(
        **{k: getattr(tiny_config(), k) for k in ("actor_hidden", "critic_hidden", "batch_size",
                                                  "buffer_size", "warmup_steps", "total_steps",
                                                  "eval_every", "eval_episodes")})
    trainer = Trainer("Pendulum-v1", config, seed=1, progress=False)
    history = trainer.run()
    last = history.evaluations[-1]
    # The same quantities by hand, one episode at a time, for the final agent.
    estimates, discounted = [], []
    for seed in eval_seeds(config.eval_episodes):
        env = make_env("Pendulum-v1")
        obs, _ = env.reset(seed=seed)
        estimates.append(trainer.agent.estimate_value(obs[None])[0])
        total, t, done = 0.0, 0, False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(trainer.agent.act(obs))
            total += config.gamma**t * reward
            t, done = t + 1, terminated or truncated
        discounted.append(total)
    assert last.q_estimate == pytest.approx(np.mean(estimates), rel=1e-5)
    assert last.discounted_return == pytest.approx(np.mean(discounted), rel=1e-6)
    assert last.discounted_return > last.mean_return  # rewards are negative, gamma < 1


def test_train_time_leaves_out_the_evaluations_and_saves(tmp_path, monkeypatch):
    # Each evaluation and each save made 0.2 s slower: the wall time counts them, the training
    # time does not, and evaluations.csv records both.
    import ddpg_tutorial.training as training

    def slowed(fn):
        def slow(*args, **kwargs):
            time.sleep(0.2)
            return fn(*args, **kwargs)
        return slow

    monkeypatch.setattr(training, "evaluate", slowed(training.evaluate))
    monkeypatch.setattr(training, "save_training_state", slowed(training.save_training_state))
    trainer = Trainer("Pendulum-v1", tiny_config(), seed=0, out_dir=tmp_path, progress=False)
    history = trainer.run()
    for i, record in enumerate(history.evaluations):  # the earlier evaluations and saves
        assert record.wall_time_s - record.train_time_s >= 0.2 * (2 * i)
        assert 0 < record.train_time_s <= record.wall_time_s
    with open(tmp_path / "evaluations.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["train_time_s"]) for r in rows] == [
        r.train_time_s for r in history.evaluations]


def test_a_resumed_run_keeps_its_training_time_apart(tmp_path):
    trainer = Trainer("Pendulum-v1", tiny_config(), seed=0, out_dir=tmp_path, progress=False)
    trainer.run(stop_when=lambda history: True)  # stop after the first evaluation
    before = trainer.overhead_s
    assert before > 0
    resumed = Trainer.resume(tmp_path, progress=False)
    assert 0 < resumed.overhead_s <= before  # all but the last save, which wrote the state
    history = resumed.run()
    assert all(r.train_time_s < r.wall_time_s for r in history.evaluations[1:])
