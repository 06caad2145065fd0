"""Benchmark: where a TRPO run is faster, on the CPU or on a CUDA GPU, and why.

The trainer steps environments with a NumPy copy of the policy on the CPU whatever ``device`` says; only the update
(surrogate gradient, conjugate gradient on Fisher-vector products, line search, value regression) runs on the
device. So a GPU can only shorten the update, and only when the update's tensors are big enough to beat the cost
of launching kernels and copying the batch over. This script measures that split for each case and device:

- ``zoo`` cases: rl-baselines3-zoo's TRPO settings (as in ``trpo_vs_sb3.py``), the configs people actually run;
- ``wide`` cases: 256-256 policy and value networks and a 16,384-step batch, where the update dominates.

For every (case, device) it trains ``--updates`` updates and reports steps/s and the seconds per update spent
collecting the batch and updating on it, counted from the second update (the first pays for CUDA's start-up and
kernel loading). CUDA rows are left out, with a note, where torch sees no GPU.

Usage (from the repository root)::

    python benchmarks/device_throughput.py                                  # every case; writes BENCHMARKS.md
    python benchmarks/device_throughput.py --cases CartPole-v1:zoo --updates 3 --out /tmp/b.md

The table goes to stdout and, under ``## CPU vs GPU: where the trust-region update runs``, into ``--out``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # trpo_vs_sb3 (settings); it adds the repo root itself

import gymnasium as gym
import numpy as np
import torch
from markdown_sections import BENCHMARKS_MD, write_section
from trpo_vs_sb3 import cpu_model, zoo_settings

import trainer
from trainer import TRPOConfig

SECTION_HEADING = "## CPU vs GPU: where the trust-region update runs"
rollout_mod = importlib.import_module("trainer.rollout")

# The update's work grows with batch × network width; these make it dominate the run.
WIDE: dict[str, Any] = {
    "hidden_sizes": (256, 256),
    "value_hidden_sizes": (256, 256),
    "n_envs": 16,
    "n_steps": 1024,
    "value_minibatch_size": 1024,
}
CASES: dict[str, Callable[[], tuple[str, TRPOConfig]]] = {
    "CartPole-v1:zoo": lambda: ("CartPole-v1", zoo_settings("CartPole-v1").ours),
    "Pendulum-v1:zoo": lambda: ("Pendulum-v1", zoo_settings("Pendulum-v1").ours),
    "Hopper-v5:zoo": lambda: ("Hopper-v5", zoo_settings("Hopper-v5").ours),
    "HalfCheetah-v5:zoo": lambda: ("HalfCheetah-v5", zoo_settings("HalfCheetah-v5").ours),
    "Hopper-v5:wide": lambda: ("Hopper-v5", dataclasses.replace(zoo_settings("Hopper-v5").ours, **WIDE)),
    "HalfCheetah-v5:wide": lambda: ("HalfCheetah-v5", dataclasses.replace(zoo_settings("HalfCheetah-v5").ours, **WIDE)),
}


@dataclass(frozen=True)
class Measurement:
    """One (case, device) training run, timed per update."""

    case: str
    device: str
    threads: int
    batch: int
    setup: str  # batch shape and networks, for the table
    update_times: list[float]  # wall clock of each update, collection included
    collect_times: list[float]  # the collection part of each update
    device_name: str

    def _steady(self, xs: list[float]) -> float:
        tail = xs[1:] or xs  # the first update pays for start-up
        return float(np.mean(tail))

    @property
    def seconds_per_update(self) -> float:
        return self._steady(self.update_times)

    @property
    def collect_s(self) -> float:
        return self._steady(self.collect_times)

    @property
    def update_s(self) -> float:
        return self.seconds_per_update - self.collect_s

    @property
    def steps_per_s(self) -> float:
        return self.batch / self.seconds_per_update


@contextmanager
def timed_collection(sink: list[float]) -> Iterator[None]:
    """Record how long each ``RolloutCollector.collect`` takes (the rest of an update is the update proper)."""
    original = rollout_mod.RolloutCollector.collect

    def collect(self: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            sink.append(time.perf_counter() - t0)

    rollout_mod.RolloutCollector.collect = collect  # type: ignore[method-assign]
    try:
        yield
    finally:
        rollout_mod.RolloutCollector.collect = original  # type: ignore[method-assign]


def measure(case: str, device: str, threads: int, updates: int, seed: int) -> Measurement:
    env_id, base = CASES[case]()
    config = dataclasses.replace(base, device=device, torch_threads=threads)
    marks: list[float] = []
    collects: list[float] = []

    def on_update(_metrics: dict[str, Any]) -> None:
        if device == "cuda":
            torch.cuda.synchronize()  # the update's kernels are done before its time is read
        marks.append(time.perf_counter())

    with timed_collection(collects):
        start = time.perf_counter()
        trainer.train(config, env_id, total_steps=updates * config.batch_size, seed=seed, on_update=on_update)
    update_times = list(np.diff([start, *marks]))
    name = torch.cuda.get_device_name(0) if device == "cuda" else cpu_model()
    return Measurement(case, device, threads, config.batch_size, describe(config), update_times, collects, name)


def describe(config: TRPOConfig) -> str:
    nets = "-".join(map(str, config.hidden_sizes)) + " / " + "-".join(map(str, config.value_hidden_sizes))
    value = f"value {config.value_epochs} epochs of {config.value_minibatch_size}"
    return f"{config.n_envs}×{config.n_steps}, nets {nets}, {value}"


def table(results: list[Measurement]) -> str:
    """Markdown rows; the GPU's update speed-up is against the 1-thread CPU row of the same case."""
    cpu1 = {r.case: r for r in results if r.device == "cpu" and r.threads == 1}
    head = (
        "| case | batch, networks | device | torch threads | steps/s | collect s/update | update s/update "
        "| update speed-up vs CPU 1 thread |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n"
    )
    rows = []
    for r in results:
        base = cpu1.get(r.case)
        speedup = f"{base.update_s / r.update_s:.2f}×" if base is not None and r.update_s > 0 else "-"
        rows.append(
            f"| {r.case} | {r.setup} | {r.device} | {r.threads} | {r.steps_per_s:,.0f} | {r.collect_s:.3f} "
            f"| {r.update_s:.3f} | {speedup} |"
        )
    return head + "\n".join(rows) + "\n"


