"""Whole training loops in lockstep: ours and sb3-contrib's TRPO, from the same weights, seeds and action noise.

test_sb3_equivalence.py holds one update to sb3-contrib's on a synthetic batch; this runs both libraries' real
loops (rollouts from a MuJoCo vector env with VecNormalize's per-step statistics, terminations and time-limit
truncations with their bootstrap, GAE, the trust-region step, the value regression with Adam's state carried
across updates, the episode statistics) for several updates on Walker2d-v5 with rl-zoo's settings. Everything
that is random is made the same on both sides: sb3-contrib's Gaussian draws its noise from the NumPy stream our
rollout uses, its conjugate gradient starts at zero as ours does, and one minibatch per critic epoch makes the
libraries' different shuffles irrelevant. The networks then stay equal to float precision (measured ~1e-7 relative
after four updates; one missing bootstrap or a statistic updated at another time moves them by 1e-2 or more).
Left running, MuJoCo's chaos amplifies float32-vs-float64 rounding until the runs part after 5-10 updates
without a 40-step limit (docs/TRAINER.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from sb3_contrib import TRPO
from sb3_helpers import actor_pairs, copy_weights, critic_pairs, flat_pairs
from stable_baselines3.common.distributions import DiagGaussianDistribution
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import VecNormalize

from trainer.agent import Agent, initial_count
from trainer.envs import make_vector_env, space_info
from trainer.normalizer import ReturnScaler
from trainer.rollout import RolloutCollector
from trainer.sb3_compat import action_dimensions, config_from_sb3
from trainer.train import _one_update, torch_threads, trust_region, value_optimizer

ENV_ID, SEED, NOISE_SEED, UPDATES = "Walker2d-v5", 3, 10, 4
ENV_KWARGS = {"max_episode_steps": 40}  # truncations as well as falls in every batch
N_ENVS, N_STEPS = 2, 512
# rl-zoo's MuJoCo entry with half its n_steps (a shorter test), one critic minibatch per epoch (see the docstring).
ZOO = {
    "n_steps": N_STEPS, "batch_size": N_ENVS * N_STEPS, "gamma": 0.99, "gae_lambda": 0.95, "cg_max_steps": 25,
    "cg_damping": 0.1, "n_critic_updates": 20, "learning_rate": 1e-3,
}  # fmt: skip


def gap(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(ours - theirs) / torch.linalg.vector_norm(theirs))


def sb3_with_shared_noise(noise: np.random.Generator, monkeypatch: pytest.MonkeyPatch) -> TRPO:
    """sb3-contrib's TRPO on DummyVecEnv + VecNormalize (rl-zoo's ``normalize: true``), sampling from ``noise``."""

    def sample(self: DiagGaussianDistribution) -> torch.Tensor:
        mean, std = self.distribution.mean, self.distribution.stddev
        return mean + std * torch.as_tensor(noise.standard_normal(tuple(mean.shape)), dtype=mean.dtype)

    monkeypatch.setattr(DiagGaussianDistribution, "sample", sample)
    monkeypatch.setattr(torch, "randn_like", torch.zeros_like)  # its CG's starting point, ours is zero
    venv = make_vec_env(ENV_ID, n_envs=N_ENVS, seed=SEED, env_kwargs=ENV_KWARGS)
    model = TRPO("MlpPolicy", VecNormalize(venv, gamma=0.99), seed=SEED, device="cpu", **ZOO)
    model.set_logger(Logger(folder=None, output_formats=[]))
    return model


def test_our_training_loop_runs_in_lockstep_with_sb3_contribs(monkeypatch: pytest.MonkeyPatch) -> None:
    model = sb3_with_shared_noise(np.random.default_rng(NOISE_SEED), monkeypatch)
    config = config_from_sb3({**ZOO, "n_envs": N_ENVS, "normalize": True}, action_dimensions(ENV_ID), device="cpu")
    envs = make_vector_env(ENV_ID, ENV_KWARGS, N_ENVS)
    space = space_info(envs.single_observation_space, envs.single_action_space)
    agent = Agent.build(config, space)
    copy_weights(model, agent)
    scaler = ReturnScaler(N_ENVS, config.gamma, True, config.reward_clip, initial_count=initial_count(config))
    collector = RolloutCollector(envs, space, agent.normalizer, SEED, scaler, per_step_stats=True)
    optimizer, generator = value_optimizer(config, agent.critic), torch.Generator().manual_seed(0)
    rng = np.random.default_rng(NOISE_SEED)  # the same stream sb3-contrib's patched sampling draws from
    seen: list[dict[str, Any]] = []
    # One torch thread, as the benchmarks run: two threads spin against each other on a busy machine.
    with torch_threads(1):
        try:
            for update in range(1, UPDATES + 1):
                metrics = _one_update(
                    agent, collector, optimizer, generator, trust_region(config), rng, torch.device("cpu")
                )
                model.learn(N_ENVS * N_STEPS, reset_num_timesteps=update == 1)
                actor_ours, actor_theirs = flat_pairs(actor_pairs(model, agent))
                critic_ours, critic_theirs = flat_pairs(critic_pairs(model, agent))
                theirs_return = float(np.mean([info["r"] for info in model.ep_info_buffer]))
                seen.append(
                    {
                        "actor": gap(actor_ours, actor_theirs),
                        "critic": gap(critic_ours, critic_theirs),
                        "obs_mean": float(np.max(np.abs(agent.normalizer.mean - model.env.obs_rms.mean))),
                        "returns": (metrics["rollout/ep_return_mean"], theirs_return),
                        "accepted": metrics["train/step_accepted"],
                    }
                )
        finally:
            envs.close()
            model.env.close()
    for update, row in enumerate(seen, start=1):
        assert row["actor"] < 1e-4 and row["critic"] < 1e-4, f"update {update}: {row}"
        assert row["obs_mean"] < 1e-4, f"update {update}: {row}"
        assert row["returns"][0] == pytest.approx(row["returns"][1], abs=1e-3), f"update {update}: {row}"
    assert all(row["accepted"] for row in seen), "the steps were taken: the comparison is of moving networks"
    assert seen[-1]["returns"][0] > seen[0]["returns"][0], "and they learned"
