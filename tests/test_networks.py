"""Actor and critic: the paper's initialisation, action bounds, where the action enters."""

import math

import numpy as np
import pytest
import torch

from ddpg_tutorial import Actor, Critic

OBS_DIM, ACT_DIM = 17, 6
LOW = np.array([-3.0, 0.5, -1.0, 0.0, -10.0, 2.0], dtype=np.float32)
HIGH = np.array([-1.0, 7.0, 1.0, 0.1, 10.0, 2.5], dtype=np.float32)


def check_uniform(tensor: torch.Tensor, bound: float, near_bound: bool = True) -> None:
    """Every value within +-bound and, for a large tensor, some close to it (not all tiny)."""
    largest = tensor.abs().max().item()
    assert largest <= bound
    if near_bound:
        assert largest >= 0.9 * bound, f"largest |value| {largest} is far below the bound {bound}"


def test_actor_initialisation():
    torch.manual_seed(0)
    actor = Actor(OBS_DIM, LOW, HIGH, hidden=(400, 300))
    assert [layer.in_features for layer in actor.hidden] == [OBS_DIM, 400]
    for layer in actor.hidden:
        bound = 1 / math.sqrt(layer.in_features)
        check_uniform(layer.weight, bound)
        check_uniform(layer.bias, bound)
    # The paper's final layer: U(-3e-3, 3e-3), so that the first actions sit near the centre.
    check_uniform(actor.out.weight, 3e-3)
    check_uniform(actor.out.bias, 3e-3, near_bound=False)  # only 6 values
    with torch.no_grad():
        actions = actor(torch.randn(1000, OBS_DIM))
    off_centre = (actions - actor.action_center).abs() / actor.action_half_range
    assert off_centre.max() < 0.05


def test_a_generator_decides_the_weights_and_the_global_one_is_untouched():
    torch.manual_seed(0)
    expected_global = torch.rand(3)
    torch.manual_seed(0)
    nets = [(Actor(OBS_DIM, LOW, HIGH, (32, 32), torch.Generator().manual_seed(seed)),
             Critic(OBS_DIM, ACT_DIM, (32, 32), torch.Generator().manual_seed(seed)))
            for seed in (7, 7, 8)]
    torch.testing.assert_close(torch.rand(3), expected_global, rtol=0, atol=0)
    weights = [torch.cat([p.flatten() for net in pair for p in net.parameters()])
               for pair in nets]
    assert torch.equal(weights[0], weights[1]) and not torch.equal(weights[0], weights[2])


def test_critic_initialisation():
    torch.manual_seed(1)
    critic = Critic(OBS_DIM, ACT_DIM, hidden=(400, 300))
    for layer in (critic.first, *critic.hidden):
        bound = 1 / math.sqrt(layer.in_features)
        check_uniform(layer.weight, bound)
        check_uniform(layer.bias, bound)
    # The second layer's two blocks share its fan-in: 400 features + the actions.
    joint_bound = 1 / math.sqrt(400 + ACT_DIM)
    check_uniform(critic.joint_state.weight, joint_bound)
    check_uniform(critic.joint_state.bias, joint_bound)
    check_uniform(critic.joint_action.weight, joint_bound)
    assert critic.joint_action.bias is None  # one bias for the layer, in joint_state
    check_uniform(critic.out.weight, 3e-3)
    check_uniform(critic.out.bias, 3e-3, near_bound=False)  # a single value


def test_critic_takes_the_action_at_the_second_layer():
    critic = Critic(OBS_DIM, ACT_DIM, hidden=(64, 48))
    assert critic.first.in_features == OBS_DIM  # the state alone
    assert critic.joint_state.in_features == 64  # first layer's features ...
    assert critic.joint_action.in_features == ACT_DIM  # ... and the action
    assert critic.out.in_features == 48 and critic.out.out_features == 1
    obs = torch.randn(5, OBS_DIM)
    action = torch.randn(5, ACT_DIM)
    # The action changes Q, through the second layer.
    assert not torch.allclose(critic(obs, action), critic(obs, action + 1.0))


@pytest.mark.parametrize("scale", [1.0, 1e3, 1e6])
def test_actor_output_stays_inside_asymmetric_bounds(scale):
    torch.manual_seed(2)
    actor = Actor(OBS_DIM, LOW, HIGH, hidden=(32, 32))
    with torch.no_grad():  # a large final layer so that tanh saturates at both ends
        actor.out.weight.mul_(1e3)
    obs = scale * torch.randn(2000, OBS_DIM)
    action = actor(obs).detach().numpy()
    assert action.shape == (2000, ACT_DIM)
    assert np.all(action >= LOW) and np.all(action <= HIGH)
    if scale >= 1e3:  # both ends of every dimension are reached
        np.testing.assert_allclose(action.min(axis=0), LOW, atol=1e-4)
        np.testing.assert_allclose(action.max(axis=0), HIGH, atol=1e-4)


def test_actor_maps_zero_preactivation_to_the_middle_of_the_bounds():
    actor = Actor(OBS_DIM, LOW, HIGH, hidden=(32, 32))
    with torch.no_grad():
        actor.out.weight.zero_()
        actor.out.bias.zero_()
    action = actor(torch.randn(3, OBS_DIM)).detach().numpy()
    np.testing.assert_allclose(action, np.tile((LOW + HIGH) / 2, (3, 1)), rtol=1e-6)


