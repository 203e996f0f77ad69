"""The DDPG agent: soft updates, the TD target, learning on a batch, acting."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import tiny_config

from ddpg_tutorial import Batch, DDPGAgent, DDPGError, soft_update
from ddpg_tutorial.base import weight_penalty
from ddpg_tutorial.networks import running_statistics

OBS_DIM = 3
LOW = np.array([-2.0, 0.0], dtype=np.float32)
HIGH = np.array([1.0, 5.0], dtype=np.float32)


def make_agent(**changes) -> DDPGAgent:
    return DDPGAgent(OBS_DIM, LOW, HIGH, tiny_config(**changes), seed=0)


def random_batch(n: int = 64, seed: int = 0, terminated: float = 0.0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    return Batch(torch.randn(n, OBS_DIM, generator=g),
                 torch.rand(n, 2, generator=g) * torch.tensor(HIGH - LOW) + torch.tensor(LOW),
                 torch.randn(n, 1, generator=g),
                 torch.randn(n, OBS_DIM, generator=g),
                 torch.full((n, 1), terminated))


def test_soft_update_arithmetic():
    torch.manual_seed(0)
    target, online = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    before = [p.detach().clone() for p in target.parameters()]
    soft_update(list(target.parameters()), list(online.parameters()), tau=0.1)
    for t, t0, p in zip(target.parameters(), before, online.parameters()):
        torch.testing.assert_close(t, 0.9 * t0 + 0.1 * p, rtol=1e-6, atol=1e-7)
        assert not torch.allclose(t, t0)
    soft_update(list(target.parameters()), list(online.parameters()), tau=1.0)  # tau = 1 copies
    for t, p in zip(target.parameters(), online.parameters()):
        torch.testing.assert_close(t, p, rtol=0, atol=0)


def test_update_moves_targets_by_tau_towards_the_updated_networks():
    agent = make_agent(tau=0.25)
    old = {name: copy.deepcopy(getattr(agent, name)) for name in ("actor_target", "critic_target")}
    agent.update(random_batch())
    for target, online in (("actor_target", "actor"), ("critic_target", "critic")):
        for t, t0, p in zip(getattr(agent, target).parameters(), old[target].parameters(),
                            getattr(agent, online).parameters()):
            torch.testing.assert_close(t, 0.75 * t0 + 0.25 * p, rtol=1e-5, atol=1e-6)


def critic_loss_of_first_update(agent: DDPGAgent, batch: Batch) -> float:
    return copy.deepcopy(agent).update(batch).critic_loss.item()


def test_termination_cuts_the_bootstrap_and_truncation_does_not():
    gamma = 0.9
    agent = make_agent(gamma=gamma)
    with torch.no_grad():  # Q of about 5 everywhere, so that gamma Q' is far from 0
        agent.critic.out.bias.fill_(5.0)
        agent.critic_target.out.bias.fill_(5.0)
    alive = random_batch(terminated=0.0)._replace(reward=torch.zeros(64, 1))
    ended = alive._replace(terminated=torch.ones(64, 1))

    with torch.no_grad():
        q = agent.critic(alive.obs, alive.action)
        next_q = agent.critic_target(alive.next_obs, agent.actor_target(alive.next_obs))
    # terminated = 0 (running, or cut by a time limit): y = gamma Q'(s', mu'(s')).
    expected_alive = F.mse_loss(q, gamma * next_q).item()
    # terminated = 1: y = r = 0, nothing bootstrapped.
    expected_ended = F.mse_loss(q, torch.zeros_like(q)).item()

    assert critic_loss_of_first_update(agent, alive) == pytest.approx(expected_alive, rel=1e-5)
    assert critic_loss_of_first_update(agent, ended) == pytest.approx(expected_ended, rel=1e-5)
    assert expected_ended > 10 * expected_alive  # about 25 against about 0.25


def test_td_target_adds_the_reward():
    agent = make_agent(gamma=0.5)
    batch = random_batch(terminated=1.0)
    with torch.no_grad():
        q = agent.critic(batch.obs, batch.action)
    expected = F.mse_loss(q, batch.reward).item()
    assert critic_loss_of_first_update(agent, batch) == pytest.approx(expected, rel=1e-5)


def test_updates_on_a_fixed_batch_lower_the_td_error():
    agent = make_agent(critic_lr=1e-3, actor_lr=1e-4, gamma=0.9, tau=0.01)
    batch = random_batch(n=64, seed=3)
    losses = [agent.update(batch).critic_loss.item() for _ in range(300)]
    assert losses[-1] < 0.5 * losses[0], (losses[0], losses[-1])
    assert losses[1] < losses[0]  # already the first step helps


def test_actor_step_leaves_the_critic_gradients_of_the_critic_step():
    """The actor's backward pass reaches the action through the critic, but adds nothing to
    the critic's weight gradients: after an update they are those of the critic loss alone."""
    agent, batch = make_agent(), random_batch()
    expected = copy.deepcopy(agent)
    with torch.no_grad():
        next_q = expected.critic_target(batch.next_obs, expected.actor_target(batch.next_obs))
        y = batch.reward + expected.config.gamma * (1 - batch.terminated) * next_q
    F.mse_loss(expected.critic(batch.obs, batch.action), y).backward()
    agent.update(batch)
    for p, q in zip(agent.critic.parameters(), expected.critic.parameters()):
        torch.testing.assert_close(p.grad, q.grad)
    assert all(p.grad is not None for p in agent.actor.parameters())


