"""The config sweep (benchmarks/config_sweep.py): its variants, validation and resumable results file."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import config_sweep

from trainer.config import ConfigError


def test_a_variant_is_a_name_and_a_json_object_of_overrides() -> None:
    assert config_sweep.parse_variant('kl02={"max_kl": 0.02}') == ("kl02", {"max_kl": 0.02})
    assert config_sweep.parse_variant("zoo={}") == ("zoo", {})


@pytest.mark.parametrize(
    ("text", "message"),
    [("kl02", "expected NAME=JSON"), ("kl02={max_kl: 1}", "not JSON"), ("kl02=[1]", "must be a JSON object")],
)
def test_malformed_variants_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        config_sweep.parse_variant(text)


def test_overrides_apply_on_top_of_rl_zoos_settings() -> None:
    config = config_sweep.variant_settings("CartPole-v1", {"n_steps": 1024}).ours
    assert config.n_steps == 1024
    assert config.gae_lambda == 0.98 and config.cg_damping == 0.001, "the rest stays rl-zoo's"


def test_an_unknown_or_out_of_range_override_is_refused_before_any_run(tmp_path: Path, capsys) -> None:
    with pytest.raises(ConfigError, match="max_kll"):
        config_sweep.variant_settings("CartPole-v1", {"max_kll": 0.02})
    results = tmp_path / "runs.jsonl"
    code = config_sweep.main(
        ["--env", "CartPole-v1", "--variant", 'bad={"gamma": 2.0}', "--seeds", "0", "--json", str(results)]
    )
    assert code == 2
    assert "gamma" in capsys.readouterr().err
    assert not results.exists(), "nothing ran, nothing was written"


def test_summary_counts_the_seeds_that_meet_the_published_return() -> None:
    records = [
        {"variant": "a", "seed": s, "overrides": {}, "eval_mean": r, "accepted_fraction": 1.0}
        for s, r in [(0, 500.0), (1, 250.0), (2, 500.0)]
    ]
    table = config_sweep.summarise(records, ["a"], published=500.0)
    assert "2 of 3" in table
    assert "416.7 ± 117.9" in table


def test_summary_tells_runs_that_fall_from_runs_that_learned_a_slow_gait() -> None:
    steady_fast, steady_slow = [3600.0] * 10, [3300.0] * 10
    falls_once = [3600.0] * 9 + [1200.0]
    records = [
        {"variant": "a", "seed": s, "overrides": {}, "eval_mean": float(np.mean(e)), "eval_returns": e}
        for s, e in enumerate([steady_fast, steady_slow, falls_once])
    ]
    row = config_sweep.summarise(records, ["a"], published=3618.0).splitlines()[2]
    assert "Runs with a fall" in config_sweep.summarise(records, ["a"], published=3618.0)
    assert "| 1 of 3 |" in row, "only the run with an episode under 80% of its median falls"
    del records[2]["eval_returns"]
    assert "| n/a |" in config_sweep.summarise(records, ["a"], published=3618.0)


def test_runs_are_recorded_as_they_end_and_not_repeated(tmp_path: Path) -> None:
    results = tmp_path / "runs.jsonl"
    argv = ["--env", "CartPole-v1", "--variant", "zoo={}", "--seeds", "0", "--budget", "2048", "--json", str(results)]
    assert config_sweep.main(argv) == 0
    first = [json.loads(line) for line in results.read_text().splitlines()]
    assert [(r["variant"], r["seed"], r["budget"], r["steps"]) for r in first] == [("zoo", 0, 2048, 2048)]
    assert len(first[0]["eval_returns"]) == 10
    assert [steps for steps, _ in first[0]["rollout_curve"]] == [1024, 2048], "one point per update here"
    assert first[0]["provenance"]["cpu_capability"], "where it ran is recorded with the run"
    assert config_sweep.main(argv) == 0
    assert results.read_text().splitlines() == [json.dumps(first[0])], "the second call reused the recorded run"


def test_count_above_counts_a_good_mode_and_tests_it_exactly() -> None:
    """Swimmer-style bimodal outcomes: 9 of 10 seeds in the fast mode against 4 of 10.

    The two-sided Fisher p is worked out here from the hypergeometric distribution (13 hits among 20 runs, 10 per
    variant): the sum of the probabilities of every split at most as likely as the observed one.
    """
    fast, slow = 355.0, 130.0
    records = [
        {"variant": name, "seed": s, "overrides": {}, "eval_mean": fast if s < hits else slow}
        for name, hits in [("zoo", 4), ("lam", 9)]
        for s in range(10)
    ]
    table = config_sweep.summarise(records, ["zoo", "lam"], published=366.0, count_above=250.0)
    assert "Seeds ≥ 250 (Fisher p vs zoo)" in table
    split = [math.comb(13, k) * math.comb(7, 10 - k) / math.comb(20, 10) for k in range(3, 11)]
    observed = math.comb(13, 9) * math.comb(7, 1) / math.comb(20, 10)
    p = sum(q for q in split if q <= observed * (1 + 1e-9))
    assert config_sweep.fisher_exact_p(9, 10, 4, 10) == pytest.approx(p)
    zoo_row, lam_row = table.splitlines()[2:4]
    assert zoo_row.endswith("| 4 of 10 |")
    assert lam_row.endswith(f"| 9 of 10 (p = {p:.2g}) |")
    assert "| 0 of 10 |" in lam_row, "none reach the published 366"


def test_runs_start_seed_by_seed_so_a_sweep_cut_short_compares_variants_on_the_same_seeds() -> None:
    variants = {"zoo": {}, "kl02": {"max_kl": 0.02}}
    order = [(name, seed) for name, _, seed in config_sweep.planned_runs(variants, [5, 3]).values()]
    assert order == [("zoo", 5), ("kl02", 5), ("zoo", 3), ("kl02", 3)]
