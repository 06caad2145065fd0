"""How much of the trust region does each TRPO step use? A table from the trainer's own per-update metrics.

Why: the full step puts the quadratic model of the KL, damping λ included (√(2δ / xᵀ(F + λI)x)·x), at δ; the
actual KL of the step can be well below δ (the damping, and the KL's curvature falling off along the step), and the
line search then never has anything to cut. How far below is a property of a config on an environment, read here
from ``train/kl`` (the accepted step's mean KL), ``train/max_kl`` (δ), ``train/line_search_steps`` and
``train/step_accepted``: no instrumentation.

    python benchmarks/trust_region_usage.py --env Walker2d-v5 --steps 300000 --seeds 0 \\
        --variant zoo={} --variant 'damp006={"cg_damping": 0.06}'

Each variant is rl-zoo's entry for the env through ``config_from_sb3`` (as ``config_sweep.py`` builds them) plus
the variant's overrides, one torch thread, seeds one after another.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from config_sweep import parse_variant, variant_settings  # beside this script (also puts the repo on sys.path)

from trainer import steps_for_budget, train


def usage_row(metrics: list[dict]) -> dict[str, float]:
    """Per-run summary: KL/δ of the accepted steps, how often the line search cut the step, how often it gave up."""
    accepted = [m for m in metrics if m["train/step_accepted"]]
    ratios = np.array([m["train/kl"] / m["train/max_kl"] for m in accepted]) if accepted else np.array([np.nan])
    return {
        "updates": len(metrics),
        "kl_over_delta_mean": float(np.mean(ratios)),
        "kl_over_delta_p10": float(np.percentile(ratios, 10)),
        "kl_over_delta_p90": float(np.percentile(ratios, 90)),
        "backtracked": sum(1 for m in accepted if m["train/line_search_steps"] > 0) / len(metrics),
        "rejected": 1.0 - len(accepted) / len(metrics),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", required=True)
    p.add_argument("--steps", type=int, required=True, help="training budget per run")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument(
        "--variant", action="append", default=[], metavar="NAME=JSON", help="e.g. 'damp={\"cg_damping\": 0.06}'"
    )
    args = p.parse_args(argv)
    variants = [parse_variant(v) for v in (args.variant or ["zoo={}"])]
    shown = " ".join(f"--variant '{v}'" for v in args.variant or ["zoo={}"])
    seeds = " ".join(map(str, args.seeds))
    print(
        f"Command: python benchmarks/trust_region_usage.py --env {args.env} --steps {args.steps} "
        f"--seeds {seeds} {shown}"
    )
    print()
    print(
        "| Variant | Seed | δ (max_kl) | cg_damping | Updates | Mean KL/δ of accepted steps | 10th-90th pct "
        "| Backtracked | Rejected | Minutes |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, overrides in variants:
        config = variant_settings(args.env, overrides).ours
        for seed in args.seeds:
            t0 = time.perf_counter()
            result = train(config, args.env, total_steps=steps_for_budget(config, args.steps), seed=seed)
            row = usage_row(result.metrics)
            print(
                f"| {name} | {seed} | {config.max_kl:g} | {config.cg_damping:g} | {row['updates']} | "
                f"{row['kl_over_delta_mean']:.2f} | {row['kl_over_delta_p10']:.2f}-{row['kl_over_delta_p90']:.2f} | "
                f"{row['backtracked']:.0%} | {row['rejected']:.0%} | {(time.perf_counter() - t0) / 60:.1f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