def test_actor_update_raises_the_critics_value():
    agent = make_agent(actor_lr=1e-2, critic_lr=1e-12, tau=1e-3)
    batch = random_batch(seed=4)
    metrics = [agent.update(batch) for _ in range(50)]
    # actor_loss = -mean Q(s, mu(s)): the actor climbs the (almost frozen) critic.
    assert metrics[-1].actor_loss.item() < metrics[0].actor_loss.item()


@pytest.mark.parametrize("explore", [False, True])
def test_act_shapes_and_dtype(explore):
    agent = make_agent(noise="gaussian")  # OU noise needs reset(5) for a batch (tested below)
    one, batch = agent.act(np.zeros(OBS_DIM), explore), agent.act(np.zeros((5, OBS_DIM)), explore)
    assert one.shape == (2,) and batch.shape == (5, 2)
    assert one.dtype == batch.dtype == np.float32  # with noise too, not float64


@pytest.mark.parametrize("noise", ["gaussian", "ou"])
def test_exploring_a_batch_draws_independent_noise_for_each_row(noise):
    agent = make_agent(noise=noise, noise_sigma=0.05)
    agent.noise.reset(400)  # 400 processes side by side (needed for OU, harmless otherwise)
    obs = np.zeros((400, OBS_DIM), dtype=np.float32)  # one state, 400 times
    noise_part = agent.act(obs, explore=True) - agent.act(obs)
    assert len(np.unique(noise_part[:, 0])) == 400  # not one vector added to every row
    # Independent draws of sigma * half-range: std about 0.05 * 1.5 in the first dimension.
    assert 0.06 < noise_part[:, 0].std() < 0.09
    assert abs(np.corrcoef(noise_part[:, 0], noise_part[:, 1])[0, 1]) < 0.2


def test_ou_noise_for_a_batch_needs_as_many_processes():
    agent = make_agent(noise="ou")
    with pytest.raises(DDPGError, match=r"call reset\(3\) first"):
        agent.act(np.zeros((3, OBS_DIM)), explore=True)
    agent.noise.reset(3)
    assert agent.act(np.zeros((3, OBS_DIM)), explore=True).shape == (3, 2)
    with pytest.raises(DDPGError, match=r"call reset\(\) first"):
        agent.act(np.zeros(OBS_DIM), explore=True)


def test_making_an_agent_leaves_the_global_torch_generator_alone():
    torch.manual_seed(123)
    expected = torch.rand(5)
    torch.manual_seed(123)
    agent = make_agent()
    agent.act(np.zeros(OBS_DIM), explore=True)
    agent.update(random_batch())
    torch.testing.assert_close(torch.rand(5), expected, rtol=0, atol=0)


def test_greedy_act_is_the_actor_output():
    agent = make_agent()
    obs = np.random.default_rng(0).normal(size=(4, OBS_DIM)).astype(np.float32)
    expected = agent.actor(torch.from_numpy(obs)).detach().numpy()
    np.testing.assert_array_equal(agent.act(obs), expected)
    np.testing.assert_array_equal(agent.act(obs), agent.act(obs))  # no noise without explore


@pytest.mark.parametrize("noise", ["gaussian", "ou"])
def test_act_with_exploration_stays_inside_the_bounds(noise):
    agent = make_agent(noise=noise, noise_sigma=3.0)  # large noise: clipping has to act
    obs = np.random.default_rng(1).normal(size=(500, OBS_DIM))
    actions = np.array([agent.act(o, explore=True) for o in obs])
    assert np.all(actions >= LOW) and np.all(actions <= HIGH)
    assert np.any(actions == LOW) and np.any(actions == HIGH)  # clipped at both ends
    assert len(np.unique(actions[:, 0])) > 50  # and noisy in between


def test_same_seed_same_networks_other_seed_other_networks():
    config = tiny_config()
    a, b = (DDPGAgent(OBS_DIM, LOW, HIGH, config, seed=5) for _ in range(2))
    c = DDPGAgent(OBS_DIM, LOW, HIGH, config, seed=6)
    for pa, pb, pc in zip(a.actor.parameters(), b.actor.parameters(), c.actor.parameters()):
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)
    # The targets start as exact copies.
    for p, t in zip(a.critic.parameters(), a.critic_target.parameters()):
        assert torch.equal(p, t)


