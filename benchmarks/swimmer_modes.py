"""Swimmer-v5 investigation: how often each library reaches the ~350 gait instead of the ~140 one, by normalisation.

Swimmer's learning curves are bimodal (a run either finds the fast gait, ~300-360, or settles at ~100-150), so a
mean over 3 seeds says little; this script prints every seed's final evaluation for a list of variants:

- ``ours-both`` / ``ours-obs`` / ``ours-none``: our trainer with rl-zoo's Swimmer settings and observation+reward,
  observation-only, or no normalisation;
- ``ours-per-step-obs``: ``ours-both`` with VecNormalize-like observation statistics (updated after every env step,
  each observation stored as the policy saw it) through a collector defined here, not in ``trainer/``;
- ``ours-per-step-both``: the same, and the reward scale too updated every step (VecNormalize's ``ret_rms``: starts
  at variance 1 with count 1e-4, each reward divided by the std of the discounted returns so far);
- ``sb3-both`` / ``sb3-none``: sb3-contrib's TRPO with or without ``VecNormalize(norm_obs, norm_reward)``.

    python benchmarks/swimmer_modes.py --variants ours-both sb3-both --seeds 0 1 --steps 300000

``--kl-per-action-dim`` gives ours sb3-contrib's trust region (max_kl and cg_damping × 2 on Swimmer, as
``trpo_vs_sb3.py`` does by default); without it the KL is copied, as the investigation's first table was measured.

Each run evaluates 5 deterministic episodes with episode seeds 10,000 + i. One torch thread. ``--env`` runs the same
variants on another environment of the matched benchmark (with its rl-zoo settings), e.g. HalfCheetah-v5.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from typing import Any

import numpy as np
import torch
import trpo_vs_sb3  # beside this script; importing it also puts the repository root on sys.path

from trainer import rollout
from trainer.config import TRPOConfig
from trainer.normalizer import RunningNormalizer

ENV_ID = "Swimmer-v5"
EVAL_EPISODES, EVAL_SEED = 5, 10_000
VARIANTS = ("ours-both", "ours-obs", "ours-none", "ours-per-step-obs", "ours-per-step-both", "sb3-both", "sb3-none")


class PerStepObsCollector(rollout.RolloutCollector):
    """Updates the observation statistics after every env step, as VecNormalize does (experiment only)."""

    def collect(self, actor: Any, n_steps: int, rng: np.random.Generator) -> rollout.Rollout:
        norm = self.normalizer
        update = type(norm).update.__get__(norm)
        norm.update = lambda batch: None  # the training loop's once-per-batch update is replaced by the one below
        n, d = self.n_envs, self.space.obs_dim
        obs_seen = np.empty((n_steps, n, d), np.float32)
        next_seen = np.empty_like(obs_seen)
        raw = np.empty((n_steps, n, d))
        actions = np.empty((n_steps, n, self.space.act_dim))
        rewards = np.empty((n_steps, n))
        terminated = np.empty((n_steps, n), bool)
        done = np.empty((n_steps, n), bool)
        obs = self.raw_obs
        if norm.count == 0:
            update(obs)
        for t in range(n_steps):
            raw[t] = obs
            obs_seen[t] = norm(obs)
            actions[t] = actor.act(obs_seen[t], rng, deterministic=False)
            obs, rewards[t], terminated[t], truncated, info = self.envs.step(np.clip(actions[t], self.low, self.high))
            done[t] = terminated[t] | truncated
            next_raw = obs.copy()
            for i in np.flatnonzero(info.get("_final_obs", np.zeros(n, bool))):
                next_raw[i] = info["final_obs"][i]
            update(obs)
            next_seen[t] = norm(next_raw)
        self.raw_obs = obs
        self._record_episodes(rewards, done)
        learning = self.reward_scaler(rewards, done)
        return rollout.Rollout(obs_seen, next_seen, actions, rewards, learning, terminated, done, raw)


class PerStepBothCollector(PerStepObsCollector):
    """Also scales rewards by statistics updated every step, as VecNormalize's ``norm_reward`` does (experiment)."""

    def collect(self, actor: Any, n_steps: int, rng: np.random.Generator) -> rollout.Rollout:
        if not hasattr(self, "return_stats"):
            self.return_stats = RunningNormalizer(1, enabled=True)
            self.return_stats.count = 1e-4  # VecNormalize's RunningMeanStd: mean 0, variance 1, count 1e-4
            self.discounted = np.zeros(self.n_envs)
        batch = super().collect(actor, n_steps, rng)
        learning = np.empty_like(batch.rewards)
        for t in range(n_steps):
            self.discounted = self.discounted * self.reward_scaler.gamma + batch.rewards[t]
            self.return_stats.update(self.discounted.reshape(-1, 1))
            scale = np.sqrt(self.return_stats.var[0] + 1e-8)
            learning[t] = np.clip(batch.rewards[t] / scale, -self.reward_scaler.clip, self.reward_scaler.clip)
            self.discounted[batch.done[t]] = 0.0
        return batch._replace(learning_rewards=learning)