def machine_line(results: list[Measurement], threads: list[int]) -> str:
    gpu = next((r.device_name for r in results if r.device == "cuda"), None)
    return (
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}; CPU: {cpu_model()} ({os.cpu_count()} cores); "
        f"GPU: {gpu or 'none (CUDA rows left out)'}; Python {platform.python_version()}, torch {torch.__version__}, "
        f"gymnasium {gym.__version__}, NumPy {np.__version__}; CPU rows with torch threads {threads}"
    )


def render(results: list[Measurement], argv: list[str], threads: list[int]) -> str:
    command = "python benchmarks/device_throughput.py " + " ".join(shlex.quote(a) for a in argv)
    return (
        f"{SECTION_HEADING}\n\n"
        f"Command: `{command.strip()}`\n\n"
        f"Measured: {machine_line(results, threads)}.\n\n"
        "Environments are stepped on the CPU by a NumPy copy of the policy whatever the device; only the update "
        "(surrogate gradient, conjugate gradient with Fisher-vector products, line search, value regression) moves. "
        "Seconds per update are the mean over updates 2 onward; collect + update = one update.\n\n"
        f"{table(results)}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    p.add_argument("--devices", nargs="+", choices=["cpu", "cuda"], default=["cpu", "cuda"])
    p.add_argument(
        "--cpu-threads", nargs="+", type=int, default=[1], help="torch threads for the CPU rows (the GPU rows use 1)"
    )
    p.add_argument("--updates", type=int, default=4, help="updates per run (the first is not counted)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=BENCHMARKS_MD, help="Markdown file whose section is (re)written")
    p.add_argument("--no-write", action="store_true", help="print the table only")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.updates < 2:
        raise SystemExit("--updates must be at least 2: the first update is not counted")
    devices = [d for d in args.devices if d != "cuda" or torch.cuda.is_available()]
    if "cuda" in args.devices and "cuda" not in devices:
        print("torch sees no CUDA device here: CUDA rows left out", file=sys.stderr)
    results = []
    for case in args.cases:
        for device in devices:
            for threads in args.cpu_threads if device == "cpu" else [1]:
                r = measure(case, device, threads, args.updates, args.seed)
                print(
                    f"{case:22s} {device:4s} threads={threads:<2d} {r.steps_per_s:9,.0f} steps/s "
                    f"collect {r.collect_s:.3f} s  update {r.update_s:.3f} s",
                    flush=True,
                )
                results.append(r)
    section = render(results, sys.argv[1:] if argv is None else argv, args.cpu_threads)
    print("\n" + section)
    if not args.no_write:
        write_section(args.out, SECTION_HEADING, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
