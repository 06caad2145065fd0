"""Where does the trainer's time go? A breakdown of one training run with the benchmark's matched settings.

Two views of the same run configuration (rl-zoo TRPO hyperparameters, as in ``benchmarks/trpo_vs_sb3.py``):

1. **Timers** (low overhead): the trainer's building blocks are wrapped with ``perf_counter`` timers and a call
   counter (startup, rollout: env step / policy inference / observation normaliser / loop, GAE, TRPO step:
   surrogate gradient / conjugate gradient with its Fisher-vector products / line search, value fit).
2. **cProfile** (``--cprofile``): the functions with the most own time, for finer detail. cProfile inflates
   Python-heavy code (the rollout loop) more than the torch kernels, so use the timers for proportions.

Usage::

    python benchmarks/profile_trainer.py --env CartPole-v1 --steps 100000
    python benchmarks/profile_trainer.py --env HalfCheetah-v5 --steps 100000 --cprofile

The wrappers patch module attributes only if they exist, so the script keeps working while trainer/ evolves.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import io
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # trpo_vs_sb3 (settings); it adds the repo root itself

import gymnasium as gym
import torch
from trpo_vs_sb3 import ENVS, zoo_settings

import trainer

# ``trainer.train`` is the function (re-exported by the package), so the modules are looked up by name.
train_mod = importlib.import_module("trainer.train")
trpo_mod = importlib.import_module("trainer.trpo")
rollout_mod = importlib.import_module("trainer.rollout")
policies_mod = importlib.import_module("trainer.policies")
normalizer_mod = importlib.import_module("trainer.normalizer")


class Timers:
    """Accumulated seconds and call counts per label."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - t0
                self.calls[label] += 1

        return timed


@contextmanager
def patched(timers: Timers) -> Iterator[list[str]]:
    """Wrap the trainer's building blocks with timers; yields the labels that could not be patched."""
    targets: list[tuple[Any, str, str]] = [
        (train_mod, "make_vector_env", "startup: make_vector_env"),
        (train_mod.Agent, "build", "startup: Agent.build"),
        (rollout_mod.RolloutCollector, "__init__", "startup: collector init (env reset)"),
        (rollout_mod.RolloutCollector, "collect", "rollout: collect (total)"),
        (gym.vector.SyncVectorEnv, "step", "rollout: env step (SyncVectorEnv.step)"),
        (policies_mod.NumpyActor, "act", "rollout: policy inference (NumpyActor.act)"),
        (normalizer_mod.RunningNormalizer, "__call__", "rollout: obs normaliser (all calls)"),
        (policies_mod.NumpyActor, "__init__", "update: NumpyActor snapshot"),
        (train_mod, "compute_gae", "update: compute_gae"),
        (train_mod, "trpo_step", "update: trpo_step (total)"),
        (trpo_mod, "flat_grad", "  trpo: surrogate gradient (flat_grad)"),
        (trpo_mod, "fisher_vector_product_fn", "  trpo: FVP setup (forward at θ_old)"),
        (trpo_mod, "conjugate_gradient", "  trpo: conjugate gradient (incl. FVPs)"),
        (trpo_mod, "_line_search", "  trpo: line search"),
        (train_mod, "fit_value", "update: fit_value (critic epochs)"),
        (train_mod, "explained_variance", "update: explained_variance"),
    ]
    originals: list[tuple[Any, str, Any]] = []
    missing: list[str] = []
    for owner, name, label in targets:
        fn = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
        if fn is None:
            missing.append(f"{label} ({getattr(owner, '__name__', owner)}.{name} not found)")
            continue
        originals.append((owner, name, fn))
        if isinstance(fn, classmethod):
            wrapped: Any = classmethod(timers.wrap(label, fn.__func__))
        elif name == "fisher_vector_product_fn":  # also time every product the returned closure computes
            wrapped = _wrap_fvp_factory(timers, fn)
        else:
            wrapped = timers.wrap(label, fn)
        setattr(owner, name, wrapped)
    try:
        yield missing
    finally:
        for owner, name, fn in reversed(originals):
            setattr(owner, name, fn)


def _wrap_fvp_factory(timers: Timers, factory: Callable[..., Any]) -> Callable[..., Any]:
    setup = timers.wrap("  trpo: FVP setup (forward at θ_old)", factory)

    @functools.wraps(factory)
    def make(*args: Any, **kwargs: Any) -> Callable[..., Any]:
        return timers.wrap("    trpo: Fisher-vector products", setup(*args, **kwargs))

    return make


