"""The CPU-vs-GPU benchmark (benchmarks/device_throughput.py): what it times and what it writes."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import device_throughput

import trainer.rollout


def test_an_update_splits_into_collection_and_update_and_the_first_is_not_counted() -> None:
    m = device_throughput.measure("CartPole-v1:zoo", "cpu", threads=1, updates=3, seed=0)
    assert len(m.update_times) == len(m.collect_times) == 3
    assert all(c < u for c, u in zip(m.collect_times, m.update_times, strict=True)), "collection is part of an update"
    assert m.seconds_per_update == pytest.approx(sum(m.update_times[1:]) / 2)
    assert m.collect_s + m.update_s == pytest.approx(m.seconds_per_update)
    assert m.steps_per_s == pytest.approx(1024 / m.seconds_per_update), "rl-zoo's CartPole batch is 2 × 512"


def test_the_collection_timer_is_removed_afterwards() -> None:
    original = trainer.rollout.RolloutCollector.collect
    with device_throughput.timed_collection([]):
        assert trainer.rollout.RolloutCollector.collect is not original
    assert trainer.rollout.RolloutCollector.collect is original


def test_it_writes_its_section_and_leaves_cuda_out_without_a_gpu(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n## Another section\n\nkept\n")
    argv = ["--cases", "CartPole-v1:zoo", "--updates", "2", "--out", str(out)]
    assert device_throughput.main(argv) == 0
    text = out.read_text()
    assert "## Another section\n\nkept" in text
    assert device_throughput.SECTION_HEADING in text and "--cases CartPole-v1:zoo" in text
    rows = [line for line in text.splitlines() if line.startswith("| CartPole-v1:zoo")]
    devices = [row.split("|")[3].strip() for row in rows]
    assert devices == (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    assert re.search(r"\| cpu \| 1 \| [\d,]+ \| [\d.]+ \| [\d.]+ \| 1\.00× \|", rows[0]), rows[0]


def test_one_update_is_refused_since_the_first_is_not_counted() -> None:
    with pytest.raises(SystemExit, match="at least 2"):
        device_throughput.main(["--cases", "CartPole-v1:zoo", "--updates", "1", "--no-write"])
