"""Checkpoints: exact round trip, atomic writes, and refusing every kind of bad file."""

import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_config

from ddpg_tutorial import (DDPGAgent, DDPGError, ReplayBuffer, get_preset, load_agent,
                           make_agent, save_agent)
from ddpg_tutorial.checkpoint import (AGENT_FORMAT, agent_payload, check_compatible,
                                      load_policy, safe_load)
from ddpg_tutorial.envs import EnvSpec, check_env, make_env
from ddpg_tutorial.files import atomic_save, atomic_write

SPEC = check_env(make_env("Pendulum-v1"), "Pendulum-v1")
NETWORKS = ("actor", "critic", "actor_target", "critic_target")
OPTIMISERS = ("actor_optimizer", "critic_optimizer")


def trained_agent(seed: int = 0) -> DDPGAgent:
    """A small agent after a few updates, so that its optimisers have moments."""
    agent = DDPGAgent(SPEC.obs_dim, SPEC.action_low, SPEC.action_high, tiny_config(), seed=seed)
    buffer = ReplayBuffer(256, SPEC.obs_dim, SPEC.act_dim, seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(256):
        buffer.add(rng.normal(size=3), rng.uniform(-2, 2, 1), rng.normal(), rng.normal(size=3),
                   False)
    for _ in range(5):
        agent.update(buffer.sample(64))
    return agent


def assert_same(a, b) -> None:
    """Recursive equality of state dicts: tensors bit for bit, everything else with ==."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and torch.equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "agent.pt"
    save_agent(path, trained_agent(), SPEC)
    return path


def test_round_trip_restores_networks_optimisers_and_spec(tmp_path):
    agent = trained_agent(seed=1)
    save_agent(tmp_path / "agent.pt", agent, SPEC)
    loaded, spec = load_agent(tmp_path / "agent.pt")

    obs = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))
    for name in NETWORKS:
        assert_same(getattr(loaded, name).state_dict(), getattr(agent, name).state_dict())
    for name in OPTIMISERS:
        state = getattr(agent, name).state_dict()
        assert state["state"], "the optimiser has moments to restore"
        assert_same(getattr(loaded, name).state_dict(), state)
    assert loaded.config == agent.config
    assert spec.env_id == "Pendulum-v1" and spec.obs_dim == 3
    np.testing.assert_array_equal(spec.action_low, SPEC.action_low)
    np.testing.assert_array_equal(spec.action_high, SPEC.action_high)
    # Written with the usual permissions: 0o666 less the umask.
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "agent.pt").stat().st_mode & 0o777 == 0o666 & ~umask


CUDA_GENERATOR_STATE = torch.zeros(16, dtype=torch.uint8)  # a CPU generator's is 5,056 bytes


@pytest.mark.parametrize("algorithm", ["ddpg", "sac"])
def test_an_agent_saved_with_a_generator_of_another_device_loads_and_acts(algorithm, tmp_path):
    # What an agent trained with --device cuda holds, made without a GPU.
    config = get_preset("fast", algorithm).replace(actor_hidden=(32, 32),
                                                   critic_hidden=(32, 32))
    agent = make_agent(SPEC.obs_dim, SPEC.action_low, SPEC.action_high, config, seed=4)
    payload = agent_payload(agent, SPEC)
    payload["state"]["generator"] = CUDA_GENERATOR_STATE
    with pytest.raises(RuntimeError, match="Expected a CPUGeneratorImplState"):
        agent.load_state_dict(payload["state"])  # what evaluate and render used to do
    atomic_save(payload, tmp_path / "agent.pt")

    loaded, _ = load_agent(tmp_path / "agent.pt")
    obs = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))
    assert_same(loaded.actor.state_dict(), agent.actor.state_dict())
    assert loaded.generator.get_state().numel() == 5056  # its own, working generator
    loaded.act(obs[0], explore=True)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640)], ids=["022", "027"])
def test_a_written_file_gets_the_usual_permissions_without_setting_the_umask(umask, mode,
                                                                          tmp_path, monkeypatch):
    # Setting the umask to read it would race threads that create files meanwhile
    # (TensorBoard's writer): atomic_write must not call os.umask at all.
    previous = os.umask(umask)
    try:
        monkeypatch.setattr(os, "umask", lambda mask: pytest.fail("atomic_write set the umask"))
        atomic_write(tmp_path / "file", lambda f: f.write(b"data"))
    finally:
        monkeypatch.undo()
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "file").stat().st_mode) == mode
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_a_failed_save_leaves_the_previous_checkpoint_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "agent.pt"
    first = trained_agent(seed=2)
    save_agent(path, first, SPEC)
    before = path.read_bytes()

    def half_written_save(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 half of a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", half_written_save)
    with pytest.raises(OSError, match="No space left"):
        save_agent(path, trained_agent(seed=3), SPEC)
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["agent.pt"]
    loaded, _ = load_agent(path)
    obs = np.zeros((1, 3), dtype=np.float32)
    np.testing.assert_array_equal(loaded.act(obs), first.act(obs))


def test_an_interrupted_save_leaves_no_temp_file(tmp_path, monkeypatch):
    def interrupted(obj, f, *args, **kwargs):
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_agent(tmp_path / "agent.pt", trained_agent(), SPEC)
    assert list(tmp_path.iterdir()) == []


class Exploit:
    """Unpickling this runs ``touch MARKER``: what a malicious checkpoint would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_the_exploit_works_on_an_unsafe_load(tmp_path):
    # Shows that the payload the next test feeds to load_agent is real.
    marker = tmp_path / f"pwned_{uuid.uuid4().hex}"
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(Exploit(marker)))
    pickle.loads((tmp_path / "evil.pkl").read_bytes())
    assert marker.exists()


