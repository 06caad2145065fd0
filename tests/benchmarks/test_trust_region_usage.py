"""benchmarks/trust_region_usage.py: the table of how much of the trust region each step used."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import trust_region_usage


def metric(kl: float, steps: int, accepted: bool) -> dict[str, float]:
    return {"train/kl": kl, "train/max_kl": 0.1, "train/line_search_steps": steps, "train/step_accepted": accepted}


def test_a_runs_row_reads_the_accepted_steps_kl_against_delta() -> None:
    row = trust_region_usage.usage_row([metric(0.05, 0, True), metric(0.09, 2, True), metric(0.0, 10, False)])
    assert row["updates"] == 3
    assert row["kl_over_delta_mean"] == pytest.approx(0.7), "(0.5 + 0.9) / 2: the rejected update has no step"
    assert row["backtracked"] == pytest.approx(1 / 3) and row["rejected"] == pytest.approx(1 / 3)


def test_it_prints_a_row_per_variant_and_seed_from_a_real_run(capsys: pytest.CaptureFixture[str]) -> None:
    trust_region_usage.main(["--env", "CartPole-v1", "--steps", "2048", "--seeds", "0", "--variant", "d={}"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| d | 0 |")]
    assert len(rows) == 1, out
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[4] == "2", "CartPole's rl-zoo batch is 2 envs × 512 steps: two updates in 2,048 steps"
    assert 0.0 < float(cells[5]) <= 1.0, "an accepted step stays inside the region"