def timer_report(timers: Timers, total: float, steps: int) -> str:
    """Labels in a fixed order with seconds, share of the run, calls and µs per call."""
    lines = [f"{'component':52s} {'s':>8s} {'%':>6s} {'calls':>9s} {'µs/call':>9s}"]
    for label in timers.seconds:
        s, n = timers.seconds[label], timers.calls[label]
        lines.append(f"{label:52s} {s:8.2f} {100 * s / total:6.1f} {n:9d} {1e6 * s / max(n, 1):9.1f}")
    lines.append(f"{'train() total':52s} {total:8.2f} {100.0:6.1f}   -> {steps / total:,.0f} steps/s")
    return "\n".join(lines)


def derived(timers: Timers, total: float) -> str:
    """Top-level split: startup / rollout (env vs inference vs the rest) / update parts / unaccounted."""
    s = timers.seconds
    startup = sum(v for k, v in s.items() if k.startswith("startup"))
    collect = s.get("rollout: collect (total)", 0.0)
    env = s.get("rollout: env step (SyncVectorEnv.step)", 0.0)
    act = s.get("rollout: policy inference (NumpyActor.act)", 0.0)
    norm = s.get("rollout: obs normaliser (all calls)", 0.0)
    trpo = s.get("update: trpo_step (total)", 0.0)
    cg = s.get("  trpo: conjugate gradient (incl. FVPs)", 0.0)
    fvp = s.get("    trpo: Fisher-vector products", 0.0)
    fvp_calls = timers.calls.get("    trpo: Fisher-vector products", 0)
    steps_taken = timers.calls.get("update: trpo_step (total)", 0)
    # One product per step (xᵀFx for the step length) happens outside CG; split the time by calls.
    fvp_in_cg = fvp * (fvp_calls - steps_taken) / fvp_calls if fvp_calls else 0.0
    ls = s.get("  trpo: line search", 0.0)
    grad = s.get("  trpo: surrogate gradient (flat_grad)", 0.0)
    fvp_setup = s.get("  trpo: FVP setup (forward at θ_old)", 0.0)
    value = s.get("update: fit_value (critic epochs)", 0.0)
    gae = s.get("update: compute_gae", 0.0)
    rest = total - startup - collect - trpo - value - gae
    rows = [
        ("startup (env + agent build + reset)", startup),
        ("rollout: env step", env),
        ("rollout: policy inference (NumPy)", act),
        ("rollout: normaliser (per-step + batch)", norm),
        ("rollout: loop/bookkeeping remainder", collect - env - act - norm),
        ("trpo: surrogate gradient", grad),
        ("trpo: FVP setup", fvp_setup),
        ("trpo: CG vector ops (excluding its FVPs)", cg - fvp_in_cg),
        (f"trpo: Fisher-vector products ({fvp_calls} calls)", fvp),
        ("trpo: line search", ls),
        ("trpo: other (old dist, entropy, ...)", trpo - grad - fvp_setup - cg - (fvp - fvp_in_cg) - ls),
        ("value fit", value),
        ("GAE", gae),
        ("other (critic values for GAE, checks, metrics)", rest),
    ]
    return "\n".join(f"{name:48s} {sec:8.2f} s {100 * sec / total:6.1f} %" for name, sec in rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="CartPole-v1", choices=list(ENVS))
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cprofile", action="store_true", help="also run once under cProfile and list the top functions")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    config = zoo_settings(args.env).ours
    steps = trainer.steps_for_budget(config, args.steps)
    trainer.train(config, args.env, total_steps=config.batch_size, seed=123)  # warm-up, untimed

    plain_t0 = time.perf_counter()
    trainer.train(config, args.env, total_steps=steps, seed=args.seed)
    plain = time.perf_counter() - plain_t0
    print(f"{args.env}: {steps:,} steps, config {config.to_dict()}")
    print(f"unwrapped run: {plain:.2f} s = {steps / plain:,.0f} steps/s (torch threads {torch.get_num_threads()})\n")

    timers = Timers()
    with patched(timers) as missing:
        t0 = time.perf_counter()
        trainer.train(config, args.env, total_steps=steps, seed=args.seed)
        total = time.perf_counter() - t0
    for m in missing:
        print(f"(not timed: {m})")
    print(f"timed run (wrappers add overhead): {total:.2f} s = {steps / total:,.0f} steps/s\n")
    print(timer_report(timers, total, steps))
    print("\nsplit:")
    print(derived(timers, total))

    if args.cprofile:
        prof = cProfile.Profile()
        prof.enable()
        trainer.train(config, args.env, total_steps=steps, seed=args.seed)
        prof.disable()
        buf = io.StringIO()
        stats = pstats.Stats(prof, stream=buf).sort_stats("tottime")
        stats.print_stats(args.top)
        print("\ncProfile, by own time:\n" + buf.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
