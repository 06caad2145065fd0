"""Generalized State-Dependent Exploration (gSDE): its density, its sampling, its noise schedule, end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.distributions import Independent, Normal

from trainer import TRPOConfig, load_policy, save_checkpoint, train
from trainer.envs import SpaceInfo, make_vector_env, space_info
from trainer.normalizer import RunningNormalizer
from trainer.policies import SDE_EPS, Actor, NumpyActor, entropy, kl_divergence, log_prob
from trainer.rollout import RolloutCollector
from trainer.trpo import TrustRegion, trpo_step

BOX = SpaceInfo(obs_dim=3, discrete=False, act_dim=2, act_low=(-1.0, -1.0), act_high=(1.0, 1.0))


def _actor(seed: int, log_std_init: float = -0.5) -> Actor:
    torch.manual_seed(seed)
    actor = Actor(BOX, (6, 5), "tanh", log_std_init=log_std_init, sde=True).double()
    with torch.no_grad():
        actor.log_std.add_(0.3 * torch.randn_like(actor.log_std))  # type: ignore[union-attr]
    return actor


def _reference(actor: Actor, obs: torch.Tensor) -> Independent:
    """gSDE's action distribution built from torch.distributions: N(μ(s), φ(s)²·exp(L)² + ε)."""
    features = actor.body[:-1](obs)
    variance = features.pow(2) @ torch.exp(actor.log_std).pow(2) + SDE_EPS  # type: ignore[arg-type]
    return Independent(Normal(actor.body(obs), variance.sqrt()), 1)


def test_its_density_kl_and_entropy_match_torch_distributions() -> None:
    old_actor, new_actor = _actor(0), _actor(1)
    obs = torch.randn(9, 3, dtype=torch.float64)
    actions = torch.randn(9, 2, dtype=torch.float64)
    old, new = old_actor(obs), new_actor(obs)
    assert old.log_std is not None and old.log_std.shape == (9, 2), "gSDE's std depends on the state"
    ref_old, ref_new = _reference(old_actor, obs), _reference(new_actor, obs)
    torch.testing.assert_close(log_prob(new, actions), ref_new.log_prob(actions))
    torch.testing.assert_close(kl_divergence(old, new), torch.distributions.kl_divergence(ref_old, ref_new))
    torch.testing.assert_close(entropy(old), ref_old.entropy())


def test_the_std_takes_no_gradient_through_the_features() -> None:
    actor = _actor(0)
    obs = torch.randn(4, 3, dtype=torch.float64)
    actor(obs).log_std.sum().backward()  # type: ignore[union-attr]
    assert actor.log_std.grad is not None and actor.log_std.grad.abs().sum() > 0  # type: ignore[union-attr]
    assert all(p.grad is None for p in actor.body.parameters()), "sb3's default: features enter the std detached"


def test_numpy_sampling_follows_the_density_the_update_uses() -> None:
    actor = _actor(2)
    numpy_actor = NumpyActor(actor)
    obs = np.random.default_rng(0).normal(size=(1, 3))
    rng = np.random.default_rng(1)
    n = 40_000
    samples = numpy_actor.act(np.repeat(obs, n, axis=0), rng, deterministic=False)
    with torch.no_grad():
        dist = actor(torch.as_tensor(obs))
    mean, std = dist.loc.numpy()[0], np.exp(dist.log_std.numpy()[0])  # type: ignore[union-attr]
    # Standard errors at n = 40,000: the mean to ~0.5% of σ, the std to ~0.35%; allow about 5 of them.
    np.testing.assert_allclose(samples.mean(axis=0), mean, atol=float(0.03 * std.max()))
    np.testing.assert_allclose(samples.std(axis=0), std, rtol=0.02)
    np.testing.assert_allclose(numpy_actor.act(obs, rng, deterministic=True), dist.loc.numpy(), rtol=1e-12)