def test_output_shapes():
    actor = Actor(4, -np.ones(2), np.ones(2), hidden=(16, 16, 8))
    critic = Critic(4, 2, hidden=(16, 16, 8))
    obs = torch.randn(7, 4)
    assert actor(obs).shape == (7, 2)
    assert critic(obs, actor(obs)).shape == (7, 1)
    assert len(actor.hidden) == 3 and len(critic.hidden) == 1  # after the joint layer


def test_split_second_layer_equals_one_layer_on_the_concatenation():
    """W_h h + W_a a + b is the layer W [h; a] + b of the paper."""
    torch.manual_seed(3)
    critic = Critic(OBS_DIM, ACT_DIM, hidden=(64, 48))
    obs, action = torch.randn(9, OBS_DIM), torch.randn(9, ACT_DIM)
    joint = torch.nn.Linear(64 + ACT_DIM, 48)
    with torch.no_grad():
        joint.weight.copy_(torch.cat([critic.joint_state.weight, critic.joint_action.weight], 1))
        joint.bias.copy_(critic.joint_state.bias)
    h = torch.relu(critic.first(obs))
    expected = critic.out(torch.relu(joint(torch.cat([h, action], 1))))
    torch.testing.assert_close(critic(obs, action), expected)


def test_critic_needs_two_hidden_layers():
    with pytest.raises(ValueError, match="two hidden layers"):
        Critic(3, 1, hidden=(64,))


def test_batch_norm_sits_where_the_paper_puts_it():
    torch.manual_seed(0)
    actor = Actor(OBS_DIM, LOW, HIGH, hidden=(40, 30), batch_norm=True)
    critic = Critic(OBS_DIM, ACT_DIM, hidden=(40, 30), batch_norm=True)
    # The actor: its input and every hidden layer; the critic: its input and its first layer,
    # the layers before the action joins.
    assert [norm.num_features for norm in actor.norms] == [OBS_DIM, 40, 30]
    assert [norm.num_features for norm in critic.norms] == [OBS_DIM, 40]
    # In training mode each normalised quantity has mean 0 and variance 1 over the batch.
    obs = 5.0 + 3.0 * torch.randn(256, OBS_DIM)
    seen = []
    for norm in (*actor.norms, *critic.norms):
        norm.register_forward_hook(lambda module, args, out: seen.append(out))
    actor(obs)
    critic(obs, torch.rand(256, ACT_DIM))
    assert len(seen) == 5
    for out in seen:
        torch.testing.assert_close(out.mean(0), torch.zeros(out.shape[1]), atol=1e-5, rtol=0)
        torch.testing.assert_close(out.var(0, unbiased=False), torch.ones(out.shape[1]),
                                   atol=1e-3, rtol=0)


def test_without_batch_norm_the_networks_hold_no_norm_layers():
    actor, critic = Actor(OBS_DIM, LOW, HIGH), Critic(OBS_DIM, ACT_DIM)
    assert actor.norms is None and critic.norms is None
    assert not any("norm" in name for name in (*actor.state_dict(), *critic.state_dict()))


def test_a_batch_normalised_actor_in_eval_mode_acts_on_one_observation():
    torch.manual_seed(0)
    actor = Actor(OBS_DIM, LOW, HIGH, hidden=(40, 30), batch_norm=True)
    actor(torch.randn(64, OBS_DIM))  # training mode: the running statistics move
    actor.eval()
    obs = torch.randn(5, OBS_DIM)
    with torch.no_grad():
        one_by_one = torch.stack([actor(o) for o in obs])
        together = actor(obs)
    assert one_by_one.shape == (5, ACT_DIM)
    torch.testing.assert_close(one_by_one, together)


def test_a_critic_with_the_action_at_its_input_is_one_linear_layer_over_state_and_action():
    g = torch.Generator().manual_seed(0)
    critic = Critic(3, 2, (16, 8), g, action_layer=1, final_bound=None)
    obs, action = torch.randn(5, 3), torch.randn(5, 2)
    joined = torch.cat([critic.first.weight, critic.first_action.weight], dim=1)  # W [s; a]
    h = torch.relu(torch.cat([obs, action], dim=1) @ joined.t() + critic.first.bias)
    expected = critic.out(torch.relu(critic.hidden[0](h)))
    torch.testing.assert_close(critic(obs, action), expected)
    # PyTorch's default ranges: the joined layer's fan-in counts the action; the last layer
    # starts in its fan-in range too, not in DDPG's U(-3e-3, 3e-3).
    assert joined.abs().max() <= 1 / math.sqrt(3 + 2)
    assert critic.out.weight.abs().max() <= 1 / math.sqrt(8) and \
        critic.out.weight.abs().max() > 3e-3


def test_the_papers_presets_place_the_critics_action_where_their_papers_do():
    from ddpg_tutorial import get_preset, make_agent

    low, high = np.full(1, -2.0, np.float32), np.full(1, 2.0, np.float32)
    for algorithm, layer in (("ddpg", 2), ("td3", 1), ("sac", 1)):
        critic = make_agent(3, low, high, get_preset("paper", algorithm)).critic
        q1 = critic if algorithm == "ddpg" else critic.q1
        assert q1.action_layer == layer, algorithm
        small = bool(q1.out.weight.abs().max() <= 3e-3)
        assert small == (algorithm == "ddpg"), algorithm
