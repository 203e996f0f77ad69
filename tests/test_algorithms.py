"""TD3 and SAC: networks, the pieces of their updates, presets, checkpoints, exact resume."""

import copy
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import stop_after

from ddpg_tutorial import (ALGORITHM_PRESETS, Batch, DDPGError, SACAgent, SACConfig,
                           SquashedGaussianActor, TD3Agent, TD3Config, Trainer, TwinCritic,
                           get_preset, load_agent, make_agent, save_agent)
from ddpg_tutorial.envs import EnvSpec

OBS_DIM = 3
LOW = np.array([-2.0, 0.0], dtype=np.float32)
HIGH = np.array([1.0, 5.0], dtype=np.float32)
SHRINK = dict(actor_hidden=(32, 32), critic_hidden=(32, 32), batch_size=64, buffer_size=10_000,
              warmup_steps=200, total_steps=600, eval_every=200, eval_episodes=2)


def config(algorithm: str, **changes):
    return ALGORITHM_PRESETS[algorithm]["fast"].replace(**{**SHRINK, **changes})


def agent(algorithm: str, seed: int = 0, **changes):
    return make_agent(OBS_DIM, LOW, HIGH, config(algorithm, **changes), seed=seed)


def random_batch(n: int = 64, seed: int = 0, terminated: float = 0.0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return Batch(torch.randn(n, OBS_DIM, generator=g),
                 torch.rand(n, 2, generator=g) * torch.tensor(HIGH - LOW) + torch.tensor(LOW),
                 torch.randn(n, 1, generator=g), torch.randn(n, OBS_DIM, generator=g),
                 torch.full((n, 1), terminated))


# Networks ----------------------------------------------------------------------------------

def test_twin_critic_has_two_independent_critics():
    twin = TwinCritic(OBS_DIM, 2, (16, 16), torch.Generator().manual_seed(0))
    q1, q2 = twin(torch.randn(5, OBS_DIM), torch.randn(5, 2))
    assert q1.shape == q2.shape == (5, 1)
    assert not torch.equal(q1, q2)  # their own weights
    assert {id(p) for p in twin.q1.parameters()}.isdisjoint(id(p) for p in twin.q2.parameters())


def test_squashed_gaussian_actions_stay_inside_the_bounds_and_greedy_is_the_mean():
    actor = SquashedGaussianActor(OBS_DIM, LOW, HIGH, (16, 16), torch.Generator().manual_seed(0))
    with torch.no_grad():
        actor.log_std.bias.fill_(1.5)  # wide: many samples squashed towards the bounds
        obs = torch.randn(2000, OBS_DIM)
        actions, log_prob = actor(obs, torch.Generator().manual_seed(1))
        assert actions.shape == (2000, 2) and log_prob.shape == (2000, 1)
        assert bool((actions >= torch.tensor(LOW)).all() and (actions <= torch.tensor(HIGH)).all())
        mean, _ = actor.distribution(obs)
        expected = torch.tensor((HIGH + LOW) / 2) + torch.tensor((HIGH - LOW) / 2) * torch.tanh(mean)
        torch.testing.assert_close(actor.greedy(obs), expected)


def test_the_log_probability_with_the_tanh_correction_matches_a_numerical_change_of_variables():
    actor = SquashedGaussianActor(OBS_DIM, np.array([-1.0]), np.array([1.0]), (16, 16),
                                  torch.Generator().manual_seed(2))
    obs = torch.randn(500, OBS_DIM, dtype=torch.float32)
    with torch.no_grad():
        actions, log_prob = actor(obs, torch.Generator().manual_seed(3))
        mean, std = actor.distribution(obs)
    # a = tanh(u): p_a(a) = p_u(u) / |da/du|, with da/du by central differences in float64.
    u = torch.atanh(actions.double().clamp(-1 + 1e-12, 1 - 1e-12))
    log_p_u = torch.distributions.Normal(mean.double(), std.double()).log_prob(u)
    h = 1e-6
    slope = (torch.tanh(u + h) - torch.tanh(u - h)) / (2 * h)
    numerical = (log_p_u - slope.log()).sum(dim=1, keepdim=True)
    keep = actions.abs().squeeze(1) < 0.999  # far from the bounds, float32 atanh is accurate
    assert keep.sum() > 400
    torch.testing.assert_close(log_prob.double()[keep], numerical[keep], rtol=1e-3, atol=1e-3)


# TD3 -----------------------------------------------------------------------------------------

class Recorder(torch.nn.Module):
    """Wraps a module and keeps the action each call received."""

    def __init__(self, module):
        super().__init__()
        self.module, self.actions = module, []

    def forward(self, obs, action):
        self.actions.append(action.detach().clone())
        return self.module(obs, action)


def test_td3_target_smoothing_noise_is_clipped():
    td3 = agent("td3", target_noise=100.0, target_noise_clip=0.5)  # noise far beyond the clip
    recorder = Recorder(td3.critic_target)
    td3.critic_target = recorder
    batch = random_batch()
    with torch.no_grad():
        mu_next = td3.actor_target(batch.next_obs)
    td3.update(batch)
    offset = (recorder.actions[0] - mu_next) / torch.tensor((HIGH - LOW) / 2)
    clipped_to_bounds = ((recorder.actions[0] == torch.tensor(LOW))
                         | (recorder.actions[0] == torch.tensor(HIGH)))
    inside = ~clipped_to_bounds
    assert bool((offset[inside].abs() <= 0.5 + 1e-5).all())
    assert bool((offset[inside].abs() > 0.49).any())  # the clip was reached: noise was applied


@pytest.mark.parametrize("clipped", [True, False])
def test_td3_target_takes_the_smaller_of_the_twin_target_critics(clipped):
    td3 = agent("td3", gamma=0.9, target_noise=0.0, clipped_double_q=clipped)
    with torch.no_grad():
        td3.critic_target.q1.out.bias.fill_(5.0)
        td3.critic_target.q2.out.bias.fill_(-3.0)  # the smaller, everywhere
    batch = random_batch()
    with torch.no_grad():
        next_action = td3.actor_target(batch.next_obs)
        q2_next = td3.critic_target.q2(batch.next_obs, next_action)
        q1_next = td3.critic_target.q1(batch.next_obs, next_action)
        assert bool((q2_next < q1_next).all())
        y = batch.reward + 0.9 * (q2_next if clipped else q1_next)  # without it: Q1' alone
        q1, q2 = td3.critic(batch.obs, batch.action)
        expected = (F.mse_loss(q1, y) + F.mse_loss(q2, y)).item()
    assert td3.update(batch).critic_loss.item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("delay", [1, 2, 3])
def test_td3_moves_the_actor_and_the_targets_once_every_policy_delay_updates(delay):
    td3 = agent("td3", policy_delay=delay)
    actor_steps, target_moves = 0, 0
    for k in range(1, 13):
        target_before = copy.deepcopy(td3.actor_target.state_dict())
        metrics = td3.update(random_batch(seed=k))
        moved = any(not torch.equal(v, td3.actor_target.state_dict()[n])
                    for n, v in target_before.items())
        target_moves += moved
        actor_steps += metrics.actor_loss is not None
        assert (metrics.actor_loss is not None) == (k % delay == 0) == moved
    first = td3.actor_optimizer.param_groups[0]["params"][0]
    assert int(td3.actor_optimizer.state[first]["step"]) == actor_steps == 12 // delay
    first = td3.critic_optimizer.param_groups[0]["params"][0]
    assert int(td3.critic_optimizer.state[first]["step"]) == 12


# SAC -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("target_entropy, direction", [(10.0, +1), (-100.0, -1)])
def test_sac_temperature_rises_below_the_target_entropy_and_falls_above(target_entropy,
                                                                        direction):
    sac = agent("sac", target_entropy=target_entropy)
    before = sac.log_alpha.item()
    for k in range(5):
        sac.update(random_batch(seed=k))
    assert (sac.log_alpha.item() - before) * direction > 0


@pytest.mark.parametrize("clipped", [True, False])
def test_sac_critic_target_is_soft_and_uses_the_smaller_twin(clipped):
    sac = agent("sac", gamma=0.9, clipped_double_q=clipped)
    with torch.no_grad():
        sac.critic_target.q1.out.bias.fill_(5.0)
        sac.critic_target.q2.out.bias.fill_(-3.0)  # the smaller, everywhere
    batch = random_batch()
    probe = copy.deepcopy(sac)
    with torch.no_grad():
        next_action, next_log_prob = probe.actor(batch.next_obs, probe.generator)
        alpha = probe.log_alpha.exp()
        next_q1, next_q2 = probe.critic_target(batch.next_obs, next_action)
        assert bool((next_q2 < next_q1).all())
        next_q = next_q2 if clipped else next_q1  # without it: Q1' alone
        y = batch.reward + 0.9 * (next_q - alpha * next_log_prob)
        q1, q2 = probe.critic(batch.obs, batch.action)
        expected = (F.mse_loss(q1, y) + F.mse_loss(q2, y)).item()
    assert sac.update(batch).critic_loss.item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("clipped", [True, False])
def test_sac_actor_climbs_the_smaller_twin_or_the_first_alone(clipped):
    sac = agent("sac", clipped_double_q=clipped)
    with torch.no_grad():
        sac.critic.q2.out.bias.fill_(-50.0)  # Q2 about 50 below Q1 everywhere: the minimum
    actor_loss = sac.update(random_batch()).actor_loss.item()  # mean(alpha log pi - Q)
    # alpha log pi is a few units at most for the untrained policy (alpha = 1); -Q adds about
    # +50 when Q is the minimum (Q2) and about 0 when it is Q1.
    assert (actor_loss > 40) if clipped else (abs(actor_loss) < 10)


def test_sac_with_a_fixed_temperature_keeps_it():
    sac = agent("sac", learn_alpha=False, initial_alpha=0.2)
    for k in range(3):
        metrics = sac.update(random_batch(seed=k))
        assert metrics.alpha.item() == pytest.approx(0.2)
    assert sac.log_alpha.exp().item() == pytest.approx(0.2)


def test_sac_act_explores_by_sampling_and_is_deterministic_when_greedy():
    sac = agent("sac")
    obs = np.zeros((4, OBS_DIM), dtype=np.float32)
    greedy = sac.act(obs)
    np.testing.assert_array_equal(greedy, sac.act(obs))
    explored = sac.act(obs, explore=True)
    assert explored.dtype == np.float32 and explored.shape == (4, 2)
    assert len(np.unique(explored[:, 0])) == 4
    assert sac.act(obs[0], explore=True).shape == (2,)


# Shared: presets, determinism, checkpoints, resume ------------------------------------------

def test_presets_follow_the_papers():
    td3 = get_preset("paper", "td3")
    assert isinstance(td3, TD3Config)
    assert (td3.actor_hidden, td3.critic_hidden, td3.actor_lr, td3.critic_lr, td3.batch_size,
            td3.tau, td3.policy_delay, td3.target_noise, td3.target_noise_clip,
            td3.noise, td3.noise_sigma) == ((400, 300), (400, 300), 1e-3, 1e-3, 100, 5e-3, 2,
                                            0.2, 0.5, "gaussian", 0.1)
    sac = get_preset("paper", "sac")
    assert isinstance(sac, SACConfig)
    assert (sac.actor_hidden, sac.critic_hidden, sac.actor_lr, sac.critic_lr, sac.alpha_lr,
            sac.batch_size, sac.tau, sac.gamma, sac.target_entropy) == (
        (256, 256), (256, 256), 3e-4, 3e-4, 3e-4, 256, 5e-3, 0.99, None)
    assert agent("sac").target_entropy == -2.0  # -dim(A)


def test_an_unknown_combination_is_one_error_listing_the_valid_ones():
    with pytest.raises(DDPGError) as info:
        get_preset("turbo", "td3")
    message = str(info.value)
    assert "unknown combination --algo td3 --preset turbo" in message and "\n" not in message
    for algorithm in ("ddpg", "td3", "sac"):
        for preset in ("fast", "paper"):
            assert f"--algo {algorithm} --preset {preset}" in message
    with pytest.raises(DDPGError, match="config field 'policy_delay' must be a positive integer"):
        get_preset("fast", "td3").replace(policy_delay=0)
    with pytest.raises(DDPGError, match=r"unknown config field\(s\) \['noise_sigma'\] for sac"):
        get_preset("fast", "sac").replace(noise_sigma=0.3)


def outcome(history):
    return (history.episodes, [(e.env_steps, e.mean_return) for e in history.evaluations],
            history.losses)


@pytest.mark.parametrize("algorithm", ["td3", "sac"])
def test_same_seed_same_run_other_seed_another(algorithm):
    runs = [Trainer("Pendulum-v1", config(algorithm), seed=s, progress=False).run()
            for s in (4, 4, 5)]
    assert outcome(runs[0]) == outcome(runs[1])
    assert outcome(runs[0])[1] != outcome(runs[2])[1]


@pytest.mark.parametrize("algorithm", ["ddpg", "td3", "sac"])
def test_checkpoint_round_trip_and_the_algorithm_is_recorded(algorithm, tmp_path):
    original = agent(algorithm)
    for k in range(3):
        original.update(random_batch(seed=k))
    spec = EnvSpec("Pendulum-v1", OBS_DIM, LOW, HIGH)
    save_agent(tmp_path / "agent.pt", original, spec)
    loaded, loaded_spec = load_agent(tmp_path / "agent.pt")
    assert type(loaded) is type(original) and loaded.algorithm == algorithm
    assert loaded.config == original.config and loaded_spec.env_id == "Pendulum-v1"
    obs = np.random.default_rng(0).normal(size=(6, OBS_DIM)).astype(np.float32)
    np.testing.assert_array_equal(loaded.act(obs), original.act(obs))
    batch = random_batch(seed=9)  # same optimiser moments, generator, counters: same update
    assert [None if m is None else m.item() for m in loaded.update(batch)] == \
        [None if m is None else m.item() for m in original.update(batch)]


@pytest.mark.parametrize("algorithm", ["ddpg", "td3", "sac"])
def test_a_stopped_and_resumed_run_equals_an_uninterrupted_one(algorithm, tmp_path):
    cfg = config(algorithm, total_steps=800)
    reference = Trainer("Pendulum-v1", cfg, seed=3, progress=False).run()
    trainer = Trainer("Pendulum-v1", cfg, seed=3, out_dir=tmp_path, progress=False)
    stop_after(trainer, 250)
    trainer.run()
    assert trainer.step == 400
    resumed = Trainer.resume(tmp_path, progress=False)
    assert type(resumed.agent) is type(trainer.agent)
    assert outcome(resumed.run()) == outcome(reference)


def test_td3_agent_is_ddpgs_with_a_twin_critic():
    td3 = agent("td3")
    assert isinstance(td3, TD3Agent) and isinstance(td3.critic, TwinCritic)
    assert isinstance(agent("sac"), SACAgent)
    assert td3.config.tau == get_preset("fast", "td3").tau


# The command line -------------------------------------------------------------------------------

def test_cli_trains_sac_and_evaluates_and_renders_without_being_told_the_algorithm(tmp_path,
                                                                                   capsys):
    from conftest import TINY_TRAIN_ARGS
    from ddpg_tutorial.cli import main

    out = tmp_path / "run"
    rc = main(["train", "--algo", "sac", "--env", "DDPGTestRender-v0", "--out", str(out),
               "--steps", "300", "--eval-every", "300", *TINY_TRAIN_ARGS,
               "--set", "warmup_steps=100"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "alpha" in (out / "losses.csv").read_text().splitlines()[0]
    assert json.loads((out / "config.json").read_text())["algorithm"] == "sac"
    assert main(["evaluate", str(out / "agent.pt"), "--episodes", "2"]) == 0
    assert main(["render", str(out / "agent.pt"), "--out", str(tmp_path / "x.gif")]) == 0
    assert "DDPGTestRender-v0: greedy return" in capsys.readouterr().out


def test_cli_rejects_an_unknown_combination_in_one_line(capsys):
    from ddpg_tutorial.cli import main

    rc = main(["train", "--algo", "ppo", "--preset", "fast", "--out", "/nonexistent/x"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert err[0].startswith("error: unknown combination --algo ppo --preset fast; valid ones "
                             "are: --algo ddpg --preset fast")


def test_presets_lists_every_algorithm_and_its_own_fields(capsys):
    from ddpg_tutorial.cli import main

    assert main(["presets"]) == 0
    text = capsys.readouterr().out
    blocks = {block.split("\n", 1)[0]: block for block in text.split("\n\n") if block}
    assert {"--algo ddpg", "--algo td3", "--algo sac"} <= set(blocks)
    assert "policy_delay" in blocks["--algo td3"] and "policy_delay" not in blocks["--algo ddpg"]
    assert "target_entropy" in blocks["--algo sac"] and "noise_sigma" not in blocks["--algo sac"]
