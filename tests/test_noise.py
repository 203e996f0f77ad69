"""Exploration noise: Ornstein-Uhlenbeck statistics, Gaussian draws, annealing, seeding."""

import math

import numpy as np
import pytest

from ddpg_tutorial import GaussianNoise, OrnsteinUhlenbeckNoise


def path(noise, steps: int) -> np.ndarray:
    return np.array([noise.sample() for _ in range(steps)])  # (steps, act_dim)


def test_ou_stationary_std_matches_the_exact_discrete_value():
    # x <- (1 - theta dt) x + sigma sqrt(dt) eps is an AR(1) process whose stationary
    # variance is sigma^2 dt / (1 - (1 - theta dt)^2); with dt = 1 that is 0.3797.
    sigma, theta, dt = 0.2, 0.15, 1.0
    noise = OrnsteinUhlenbeckNoise(4, sigma=sigma, theta=theta, dt=dt, seed=0)
    x = path(noise, 50_000)[1000:]  # drop the start at mu
    expected = sigma * math.sqrt(dt) / math.sqrt(1 - (1 - theta * dt) ** 2)
    assert x.std() == pytest.approx(expected, rel=0.03)
    # Not the continuous-time value sigma / sqrt(2 theta) = 0.365: dt = 1 is not small.
    assert abs(x.std() - sigma / math.sqrt(2 * theta)) > 0.005


def test_ou_stationary_std_for_small_dt_is_sigma_over_sqrt_two_theta():
    sigma, theta, dt = 0.2, 0.15, 0.1
    noise = OrnsteinUhlenbeckNoise(4, sigma=sigma, theta=theta, dt=dt, seed=1)
    x = path(noise, 50_000)[2000:]
    assert x.std() == pytest.approx(sigma / math.sqrt(2 * theta), rel=0.05)


def test_ou_mean_is_mu_and_reset_returns_to_mu():
    noise = OrnsteinUhlenbeckNoise(3, sigma=0.2, theta=0.15, mu=0.5, seed=2)
    x = path(noise, 20_000)
    assert x.mean() == pytest.approx(0.5, abs=0.03)
    assert np.all(noise.x != 0.5)
    noise.reset()
    np.testing.assert_array_equal(noise.x, [0.5, 0.5, 0.5])


def test_ou_is_temporally_correlated_and_gaussian_is_not():
    ou = path(OrnsteinUhlenbeckNoise(1, sigma=0.2, theta=0.15, seed=3), 20_000)[:, 0]
    white = path(GaussianNoise(1, sigma=0.2, seed=3), 20_000)[:, 0]
    lag1 = lambda v: np.corrcoef(v[:-1], v[1:])[0, 1]  # noqa: E731
    assert lag1(ou) == pytest.approx(1 - 0.15, abs=0.02)  # AR(1) coefficient 1 - theta dt
    assert abs(lag1(white)) < 0.03


@pytest.mark.parametrize("make", [
    lambda seed: OrnsteinUhlenbeckNoise(2, seed=seed),
    lambda seed: GaussianNoise(2, 0.3, seed=seed),
])
def test_seeded_noise_is_reproducible(make):
    a, b, c = make(7), make(7), make(8)
    pa, pb, pc = path(a, 100), path(b, 100), path(c, 100)
    np.testing.assert_array_equal(pa, pb)
    assert not np.allclose(pa, pc)


@pytest.mark.parametrize("make", [
    lambda: OrnsteinUhlenbeckNoise(2, seed=5, sigma_final=0.05, anneal_steps=10),
    lambda: GaussianNoise(2, 0.3, seed=5),
])
def test_noise_state_dict_round_trip_continues_the_same_sequence(make):
    noise = make()
    path(noise, 37)
    state = noise.state_dict()
    expected = path(noise, 20)
    restored = make()
    restored.load_state_dict(state)
    np.testing.assert_array_equal(path(restored, 20), expected)
    assert restored.steps == noise.steps


def test_gaussian_std_and_mean():
    x = path(GaussianNoise(2, sigma=0.3, seed=4), 20_000)
    assert x.shape == (20_000, 2)
    assert x.std() == pytest.approx(0.3, rel=0.02)
    assert abs(x.mean()) < 0.01


@pytest.mark.parametrize("cls", [GaussianNoise, OrnsteinUhlenbeckNoise])
def test_annealing_reaches_sigma_final_after_anneal_steps(cls):
    noise = cls(1, sigma=0.5, seed=6, sigma_final=0.1, anneal_steps=100)
    assert noise.sigma == 0.5
    path(noise, 50)
    assert noise.sigma == pytest.approx(0.3)  # linear: half way
    path(noise, 50)
    assert noise.sigma == pytest.approx(0.1)
    path(noise, 500)
    assert noise.sigma == pytest.approx(0.1)  # stays there


def test_annealed_gaussian_draws_have_the_final_std():
    noise = GaussianNoise(1, sigma=1.0, seed=9, sigma_final=0.1, anneal_steps=100)
    path(noise, 100)
    assert path(noise, 20_000).std() == pytest.approx(0.1, rel=0.03)


def test_without_annealing_sigma_is_constant():
    noise = GaussianNoise(1, sigma=0.2, seed=0, sigma_final=0.0, anneal_steps=0)
    path(noise, 10)
    assert noise.sigma == 0.2
