"""Hyperparameters: the paper's numbers, validation messages, presets, JSON round trip."""

import dataclasses
import json

import pytest

from ddpg_tutorial import PRESETS, DDPGConfig, DDPGError, TD3Config, get_preset



@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_valid(name):
    config = get_preset(name)
    config.validate()  # raises if not
    assert config.warmup_steps < config.total_steps
    assert config.batch_size <= config.buffer_size


def test_paper_preset_has_the_papers_numbers():
    # Lillicrap et al. (2015), Section 7 (Experiment details).
    paper = PRESETS["paper"]
    assert paper.actor_lr == 1e-4
    assert paper.critic_lr == 1e-3
    assert paper.critic_weight_decay == 1e-2
    assert paper.gamma == 0.99
    assert paper.tau == 1e-3
    assert paper.batch_size == 64
    assert paper.buffer_size == 1_000_000
    assert paper.noise == "ou"
    assert paper.ou_theta == 0.15
    assert paper.noise_sigma == 0.2
    assert paper.actor_hidden == (400, 300)
    assert paper.critic_hidden == (400, 300)
    assert paper.batch_norm  # on the state input and the layers before the action


# (changes, field named in the message, allowed range quoted in the message)
INVALID = [
    ({"tau": 0}, "tau", "in (0, 1]"),
    ({"tau": 1.5}, "tau", "in (0, 1]"),
    ({"gamma": -0.1}, "gamma", "in [0, 1]"),
    ({"gamma": 1.1}, "gamma", "in [0, 1]"),
    ({"batch_size": 0}, "batch_size", "a positive integer"),
    ({"batch_size": 32.0}, "batch_size", "a positive integer"),
    ({"actor_lr": -1}, "actor_lr", "> 0"),
    ({"critic_lr": 0.0}, "critic_lr", "> 0"),
    ({"critic_weight_decay": -1e-3}, "critic_weight_decay", ">= 0"),
    ({"buffer_size": 0}, "buffer_size", "a positive integer"),
    ({"batch_size": 128, "buffer_size": 100}, "batch_size", "<= buffer_size (100)"),
    ({"warmup_steps": 1000, "total_steps": 1000}, "warmup_steps",
     "smaller than total_steps (1000)"),
    ({"warmup_steps": 5000, "total_steps": 1000}, "warmup_steps",
     "smaller than total_steps (1000)"),
    ({"warmup_steps": -1}, "warmup_steps", "an integer >= 0"),
    ({"eval_every": 0}, "eval_every", "a positive integer"),
    ({"eval_episodes": -2}, "eval_episodes", "a positive integer"),
    ({"noise": "uniform"}, "noise", "'ou' or 'gaussian'"),
    ({"noise_sigma": 0}, "noise_sigma", "> 0"),
    ({"noise_sigma_final": -0.1}, "noise_sigma_final", "None or >= 0"),
    ({"actor_hidden": (64,)}, "actor_hidden", "at least two positive layer sizes"),
    ({"critic_hidden": (64, 0)}, "critic_hidden", "at least two positive layer sizes"),
    ({"actor_hidden": 64}, "actor_hidden", "a list of layer sizes"),
    ({"tau": "abc"}, "tau", "a finite number"),
    ({"gamma": float("nan")}, "gamma", "a finite number"),
    ({"actor_lr": float("inf")}, "actor_lr", "a finite number"),
    ({"batch_size": True}, "batch_size", "a positive integer"),
]


@pytest.mark.parametrize("changes,field,allowed", INVALID,
                         ids=[" ".join(f"{k}={v!r}" for k, v in c[0].items()) for c in INVALID])
def test_invalid_values_name_the_field_and_the_allowed_range(changes, field, allowed):
    with pytest.raises(DDPGError) as info:
        DDPGConfig().replace(**changes)
    message = str(info.value)
    assert f"config field '{field}' must be" in message
    assert allowed in message
    assert "\n" not in message
    # The constructor validates the same way.
    with pytest.raises(DDPGError, match=f"'{field}'"):
        DDPGConfig(**changes)


def test_unknown_field_is_named_with_the_valid_ones():
    with pytest.raises(DDPGError) as info:
        DDPGConfig().replace(learning_rate=1e-3)
    message = str(info.value)
    assert "unknown config field(s) ['learning_rate']" in message
    assert "'actor_lr'" in message and "'tau'" in message
    with pytest.raises(DDPGError, match="learning_rate"):
        DDPGConfig.from_dict({**DDPGConfig().to_dict(), "learning_rate": 1e-3})


def test_unknown_preset():
    with pytest.raises(DDPGError, match=r"unknown combination --algo ddpg --preset slow; valid "
                                        r"ones are: --algo ddpg --preset fast, --algo ddpg "
                                        r"--preset paper, --algo td3"):
        get_preset("slow")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_to_dict_from_dict_round_trip_through_json(name):
    config = PRESETS[name]
    data = json.loads(json.dumps(config.to_dict()))
    assert data["actor_hidden"] == list(config.actor_hidden)  # tuples become lists
    restored = DDPGConfig.from_dict(data)
    assert restored == config
    assert isinstance(restored.actor_hidden, tuple)
    assert set(data) == {f.name for f in dataclasses.fields(DDPGConfig)}


def test_replace_changes_only_the_given_fields_and_configs_are_frozen():
    base = PRESETS["paper"]
    changed = base.replace(gamma=0.9, actor_hidden=[64, 64])
    assert changed.gamma == 0.9 and changed.actor_hidden == (64, 64)
    assert base.gamma == 0.99
    assert dataclasses.replace(changed, gamma=0.99, actor_hidden=(400, 300)) == base
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.gamma = 0.5
    assert hash(base) == hash(DDPGConfig(batch_norm=True))


@pytest.mark.parametrize("changes, field", [
    (dict(noise_sigma_final=0.05), "noise_anneal_steps"),
    (dict(noise_anneal_steps=1000), "noise_anneal_steps"),
    (dict(batch_norm=True, batch_size=1), "batch_size"),
    (dict(batch_norm=True, critic_action_layer=1), "critic_action_layer"),
    (dict(critic_action_layer=3), "critic_action_layer"),
    (dict(final_layer_bound=0.0), "final_layer_bound"),
])
def test_settings_that_would_be_ignored_or_fail_in_the_first_update_are_refused(changes, field):
    with pytest.raises(DDPGError, match=f"'{field}'"):
        DDPGConfig(**changes)
    DDPGConfig(noise_sigma_final=0.05, noise_anneal_steps=1000)  # both together are fine


def test_a_config_saved_before_version_0_3_keeps_the_networks_it_had():
    saved = get_preset("paper", "td3").to_dict()
    for name in ("critic_action_layer", "final_layer_bound"):
        del saved[name]
    old = TD3Config.from_dict(saved)
    assert (old.critic_action_layer, old.final_layer_bound) == (2, 3e-3)
    assert get_preset("paper", "td3").critic_action_layer == 1
