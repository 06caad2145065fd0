"""Config sweep: our trainer on one environment, rl-zoo's settings with overrides, many seeds, in parallel.

Why: the matched benchmark (``trpo_vs_sb3.py``) holds both libraries to rl-zoo's hyperparameters, and there one
update and the statistics are tested equal to sb3-contrib's, so its means over seeds can only tie sb3-contrib's.
Whether *another* TRPO config meets a published single run as a mean over seeds is the question Trustboard exists
to answer; this script answers it honestly: every variant is rl-zoo's entry (through ``config_from_sb3``, as in the
matched benchmark) plus explicit overrides of ``TRPOConfig`` fields, every seed's final evaluation is printed, and
configs are chosen on one set of seeds (``--seeds``) and then reported on seeds they were not chosen on.

    python benchmarks/config_sweep.py --env CartPole-v1 --seeds 0 1 2 3 --jobs 2 \\
        --variant zoo={} --variant 'kl02={"max_kl": 0.02}' --json var/bench/sweep_cartpole.jsonl

Each run: ``trainer.train`` with one torch thread at rl-zoo's budget for the env (``--budget`` to change it), then
the matched benchmark's evaluation (10 deterministic episodes, episode seeds 1,000,000 + i). ``--jobs`` runs that
many seeds at once, one process each (use at most the number of cores; steps/s then shares the machine and is not a
speed benchmark). Results are appended to ``--json`` (one JSON object per line) as each run ends, so a long sweep
can be cut short and resumed: runs already in the file are not repeated, and runs start seed by seed (every variant
of a seed before the next), so a sweep cut short has compared its variants on the same seeds.

Where outcomes are bimodal (Swimmer-v5 finds a fast gait or settles into a slow one), a mean over ten seeds mostly
counts how many runs landed in the good mode: ``--count-above X`` adds how many seeds of each variant reach X, and
Fisher's exact test of that count against the first variant's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing as mp
import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import trpo_vs_sb3  # beside this script; importing it also puts the repository root on sys.path
from markdown_sections import write_section
from scipy.stats import fisher_exact

from leaderboard.stats import bootstrap_mean, probability_of_improvement
from trainer import steps_for_budget
from trainer.config import ConfigError, TRPOConfig


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """``NAME=JSON-object`` -> (name, overrides); the overrides are checked later against TRPOConfig."""
    name, sep, payload = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"variant {text!r}: expected NAME=JSON, e.g. 'kl02={{\"max_kl\": 0.02}}'")
    try:
        overrides = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"variant {name!r}: overrides are not JSON ({exc})") from None
    if not isinstance(overrides, dict):
        raise argparse.ArgumentTypeError(f"variant {name!r}: overrides must be a JSON object")
    return name, overrides


def published_budget(env_id: str) -> int:
    """The budget of rl-zoo's published single run: its entry's ``n_timesteps`` (the matched benchmark shortens
    MuJoCo's to 200k for speed)."""
    return int(trpo_vs_sb3.ZOO_HYPERPARAMS[env_id]["n_timesteps"])


def variant_settings(env_id: str, overrides: dict[str, Any]) -> trpo_vs_sb3.Settings:
    """rl-zoo's entry for ``env_id`` as the matched benchmark translates it, with ``overrides`` applied to ours.

    Validation is ``TRPOConfig.from_dict``'s, so a misspelt field or an out-of-range value stops the sweep before
    any run with the field's own message.
    """
    settings = trpo_vs_sb3.zoo_settings(env_id)
    ours = TRPOConfig.from_dict({**settings.ours.to_dict(), **overrides})
    return dataclasses.replace(settings, ours=ours)


def run_one(job: tuple[str, str, dict[str, Any], int, int]) -> dict[str, Any]:
    """One training run and its evaluation (in a worker process)."""
    env_id, variant, overrides, seed, budget = job
    settings = variant_settings(env_id, overrides)
    steps = steps_for_budget(settings.ours, budget)
    result = trpo_vs_sb3.run_ours(settings, steps, seed)
    return {
        "env_id": env_id,
        "variant": variant,
        "overrides": overrides,
        "seed": seed,
        "budget": budget,
        "steps": result.steps,
        "train_s": result.train_s,
        "eval_returns": result.eval_returns,
        "eval_mean": result.eval_mean,
        "accepted_fraction": result.extra.get("accepted_fraction"),
        "rollout_curve": result.extra.get("rollout_curve"),
        "provenance": run_provenance(),
    }


def run_provenance() -> dict[str, str]:
    """When, where and with which trainer a run was measured: our seeds repeat bit for bit only per CPU kind."""
    info = trpo_vs_sb3.environment_info(threads=1)
    return {k: info[k] for k in ("date_utc", "cpu", "cpu_capability", "torch", "gymnasium", "mujoco", "trainer")}


def run_key(variant: str, overrides: dict[str, Any], seed: int) -> tuple[str, str, int]:
    """What makes two runs the same run (with the env and budget): a renamed or edited variant is a new one."""
    return variant, json.dumps(overrides, sort_keys=True), seed


def planned_runs(
    variants: dict[str, dict[str, Any]], seeds: list[int]
) -> dict[tuple[str, str, int], tuple[str, dict[str, Any], int]]:
    """Every (variant, seed) run in the order they start: seed by seed, all variants of a seed before the next.

    Why this order: runs are long (minutes at 1M steps) and a sweep may be cut short; stopped at any point, it has
    compared the variants on the same seeds, not finished one variant and barely started the next.
    """
    return {
        run_key(name, overrides, seed): (name, overrides, seed)
        for seed in seeds
        for name, overrides in variants.items()
    }


def run_in_processes(jobs: list[tuple[str, str, dict[str, Any], int, int]], processes: int) -> Iterator[dict[str, Any]]:
    """Each job's record as it ends; no processes are started when every run is already recorded."""
    if not jobs:
        return
    ctx = mp.get_context("spawn")  # fresh interpreters: no torch state shared with the parent
    with ctx.Pool(processes, maxtasksperchild=1) as pool:
        yield from pool.imap_unordered(run_one, jobs)


def load_done(path: Path | None) -> list[dict[str, Any]]:
    """Runs already recorded in the JSON-lines file (none if it does not exist)."""
    if path is None or not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def fisher_exact_p(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float:
    """Two-sided p-value of Fisher's exact test that two variants reach a threshold equally often.

    Why Fisher's and not a z-test: with ten or twenty seeds per variant the counts are small, and the exact test
    stays valid there (it is conservative rather than optimistic).
    """
    table = [[hits_a, n_a - hits_a], [hits_b, n_b - hits_b]]
    return float(fisher_exact(table, alternative="two-sided").pvalue)


FALL_FRACTION = 0.8


def runs_with_a_fall(rows: list[dict[str, Any]]) -> str:
    """How many runs have an evaluation episode below 80% of the run's own median episode, e.g. ``3 of 16``.

    Why: a run's mean over its episodes mixes two failures that call for different fixes: a policy that falls in
    some episodes (its episodes disagree) and one that learned a slow gait (its episodes agree on a low return).
    This count tells them apart at a glance; runs recorded without their episodes make it ``n/a``.
    """
    episodes = [r.get("eval_returns") for r in rows]
    if not all(episodes):
        return "n/a"
    falls = sum(1 for e in episodes if min(e) < FALL_FRACTION * float(np.median(e)))
    return f"{falls} of {len(rows)}"


def summarise(
    records: list[dict[str, Any]], variants: list[str], published: float | None, count_above: float | None = None
) -> str:
    """One Markdown row per variant: every seed's return, the mean with its bootstrap CI, how many seeds meet the
    published run, how many runs lose an evaluation episode to a fall (:func:`runs_with_a_fall`), and the
    probability that a run of this variant beats a run of the first one; with ``count_above``, also how many seeds
    reach that return and Fisher's exact test of that count against the first variant's.

    The estimators are the leaderboard's own (``leaderboard.stats``): with a handful of seeds a difference of means
    alone says little, and the interval shows how little.
    """
    threshold_header = f" Seeds ≥ {count_above:g} (Fisher p vs {variants[0]}) |" if count_above is not None else ""
    lines = [
        "| Variant | Overrides of rl-zoo's settings | Seeds | Return per seed | Mean ± std | Mean, 95% CI | Median | "
        f"Seeds ≥ published | Runs with a fall | P(run beats a run of {variants[0]}) |{threshold_header}",
        "|---|---|---|---|---|---|---|---|---|---|" + ("---|" if count_above is not None else ""),
    ]
    baseline = np.array([r["eval_mean"] for r in records if r["variant"] == variants[0]])
    baseline_hits = int((baseline >= count_above).sum()) if count_above is not None else 0
    for variant in variants:
        rows = sorted((r for r in records if r["variant"] == variant), key=lambda r: r["seed"])
        if not rows:
            continue
        returns = np.array([r["eval_mean"] for r in rows])
        meets = f"{int((returns >= published).sum())} of {len(rows)}" if published is not None else "n/a"
        per_seed = ", ".join(f"{r['seed']}: {r['eval_mean']:,.1f}" for r in rows)
        ci = bootstrap_mean(returns)
        versus = "(baseline)"
        if variant != variants[0] and baseline.size:
            p = probability_of_improvement([returns], [baseline])
            versus = f"{p.value:.2f} [{p.low:.2f}, {p.high:.2f}]"
        threshold_cell = ""
        if count_above is not None:
            hits = int((returns >= count_above).sum())
            test = ""
            if variant != variants[0] and baseline.size:
                test = f" (p = {fisher_exact_p(hits, len(rows), baseline_hits, baseline.size):.2g})"
            threshold_cell = f" {hits} of {len(rows)}{test} |"
        lines.append(
            f"| {variant} | `{json.dumps(rows[0]['overrides'])}` | {len(rows)} | {per_seed} | "
            f"{returns.mean():,.1f} ± {returns.std():,.1f} | {ci.value:,.1f} [{ci.low:,.1f}, {ci.high:,.1f}] | "
            f"{np.median(returns):,.1f} | {meets} | {runs_with_a_fall(rows)} | {versus} |{threshold_cell}"
        )
    return "\n".join(lines) + "\n"


def provenance_line(records: list[dict[str, Any]]) -> str:
    """Where and when the runs in a table were measured, from each run's own record."""
    provenances = [r.get("provenance") or {} for r in records]
    dates = sorted(p["date_utc"] for p in provenances if "date_utc" in p)
    setups = sorted(
        {
            f"{p['cpu']} ({p['cpu_capability']}), torch {p['torch']}, gymnasium {p['gymnasium']}, "
            f"mujoco {p['mujoco']}, trainer at {p['trainer']}"
            for p in provenances
            if "cpu" in p
        }
    )
    unknown = sum(1 for p in provenances if "cpu" not in p)
    if not dates:
        return "Measured on: unrecorded."
    when = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    line = f"Measured {when} on: {'; '.join(setups)}."
    return line + (f" ({unknown} runs recorded no provenance.)" if unknown else "")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--env", required=True, choices=list(trpo_vs_sb3.ENVS))
    p.add_argument(
        "--variant",
        action="append",
        type=parse_variant,
        required=True,
        metavar="NAME=JSON",
        help="a config to try: rl-zoo's settings plus these TRPOConfig overrides ('zoo={}' is rl-zoo's alone)",
    )
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3])
    p.add_argument("--budget", type=positive_int, default=None, help="environment steps (default: the published one)")
    p.add_argument("--jobs", type=positive_int, default=1, help="runs at once, one process each (at most the cores)")
    p.add_argument("--json", type=Path, default=None, help="JSON-lines file: results are appended and reused")
    p.add_argument("--out", type=Path, default=None, help="also write the table as a section of this Markdown file")
    p.add_argument("--heading", default=None, help="the section of --out to write (replaced if present)")
    p.add_argument(
        "--count-above",
        type=float,
        default=None,
        metavar="RETURN",
        help="also count the seeds reaching this return, with Fisher's exact test against the first variant",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    variants = dict(args.variant)
    try:
        for overrides in variants.values():
            variant_settings(args.env, overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    budget = args.budget or published_budget(args.env)
    done = [r for r in load_done(args.json) if r["env_id"] == args.env and r.get("budget") == budget]
    wanted = planned_runs(variants, args.seeds)
    records = [r for r in done if run_key(r["variant"], r["overrides"], r["seed"]) in wanted]
    recorded = {run_key(r["variant"], r["overrides"], r["seed"]) for r in records}
    jobs = [(args.env, *run, budget) for key, run in wanted.items() if key not in recorded]
    print(f"{args.env}: {len(jobs)} runs to do ({len(records)} already in {args.json}), {args.jobs} at a time")
    t0 = time.perf_counter()
    for record in run_in_processes(jobs, args.jobs):
        records.append(record)
        print(f"  {record['variant']} seed {record['seed']}: {record['eval_mean']:,.1f} ({record['train_s']:.0f} s)")
        if args.json is not None:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            with args.json.open("a") as f:
                f.write(json.dumps(record) + "\n")
    published = trpo_vs_sb3.ENVS[args.env].published
    table = summarise(records, list(variants), published, args.count_above)
    print(table)
    if args.out is not None:
        heading = args.heading or f"## Config sweep: {args.env}"
        command = "python benchmarks/config_sweep.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
        section = (
            f"{heading}\n\nCommand: `{command}`  \nBudget: {budget:,} steps; published rl-zoo single run: "
            f"{published}; {len(jobs)} runs measured by this call in {(time.perf_counter() - t0) / 60:.1f} min with "
            f"{args.jobs} job(s), {len(records) - len(jobs)} taken from `{args.json}`. One torch thread per run; "
            f"{trpo_vs_sb3.EVAL_EPISODES} deterministic evaluation episodes per run, episode seeds "
            f"{trpo_vs_sb3.EVAL_SEED:,} + i.  \n"
            f"{provenance_line(records)}\n\n{table}"
        )
        write_section(args.out, heading, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
