"""The replay buffer: ring storage, uniform sampling, errors, saving and restoring."""

import numpy as np
import pytest
import torch

from ddpg_tutorial import DDPGError, ReplayBuffer


def fill(buffer: ReplayBuffer, n: int, start: int = 0) -> None:
    """Add ``n`` transitions numbered start, start+1, ...: every field holds the number."""
    for i in range(start, start + n):
        buffer.add(np.full(buffer.obs.shape[1], i), np.full(buffer.action.shape[1], i), float(i),
                   np.full(buffer.obs.shape[1], i + 0.5), i % 2 == 1)


def sampled_rewards(buffer: ReplayBuffer, n: int) -> np.ndarray:
    """Rewards of ``n`` transitions drawn in batches of the stored size (the most allowed)."""
    batches = [buffer.sample(len(buffer)).reward for _ in range(-(-n // len(buffer)))]
    return torch.cat(batches).numpy().ravel()[:n]


def test_wrap_around_overwrites_the_oldest():
    buffer = ReplayBuffer(capacity=5, obs_dim=2, act_dim=1, seed=0)
    fill(buffer, 7)
    assert len(buffer) == buffer.size == 5
    assert buffer.position == 2  # transitions 5 and 6 went into slots 0 and 1
    np.testing.assert_array_equal(buffer.reward[:, 0], [5, 6, 2, 3, 4])
    np.testing.assert_array_equal(buffer.obs[:, 0], [5, 6, 2, 3, 4])
    np.testing.assert_array_equal(buffer.next_obs[:, 1], [5.5, 6.5, 2.5, 3.5, 4.5])
    np.testing.assert_array_equal(buffer.terminated[:, 0], [1, 0, 0, 1, 0])
    # Transitions 0 and 1 are gone for good.
    rewards = sampled_rewards(buffer, 1000)
    assert set(rewards.tolist()) == {2.0, 3.0, 4.0, 5.0, 6.0}


def test_size_and_position_before_the_buffer_is_full():
    buffer = ReplayBuffer(capacity=5, obs_dim=2, act_dim=1)
    fill(buffer, 3)
    assert (len(buffer), buffer.position) == (3, 3)
    # Sampling never returns the empty slots.
    assert set(sampled_rewards(buffer, 300).tolist()) == {0.0, 1.0, 2.0}


def test_sample_shapes_and_dtypes():
    buffer = ReplayBuffer(capacity=100, obs_dim=3, act_dim=2, seed=1)
    fill(buffer, 50)
    batch = buffer.sample(32)
    expected = {"obs": (32, 3), "action": (32, 2), "reward": (32, 1), "next_obs": (32, 3),
                "terminated": (32, 1)}
    for name, shape in expected.items():
        tensor = getattr(batch, name)
        assert isinstance(tensor, torch.Tensor)
        assert tuple(tensor.shape) == shape, name
        assert tensor.dtype == torch.float32, name
    assert set(batch.terminated.numpy().ravel().tolist()) <= {0.0, 1.0}
    # The fields of one sampled row belong to the same transition.
    np.testing.assert_array_equal(batch.obs[:, 0], batch.reward[:, 0])
    np.testing.assert_array_equal(batch.next_obs[:, 0], batch.reward[:, 0] + 0.5)
    np.testing.assert_array_equal(batch.terminated[:, 0], batch.reward[:, 0] % 2)


def test_sampling_is_roughly_uniform():
    buffer = ReplayBuffer(capacity=10, obs_dim=1, act_dim=1, seed=2)
    fill(buffer, 10)
    draws = sampled_rewards(buffer, 20_000).astype(int)
    counts = np.bincount(draws, minlength=10)
    # 2000 expected per slot, binomial std about 42: 10% is almost 5 standard deviations.
    assert counts.min() > 1800 and counts.max() < 2200, counts


def test_sampling_more_than_stored_raises_a_clear_error():
    buffer = ReplayBuffer(capacity=100, obs_dim=2, act_dim=1)
    fill(buffer, 3)
    with pytest.raises(DDPGError, match=r"cannot sample 10 transitions .* holding 3"):
        buffer.sample(10)
    empty = ReplayBuffer(capacity=100, obs_dim=2, act_dim=1)
    with pytest.raises(DDPGError, match="add more transitions"):
        empty.sample(1)


def test_state_dict_round_trip_restores_data_position_and_sampler():
    buffer = ReplayBuffer(capacity=8, obs_dim=2, act_dim=1, seed=3)
    fill(buffer, 11)
    buffer.sample(5)  # move the sampler's state away from its seed
    state = buffer.state_dict()

    restored = ReplayBuffer(capacity=8, obs_dim=2, act_dim=1, seed=99)
    restored.load_state_dict(state)
    assert (restored.position, restored.size) == (buffer.position, buffer.size) == (3, 8)
    for name in ("obs", "action", "reward", "next_obs", "terminated"):
        np.testing.assert_array_equal(getattr(restored, name), getattr(buffer, name))
    # Same generator state: the next batches are the same.
    for a, b in zip(buffer.sample(8), restored.sample(8)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_state_dict_of_a_partly_filled_buffer_keeps_only_stored_rows():
    buffer = ReplayBuffer(capacity=1000, obs_dim=2, act_dim=1, seed=4)
    fill(buffer, 4)
    state = buffer.state_dict()
    assert state["rows"].shape == (4, 2 + 1 + 1 + 2 + 1)
    restored = ReplayBuffer(capacity=1000, obs_dim=2, act_dim=1)
    restored.load_state_dict(state)
    np.testing.assert_array_equal(restored.reward[:4, 0], [0, 1, 2, 3])
    assert len(restored) == 4 and restored.position == 4


def test_loading_a_state_of_another_capacity_is_refused():
    buffer = ReplayBuffer(capacity=8, obs_dim=2, act_dim=1)
    fill(buffer, 2)
    with pytest.raises(DDPGError, match="capacity 8 .* does not match 16"):
        ReplayBuffer(capacity=16, obs_dim=2, act_dim=1).load_state_dict(buffer.state_dict())


def test_rows_come_back_in_the_order_they_were_added_across_the_wrap():
    buffer = ReplayBuffer(capacity=5, obs_dim=1, act_dim=1, seed=0)
    fill(buffer, 7)
    np.testing.assert_array_equal(buffer.rows(2, 7)[:, 2], [2, 3, 4, 5, 6])  # the rewards
    np.testing.assert_array_equal(buffer.rows(4, 6)[:, 0], [4, 5])
    with pytest.raises(DDPGError, match="not in the replay buffer"):
        buffer.rows(1, 3)  # transition 1 was overwritten


def test_put_rows_restores_what_rows_read_into_an_empty_buffer():
    buffer = ReplayBuffer(capacity=5, obs_dim=1, act_dim=1, seed=0)
    fill(buffer, 7)
    other = ReplayBuffer(capacity=5, obs_dim=1, act_dim=1)
    other.put_rows(2, buffer.rows(2, 7))
    torch.testing.assert_close(other.storage, buffer.storage, rtol=0, atol=0)


def test_fields_are_views_of_one_row_per_transition():
    buffer = ReplayBuffer(capacity=4, obs_dim=2, act_dim=1, seed=0)
    buffer.add(np.array([1.0, 2.0]), np.array([3.0]), 4.0, np.array([5.0, 6.0]), True)
    np.testing.assert_array_equal(buffer.storage[0], [1, 2, 3, 4, 5, 6, 1])
    assert buffer.obs.data_ptr() == buffer.storage.data_ptr()  # no copy of the data
    np.testing.assert_array_equal(buffer.next_obs[0], [5, 6])


def test_a_batch_is_drawn_on_the_buffers_device_by_its_own_generator():
    buffer = ReplayBuffer(capacity=50, obs_dim=2, act_dim=1, seed=5, device="cpu")
    fill(buffer, 50)
    torch.manual_seed(0)
    expected_global = torch.rand(2)
    torch.manual_seed(0)
    batch = buffer.sample(16)
    torch.testing.assert_close(torch.rand(2), expected_global, rtol=0, atol=0)
    assert all(t.device == buffer.device for t in batch)
    same_seed = ReplayBuffer(capacity=50, obs_dim=2, act_dim=1, seed=5)
    fill(same_seed, 50)
    torch.testing.assert_close(same_seed.sample(16).reward, batch.reward, rtol=0, atol=0)