PER_STEP_COLLECTORS: dict[str, type[rollout.RolloutCollector]] = {
    "ours-per-step-obs": PerStepObsCollector,
    "ours-per-step-both": PerStepBothCollector,
}


def variant_settings(variant: str, env_id: str = ENV_ID, kl_per_action_dim: bool = False) -> trpo_vs_sb3.Settings:
    """rl-zoo's settings with the variant's normalisation (``normalize`` is what sb3-contrib's run reads).

    gSDE stays off and the KL is copied unless ``kl_per_action_dim`` (as the investigation's table was measured);
    with it, ours gets sb3-contrib's per-action-dimension trust region (sb3-contrib's own run is the same either way).
    """
    settings = trpo_vs_sb3.zoo_settings(env_id, gsde=False, kl_per_action_dim=kl_per_action_dim)
    obs, rew = {"ours-obs": (True, False), "ours-none": (False, False), "sb3-none": (False, False)}.get(
        variant, (True, True)
    )
    ours = TRPOConfig.from_dict({**settings.ours.to_dict(), "normalize_observations": obs, "normalize_rewards": rew})
    return dataclasses.replace(settings, ours=ours, normalize=obs and rew)


def run(variant: str, seed: int, steps: int, env_id: str = ENV_ID, kl_per_action_dim: bool = False) -> float:
    """One training run and its mean evaluation return, through the matched benchmark's own run functions."""
    settings = variant_settings(variant, env_id, kl_per_action_dim)
    if variant.startswith("sb3"):
        return trpo_vs_sb3.run_sb3(settings, steps, seed, eval_episodes=EVAL_EPISODES, eval_seed=EVAL_SEED).eval_mean
    train_module = sys.modules["trainer.train"]
    original = train_module.RolloutCollector  # type: ignore[attr-defined]
    if variant in PER_STEP_COLLECTORS:
        train_module.RolloutCollector = PER_STEP_COLLECTORS[variant]  # type: ignore[attr-defined]
    try:
        return trpo_vs_sb3.run_ours(settings, steps, seed, eval_episodes=EVAL_EPISODES, eval_seed=EVAL_SEED).eval_mean
    finally:
        train_module.RolloutCollector = original  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3])
    parser.add_argument("--steps", type=int, default=300_000)
    parser.add_argument("--env", default=ENV_ID, choices=list(trpo_vs_sb3.ENVS))
    parser.add_argument(
        "--kl-per-action-dim",
        action="store_true",
        help="give ours sb3-contrib's per-action-dimension trust region (max_kl and cg_damping × action dims)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    for variant in args.variants:
        for seed in args.seeds:
            t0 = time.perf_counter()
            ret = run(variant, seed, args.steps, args.env, args.kl_per_action_dim)
            row = {
                "env": args.env,
                "variant": variant,
                "kl_per_action_dim": args.kl_per_action_dim,
                "seed": seed,
                "eval": round(ret, 1),
                "s": round(time.perf_counter() - t0),
            }
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