def test_a_held_exploration_matrix_gives_the_same_noise_for_the_same_state() -> None:
    numpy_actor = NumpyActor(_actor(3))
    rng = np.random.default_rng(0)
    obs = np.random.default_rng(1).normal(size=(2, 3))
    e = numpy_actor.sample_exploration(rng, 2)
    assert e.shape == (2, 5, 2)
    a1 = numpy_actor.act(obs, rng, deterministic=False, exploration=e)
    a2 = numpy_actor.act(obs, rng, deterministic=False, exploration=e)
    np.testing.assert_array_equal(a1, a2)
    assert not np.array_equal(a1, numpy_actor.act(obs, rng, deterministic=False)), "fresh matrices, new noise"


@pytest.mark.parametrize(("freq", "expected_starts"), [(4, [0, 4, 8]), (5, [0, 5, 10]), (-1, [0]), (0, [0])])
def test_the_rollout_resamples_the_noise_every_sde_sample_freq_steps(freq: int, expected_starts: list[int]) -> None:
    envs = make_vector_env("Pendulum-v1", {}, 2)
    space = space_info(envs.single_observation_space, envs.single_action_space)
    actor = NumpyActor(Actor(space, (8,), "tanh", sde=True))
    collector = RolloutCollector(envs, space, RunningNormalizer(3, False), seed=0, sde_sample_freq=freq)
    used: list[np.ndarray | None] = []
    act = actor.act

    def spying_act(obs: np.ndarray, rng: np.random.Generator | None, deterministic: bool, exploration=None):  # type: ignore[no-untyped-def]
        used.append(exploration)
        return act(obs, rng, deterministic, exploration)

    actor.act = spying_act  # type: ignore[method-assign]
    for _ in range(2):  # a new batch starts with new noise whatever the frequency
        used.clear()
        collector.collect(actor, 12, np.random.default_rng(0))
        assert all(e is not None and e.shape == (2, 8, 1) for e in used)
        starts = [t for t in range(12) if t == 0 or used[t] is not used[t - 1]]
        assert starts == expected_starts
    envs.close()


def test_the_trust_region_step_subsamples_the_per_state_std_with_the_batch() -> None:
    actor = Actor(BOX, (16, 16), "tanh", sde=True)
    torch.manual_seed(0)
    obs, advantages = torch.randn(256, 3), torch.randn(256)
    with torch.no_grad():
        old = actor(obs).detach()
        actions = old.loc + torch.randn_like(old.loc)
    stats = trpo_step(actor, obs, actions, advantages, TrustRegion(0.01, 10, 0.1, 1e-10, 10, 0.8, fisher_subsample=4))
    with torch.no_grad():
        kl = float(kl_divergence(old, actor(obs)).mean())
    assert stats.step_accepted and kl <= 0.01


def test_config_validation_of_the_sample_frequency() -> None:
    assert TRPOConfig.from_dict({"use_sde": True, "sde_sample_freq": 4}).sde_sample_freq == 4
    with pytest.raises(ValueError, match=r"sde_sample_freq: must be in \[-1, 100000\]"):
        TRPOConfig.from_dict({"sde_sample_freq": -2})
    with pytest.raises(ValueError, match="use_sde: must be true or false"):
        TRPOConfig.from_dict({"use_sde": "yes"})


def test_discrete_actions_ignore_it() -> None:
    config = TRPOConfig(n_envs=1, n_steps=64, value_minibatch_size=32, value_epochs=1, use_sde=True)
    result = train(config, "CartPole-v1", total_steps=128, seed=0)
    assert result.agent.actor.log_std is None and not result.agent.actor.sde


def test_a_gsde_checkpoint_round_trips(tmp_path: Path) -> None:
    config = TRPOConfig(n_envs=2, n_steps=64, value_minibatch_size=32, value_epochs=1, use_sde=True, sde_sample_freq=4)
    result = train(config, "Pendulum-v1", total_steps=256, seed=0)
    path = save_checkpoint(result.agent, tmp_path / "sde.safetensors", env_id="Pendulum-v1")
    policy = load_policy(path)
    assert policy.metadata["config"]["use_sde"] is True
    obs = np.random.default_rng(1).normal(size=(8, 3))
    np.testing.assert_array_equal(policy.act(obs), result.agent.policy().act(obs))
    sampled = policy.act(obs, deterministic=False, rng=np.random.default_rng(0))
    assert sampled.shape == (8, 1) and np.all(np.abs(sampled) <= 2.0)