def test_agent_state_dict_round_trip():
    agent = make_agent()
    for seed in range(3):
        agent.update(random_batch(seed=seed))
    other = DDPGAgent(OBS_DIM, LOW, HIGH, tiny_config(), seed=123)
    # A deep copy: PyTorch's optimiser load_state_dict keeps the given moment tensors.
    other.load_state_dict(copy.deepcopy(agent.state_dict()))
    obs = np.random.default_rng(2).normal(size=(10, OBS_DIM))
    np.testing.assert_array_equal(other.act(obs), agent.act(obs))
    batch = random_batch(seed=9)
    # Same optimiser moments too: the next update is identical.
    assert [m.item() for m in other.update(batch)] == [m.item() for m in agent.update(batch)]


def test_batch_norm_uses_batch_statistics_in_the_update_and_running_ones_elsewhere():
    agent = make_agent(batch_norm=True, tau=0.25)
    # Acting and estimating values leave the running statistics alone.
    obs = np.random.default_rng(0).normal(size=(10, OBS_DIM))
    before = [s.clone() for s in running_statistics(agent.actor)]
    agent.act(obs[0])
    agent.estimate_value(obs)
    assert all(torch.equal(a, b) for a, b in zip(before, running_statistics(agent.actor)))
    # An update moves them, and the targets' copies move by tau towards them.
    target_before = [s.clone() for s in running_statistics(agent.actor_target)]
    batch = random_batch()
    agent.update(batch)
    after = running_statistics(agent.actor)
    assert not torch.allclose(after[0], before[0])
    # The actor's input statistics: one step of momentum 0.1 towards the batch's mean (the
    # actor sees the batch's states once, for its loss; its target sees s' in eval mode).
    torch.testing.assert_close(after[0], 0.9 * before[0] + 0.1 * batch.obs.mean(0))
    # The critic's too, although the actor's loss runs it a second time on the same states.
    critic_before = running_statistics(make_agent(batch_norm=True, tau=0.25).critic)[0]
    torch.testing.assert_close(running_statistics(agent.critic)[0],
                               0.9 * critic_before + 0.1 * batch.obs.mean(0))
    for t, t0, s in zip(running_statistics(agent.actor_target), target_before, after):
        torch.testing.assert_close(t, 0.75 * t0 + 0.25 * s)
    # Outside the update every network is back in evaluation mode.
    for name in ("actor", "critic", "actor_target", "critic_target"):
        assert not getattr(agent, name).training, name


def test_a_batch_normalised_agent_learns_on_a_fixed_batch_and_round_trips():
    agent = make_agent(batch_norm=True)
    batch = random_batch()
    losses = [agent.update(batch).critic_loss.item() for _ in range(200)]
    assert losses[-1] < 0.5 * losses[0]
    other = DDPGAgent(OBS_DIM, LOW, HIGH, tiny_config(batch_norm=True), seed=123)
    other.load_state_dict(copy.deepcopy(agent.state_dict()))
    obs = np.random.default_rng(2).normal(size=(10, OBS_DIM))
    np.testing.assert_array_equal(other.act(obs), agent.act(obs))


def test_weight_decay_is_an_l2_term_on_the_weight_matrices_alone():
    critic = make_agent().critic
    params = dict(critic.named_parameters())
    penalty = weight_penalty(critic, 0.01)
    torch.testing.assert_close(penalty, 0.005 * sum(p.pow(2).sum() for p in params.values()
                                                    if p.dim() == 2))
    grads = torch.autograd.grad(penalty, list(params.values()), allow_unused=True)
    for (name, p), grad in zip(params.items(), grads):
        if p.dim() == 2:
            torch.testing.assert_close(grad, 0.01 * p)  # Adam's L2, on weights
        else:
            assert grad is None, name  # biases (and batch-norm scale and shift) not decayed
    assert weight_penalty(critic, 0.0) == 0


def test_an_update_with_weight_decay_leaves_the_biases_where_the_td_error_moves_them():
    # Same seed, same batch: with decay or without, the first step moves each bias by the
    # same amount (Adam's first step is lr * sign(gradient), and the decay adds none to a
    # bias), while the weights' gradients differ.
    batch = random_batch()
    moved = {}
    for decay in (0.0, 10.0):
        agent = make_agent(critic_weight_decay=decay)
        before = {n: p.detach().clone() for n, p in agent.critic.named_parameters()}
        agent.update(batch)
        moved[decay] = {n: p.detach() - before[n] for n, p in agent.critic.named_parameters()}
    for name, step in moved[0.0].items():
        if name.endswith("bias"):
            torch.testing.assert_close(moved[10.0][name], step)
    assert not torch.equal(moved[10.0]["first.weight"], moved[0.0]["first.weight"])


def test_every_agent_has_the_one_interface_and_the_same_first_metrics():
    from ddpg_tutorial import Agent, SACAgent, SACMetrics, TD3Agent, TD3Metrics, UpdateMetrics

    with pytest.raises(TypeError):
        Agent(OBS_DIM, LOW, HIGH, tiny_config())  # abstract: no update of its own
    assert all(issubclass(cls, Agent) for cls in (DDPGAgent, TD3Agent, SACAgent))
    first = ("critic_loss", "actor_loss", "mean_q")
    assert UpdateMetrics._fields == first
    assert TD3Metrics._fields[:3] == SACMetrics._fields[:3] == first
