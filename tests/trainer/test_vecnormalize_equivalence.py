"""With ``normalize_every_step`` the rollout's statistics are sb3's VecNormalize's, step for step.

The same env id, seeds and actions go through our RolloutCollector (gymnasium vector env, SAME_STEP autoreset) and
through sb3's DummyVecEnv + VecNormalize(norm_obs, norm_reward): the observations the policy acts on, the final
observations of truncated episodes, the scaled rewards and the final statistics must agree (both start from
VecNormalize's prior: mean 0, variance 1, count 1e-4). With the statistics updated once per batch (the default),
the first batch is not normalised at all: the last test shows that difference is large, so the comparison can fail.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from trainer.envs import make_vector_env, space_info
from trainer.normalizer import VECNORMALIZE_INITIAL_COUNT, ReturnScaler, RunningNormalizer
from trainer.rollout import Rollout, RolloutCollector

ENV_ID, N_ENVS, N_STEPS, SEED, GAMMA = "Pendulum-v1", 2, 450, 3, 0.99  # two truncations per env (200 steps each)


class ScriptedActor:
    """Plays a fixed sequence of actions through the collector's actor interface (the policy is not under test)."""

    sde = False

    def __init__(self, actions: np.ndarray) -> None:
        self.actions = actions
        self.t = 0

    def act(self, obs: np.ndarray, rng: object, deterministic: bool, exploration: object = None) -> np.ndarray:
        action = self.actions[self.t]
        self.t += 1
        return action


def scripted_actions() -> np.ndarray:
    return np.random.default_rng(0).uniform(-2.0, 2.0, size=(N_STEPS, N_ENVS, 1))  # inside the bounds: no clipping


def ours(per_step: bool) -> tuple[Rollout, RunningNormalizer]:
    envs = make_vector_env(ENV_ID, None, N_ENVS)
    space = space_info(envs.single_observation_space, envs.single_action_space)
    prior = VECNORMALIZE_INITIAL_COUNT if per_step else 0.0
    normalizer = RunningNormalizer(space.obs_dim, enabled=True, clip=10.0, initial_count=prior)
    scaler = ReturnScaler(N_ENVS, GAMMA, enabled=True, clip=10.0, initial_count=prior)
    collector = RolloutCollector(envs, space, normalizer, SEED, scaler, per_step_stats=per_step)
    batch = collector.collect(ScriptedActor(scripted_actions()), N_STEPS, np.random.default_rng(0))  # type: ignore[arg-type]
    envs.close()
    return batch, normalizer


def theirs() -> tuple[np.ndarray, np.ndarray, dict[tuple[int, int], np.ndarray], VecNormalize]:
    """VecNormalize's observations before each step, its scaled rewards, and its normalised final observations."""
    venv = DummyVecEnv([lambda: gym.make(ENV_ID) for _ in range(N_ENVS)])
    venv.seed(SEED)
    env = VecNormalize(venv, norm_obs=True, norm_reward=True, clip_obs=10.0, clip_reward=10.0, gamma=GAMMA)
    obs = env.reset()
    seen, rewards, finals = [], [], {}
    for t, action in enumerate(scripted_actions()):
        seen.append(obs)
        obs, reward, dones, infos = env.step(action)
        rewards.append(reward)
        for i in np.flatnonzero(dones):
            finals[(t, int(i))] = infos[i]["terminal_observation"]
    env.close()
    return np.array(seen), np.array(rewards), finals, env


def test_statistics_every_step_are_vecnormalizes() -> None:
    batch, normalizer = ours(per_step=True)
    seen, rewards, finals, env = theirs()

    assert sorted(finals) == [(t, i) for t in (199, 399) for i in range(N_ENVS)]  # both episodes truncated, twice
    assert np.flatnonzero(batch.done.any(axis=1)).tolist() == [199, 399]
    np.testing.assert_allclose(batch.obs, seen, rtol=1e-5, atol=1e-5)
    for (t, i), final in finals.items():
        np.testing.assert_allclose(batch.next_obs[t, i], final, rtol=1e-5, atol=1e-5)
    continuing = ~batch.done[:-1]  # a continuing episode's next observation is the one VecNormalize gave next
    np.testing.assert_allclose(batch.next_obs[:-1][continuing], seen[1:][continuing], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(batch.learning_rewards, rewards, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(normalizer.mean, env.obs_rms.mean, rtol=1e-6)  # theirs from float32 observations
    np.testing.assert_allclose(normalizer.var, env.obs_rms.var, rtol=1e-6)
    assert normalizer.count == env.obs_rms.count


def test_statistics_per_batch_differ_from_vecnormalizes() -> None:
    batch, _ = ours(per_step=False)
    seen, _, _, _ = theirs()
    assert np.abs(batch.obs - seen).max() > 1.0  # the first batch acts on raw observations