@pytest.mark.parametrize("how", ["torch.save", "pickle"])
def test_loading_refuses_a_checkpoint_that_would_execute_code(tmp_path, how):
    marker = tmp_path / f"pwned_{uuid.uuid4().hex}"
    path = tmp_path / "agent.pt"
    payload = {"format": AGENT_FORMAT, "state": Exploit(marker)}
    if how == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload))
    with pytest.raises(DDPGError) as info:
        load_agent(path)
    if how == "torch.save":
        assert "refused to load" in str(info.value)
        assert "only load checkpoints written by ddpg-tutorial" in str(info.value)
    assert not marker.exists()


def write_bad_file(kind: str, directory, checkpoint) -> str:
    path = directory / f"{kind}.pt"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        data = checkpoint.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "plain-dict":
        torch.save({"weights": torch.zeros(3)}, path)
    elif kind == "other-format":
        torch.save({"format": "ddpg-tutorial/agent/0", "state": {}}, path)
    elif kind == "text":
        path.write_text("this is a text file\nnot a checkpoint\n")
    elif kind == "directory":
        path.mkdir()
    return path


BAD_FILES = {  # kind: what the message says
    "missing": "does not exist; pass the path of an agent checkpoint",
    "directory": "is a directory, not an agent checkpoint; pass the file in it",
    "empty": "is empty; it is not an agent checkpoint",
    "truncated": "is truncated or not a PyTorch file; it is not an agent checkpoint",
    "plain-dict": "is a PyTorch file but not an agent checkpoint of ddpg-tutorial",
    "other-format": "is a PyTorch file but not an agent checkpoint of ddpg-tutorial",
    "text": "is not a PyTorch file, so it is not an agent checkpoint",
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_files_give_a_clear_one_line_error(tmp_path, checkpoint, kind):
    path = write_bad_file(kind, tmp_path, checkpoint)
    with pytest.raises(DDPGError) as info:
        load_agent(path)
    message = str(info.value)
    assert f"'{path}' " in message
    assert BAD_FILES[kind] in message
    assert "\n" not in message


def test_a_training_state_is_not_an_agent_checkpoint_and_vice_versa(tmp_path, checkpoint):
    from ddpg_tutorial import Trainer
    from ddpg_tutorial.training_state import TRAINING_STATE_FORMAT

    trainer = Trainer("Pendulum-v1", tiny_config(total_steps=250), out_dir=tmp_path,
                      progress=False)
    trainer.run(stop_when=lambda history: True)  # stops, and saves, at step 200
    with pytest.raises(DDPGError, match="is a PyTorch file but not an agent checkpoint"):
        load_agent(tmp_path / "training_state.pt")
    with pytest.raises(DDPGError, match="is a PyTorch file but not a training state"):
        safe_load(checkpoint, "a training state", TRAINING_STATE_FORMAT)
    folder = tmp_path / "not-a-run"
    folder.mkdir()
    shutil.copy(checkpoint, folder / "training_state.pt")
    with pytest.raises(DDPGError, match="is a PyTorch file but not a training state"):
        Trainer.resume(folder)


def test_check_compatible_names_both_shapes():
    mountain_car = check_env(make_env("MountainCarContinuous-v0"), "MountainCarContinuous-v0")
    check_compatible(SPEC, SPEC, "agent.pt")  # the same spec is fine
    with pytest.raises(DDPGError) as info:
        check_compatible(SPEC, mountain_car, "agent.pt")
    message = str(info.value)
    assert "'Pendulum-v1' with observation shape (3,) and action shape (1,)" in message
    assert "'MountainCarContinuous-v0' has observation shape (2,) and action shape (1,)" in message
    other = EnvSpec("X-v0", 3, np.zeros(2, np.float32), np.ones(2, np.float32))
    with pytest.raises(DDPGError, match=r"action shape \(2,\)"):
        check_compatible(SPEC, other, "agent.pt")


# Files written by version 0.1.0 (tests/fixtures/README.md) -----------------------------------

@pytest.mark.parametrize("algorithm,batch_norm", [("ddpg", False), ("ddpg", True),
                                                  ("td3", False), ("sac", False)])
def test_the_loaded_policy_acts_as_the_loaded_agent(algorithm, batch_norm, tmp_path):
    changes = dict(batch_norm=True) if batch_norm else {}
    config = get_preset("fast", algorithm).replace(actor_hidden=(32, 32),
                                                   critic_hidden=(32, 32), **changes)
    agent = make_agent(SPEC.obs_dim, SPEC.action_low, SPEC.action_high, config, seed=5)
    obs = np.random.default_rng(1).normal(size=(8, 3)).astype(np.float32)
    if batch_norm:  # running statistics away from their start, so that loading them matters
        agent.actor.train()(torch.as_tensor(obs * 3 + 1))
        agent.actor.eval()
    save_agent(tmp_path / "agent.pt", agent, SPEC)

    policy, spec = load_policy(tmp_path / "agent.pt")
    assert spec.env_id == SPEC.env_id and spec.obs_dim == SPEC.obs_dim
    for batch in (obs, obs[0]):
        action = policy(batch)
        assert action.dtype == np.float32 and action.shape == agent.act(batch).shape
        np.testing.assert_array_equal(action, agent.act(batch))


def test_evaluate_builds_no_optimiser(tmp_path):
    # The first optimiser of a process imports PyTorch's compiler (seconds); acting needs none.
    agent = make_agent(SPEC.obs_dim, SPEC.action_low, SPEC.action_high,
                       get_preset("fast", "sac"), seed=0)
    save_agent(tmp_path / "agent.pt", agent, SPEC)
    code = ("import sys; from ddpg_tutorial.cli import main; "
            f"main(['evaluate', {str(tmp_path / 'agent.pt')!r}, '--episodes', '1']); "
            "print('compiler imported' if 'torch._dynamo' in sys.modules else 'no compiler')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.splitlines()[-1] == "no compiler", result.stdout


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_an_agent_checkpoint_of_version_0_1_0_loads_and_acts_as_it_did():
    recorded = json.loads((FIXTURES / "v0.1.0.json").read_text())
    agent, spec = load_agent(FIXTURES / "v0.1.0-agent.pt")
    assert spec.env_id == "Pendulum-v1" and agent.config.actor_hidden == (8, 8)
    action = agent.act(np.zeros(3, dtype=np.float32))
    np.testing.assert_allclose(action, recorded["greedy_action_at_zero_obs"], rtol=1e-6)


def test_a_training_state_of_version_0_1_0_resumes_and_finishes(tmp_path):
    from ddpg_tutorial import Trainer

    recorded = json.loads((FIXTURES / "v0.1.0.json").read_text())
    shutil.copy(FIXTURES / "v0.1.0-training_state.pt", tmp_path / "training_state.pt")
    trainer = Trainer.resume(tmp_path, progress=False)
    assert trainer.step == recorded["step_saved"] == 400
    assert [list(e)[:4] for e in trainer.history.evaluations] == \
        recorded["evaluations_before_save"]
    assert len(trainer.buffer) == 400
    # The transitions came across in the order they were added: each next_obs is the
    # following obs within an episode (Pendulum's episodes are 200 steps).
    rows = trainer.buffer.rows(0, 400)
    obs, next_obs = rows[:, :3], rows[:, 5:8]
    torch.testing.assert_close(next_obs[:199], obs[1:200])
    history = trainer.run()
    assert trainer.step == 600 and [e.env_steps for e in history.evaluations] == [200, 400, 600]
