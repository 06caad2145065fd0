"""Swimmer-v5 investigation: how often each library reaches the ~350 gait instead of the ~140 one, by normalisation.

Swimmer's learning curves are bimodal (a run either finds the fast gait, ~300-360, or settles at ~100-150), so a
mean over 3 seeds says little; this script prints every seed's final evaluation for a list of variants:

- ``ours-both`` / ``ours-obs`` / ``ours-none``: our trainer with rl-zoo's Swimmer settings and observation+reward,
  observation-only, or no normalisation, the statistics updated once per batch;
- ``ours-per-step-both``: ``ours-both`` with the statistics updated after every env step as sb3's VecNormalize does
  (``TRPOConfig.normalize_every_step``, which ``config_from_sb3`` sets; until 2026-11-29 16:30 an ad hoc collector in
  this script, and an ``ours-per-step-obs`` variant with per-step observation statistics only);
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
import time

import torch
import trpo_vs_sb3  # beside this script; importing it also puts the repository root on sys.path

from trainer.config import TRPOConfig

ENV_ID = "Swimmer-v5"
EVAL_EPISODES, EVAL_SEED = 5, 10_000
VARIANTS = ("ours-both", "ours-obs", "ours-none", "ours-per-step-both", "sb3-both", "sb3-none")


def variant_settings(variant: str, env_id: str = ENV_ID, kl_per_action_dim: bool = False) -> trpo_vs_sb3.Settings:
    """rl-zoo's settings with the variant's normalisation (``normalize`` is what sb3-contrib's run reads).

    gSDE stays off and the KL is copied unless ``kl_per_action_dim`` (as the investigation's table was measured);
    with it, ours gets sb3-contrib's per-action-dimension trust region (sb3-contrib's own run is the same either way).
    """
    settings = trpo_vs_sb3.zoo_settings(env_id, gsde=False, kl_per_action_dim=kl_per_action_dim)
    obs, rew = {"ours-obs": (True, False), "ours-none": (False, False), "sb3-none": (False, False)}.get(
        variant, (True, True)
    )
    per_step = variant == "ours-per-step-both"
    ours = TRPOConfig.from_dict(
        {
            **settings.ours.to_dict(),
            "normalize_observations": obs,
            "normalize_rewards": rew,
            "normalize_every_step": per_step,
        }
    )
    return dataclasses.replace(settings, ours=ours, normalize=obs and rew)


def run(variant: str, seed: int, steps: int, env_id: str = ENV_ID, kl_per_action_dim: bool = False) -> float:
    """One training run and its mean evaluation return, through the matched benchmark's own run functions."""
    settings = variant_settings(variant, env_id, kl_per_action_dim)
    if variant.startswith("sb3"):
        return trpo_vs_sb3.run_sb3(settings, steps, seed, eval_episodes=EVAL_EPISODES, eval_seed=EVAL_SEED).eval_mean
    return trpo_vs_sb3.run_ours(settings, steps, seed, eval_episodes=EVAL_EPISODES, eval_seed=EVAL_SEED).eval_mean


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
