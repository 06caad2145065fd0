"""Benchmark: Trustboard's TRPO trainer against sb3-contrib's TRPO, with matched hyperparameters.

Both libraries train with rl-baselines3-zoo's ``hyperparams/trpo.yml`` settings (ours through
``trainer.sb3_compat.config_from_sb3``: gSDE where the zoo sets it, sb3-contrib's per-action-dimension KL mapped onto
our joint KL, observation/reward statistics updated every step as VecNormalize's, sb3's Adam ε for the critic;
``--no-gsde`` / ``--no-kl-per-action-dim`` / ``--no-statistics-every-step`` / ``--no-sb3-adam-eps`` reproduce the
earlier tables), on the same machine, in one process, with one torch thread. For every (library, env, seed) it
records the training wall clock and steps/s (training only: building the env and the model plus learning; evaluation
excluded) and the final evaluation return (10 episodes, deterministic actions, episode i reset with seed
1_000_000 + i). It also measures the raw throughput of the same vector env under random actions, so the table shows
how much of the training time is the environment and how much is overhead.

Usage (from the repository root)::

    python benchmarks/trpo_vs_sb3.py                                   # the full benchmark (~10-15 min, 2 cores)
    python benchmarks/trpo_vs_sb3.py --steps-scale 0.05 --seeds 1      # smoke run: tiny budgets
    python benchmarks/trpo_vs_sb3.py --envs CartPole-v1 --seeds 0 1 2 --out /tmp/BENCH.md --json /tmp/bench.json

The table goes to stdout and, under the heading ``## TRPO: Trustboard trainer vs sb3-contrib``, into the Markdown file
given by ``--out`` (default ``BENCHMARKS.md`` at the repository root); other sections of that file are kept.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script: make the repository's ``trainer`` importable
    sys.path.insert(0, str(REPO_ROOT))

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from gymnasium.vector import AutoresetMode  # noqa: E402
from markdown_sections import BENCHMARKS_MD, write_section  # noqa: E402  (beside this script)

import trainer  # noqa: E402
from trainer import TRPOConfig, evaluate, steps_for_budget  # noqa: E402
from trainer.sb3_compat import (  # noqa: E402
    PER_ACTION_DIMENSION,
    SB3_TO_TRPOCONFIG,
    SB3_TRPO_DEFAULTS,
    action_dimensions,
    config_from_sb3,
)

SECTION_HEADING = "## TRPO: Trustboard trainer vs sb3-contrib"
DEFAULT_ANCHORS = Path("/work/shared/reference/trpo-anchors.json")
EVAL_EPISODES = 10
EVAL_SEED = 1_000_000
LIBRARIES = ("trustboard", "sb3-contrib")

# sb3-contrib's TRPO defaults (from trainer.sb3_compat, which translates them) without gSDE's, which the zoo entries
# below set where they use it; checked against the reference anchors file when it is present.
SB3_DEFAULTS: dict[str, Any] = {k: v for k, v in SB3_TRPO_DEFAULTS.items() if k not in ("use_sde", "sde_sample_freq")}
# rl-baselines3-zoo hyperparams/trpo.yml, in sb3's names; kept here so the benchmark is self-contained.
_MUJOCO_ZOO: dict[str, Any] = {
    "normalize": True,
    "n_envs": 2,
    "n_timesteps": 1_000_000,
    "batch_size": 128,
    "n_steps": 1024,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "sub_sampling_factor": 1,
    "cg_max_steps": 25,
    "cg_damping": 0.1,
    "n_critic_updates": 20,
    "learning_rate": 0.001,
}
ZOO_HYPERPARAMS: dict[str, dict[str, Any]] = {
    "CartPole-v1": {
        "n_envs": 2,
        "n_timesteps": 100_000,
        "n_steps": 512,
        "batch_size": 512,
        "cg_damping": 0.001,
        "gae_lambda": 0.98,
        "gamma": 0.99,
        "learning_rate": 0.001,
        "n_critic_updates": 20,
    },
    "Pendulum-v1": {
        "n_envs": 2,
        "n_timesteps": 100_000,
        "n_steps": 1024,
        "gamma": 0.9,
        "n_critic_updates": 15,
        "use_sde": True,
        "sde_sample_freq": 4,
    },
    "Acrobot-v1": {"normalize": True, "n_envs": 2, "n_timesteps": 100_000, "n_steps": 1024},
    "MountainCarContinuous-v0": {
        "normalize": True,
        "n_envs": 2,
        "n_timesteps": 50_000,
        "use_sde": True,
        "sde_sample_freq": 4,
    },
    "HalfCheetah-v5": {**_MUJOCO_ZOO, "target_kl": 0.04},
    "Hopper-v5": dict(_MUJOCO_ZOO),
    "Walker2d-v5": dict(_MUJOCO_ZOO),
    "Swimmer-v5": {**_MUJOCO_ZOO, "gamma": 0.9999},
}
# Walker2d-v4 keeps v3's model (the feet's friction 0.9 and 1.9; v5 gives both 1.9), on the current MuJoCo bindings:
# the model of the published run, which mujoco-py's v3 itself can no longer be installed to run.
ZOO_HYPERPARAMS["Walker2d-v4"] = ZOO_HYPERPARAMS["Walker2d-v5"]
# Which key of the anchors file's rl_zoo_trpo_hyperparameters each env corresponds to.
ANCHOR_ZOO_KEYS = {
    "CartPole-v1": "CartPole-v1",
    "Pendulum-v1": "Pendulum-v1",
    "Acrobot-v1": "Acrobot-v1",
    "MountainCarContinuous-v0": "MountainCarContinuous-v0",
    "HalfCheetah-v5": "HalfCheetah",
    "Hopper-v5": "Hopper",
    "Walker2d-v5": "Walker2d",
    "Swimmer-v5": "Swimmer",
    "Walker2d-v4": "Walker2d",
}

# sb3 name -> TRPOConfig field, for the settings table of each section.
SB3_TO_OURS = {**SB3_TO_TRPOCONFIG, **PER_ACTION_DIMENSION}
# Keys of the zoo file that are not TRPO hyperparameters of either library, or are left out on purpose.
NOT_HYPERPARAMS = ("n_timesteps", "normalize", "use_sde", "sde_sample_freq")


@dataclass(frozen=True)
class EnvBench:
    """One environment of the benchmark: its training budget and the published reference return."""

    env_id: str
    budget: int  # environment steps at --steps-scale 1
    published: float | None
    published_note: str


ENVS: dict[str, EnvBench] = {
    "CartPole-v1": EnvBench("CartPole-v1", 100_000, 500.0, "500 @100k"),
    "Pendulum-v1": EnvBench("Pendulum-v1", 100_000, -174.6, "-174.6 @100k (with gSDE)"),
    "HalfCheetah-v5": EnvBench("HalfCheetah-v5", 200_000, 1785.5, "1,785.5 @1M (v3)"),
    "Hopper-v5": EnvBench("Hopper-v5", 200_000, 3618.4, "3,618.4 @1M (v3)"),
    # Not in the default (side-by-side) set: run with --envs, e.g. at the published budgets (see BENCHMARKS.md).
    "Acrobot-v1": EnvBench("Acrobot-v1", 100_000, -83.1, "-83.1 @100k"),
    "MountainCarContinuous-v0": EnvBench("MountainCarContinuous-v0", 50_000, 92.5, "92.5 @50k (with gSDE)"),
    "Walker2d-v5": EnvBench("Walker2d-v5", 1_000_000, 4933.1, "4,933.1 @1M (v3)"),
    "Swimmer-v5": EnvBench("Swimmer-v5", 1_000_000, 365.7, "365.7 @1M (v3)"),
}
# The same published run, on the version that keeps its model (see ZOO_HYPERPARAMS).
ENVS["Walker2d-v4"] = dataclasses.replace(
    ENVS["Walker2d-v5"], env_id="Walker2d-v4", published_note="4,933.1 @1M (v3, whose model v4 keeps)"
)
DEFAULT_ENVS = ("CartPole-v1", "Pendulum-v1", "HalfCheetah-v5", "Hopper-v5")


@dataclass
class RunResult:
    """One (library, env, seed) training run and its final evaluation."""

    library: str
    env_id: str
    seed: int
    steps: int
    train_s: float  # building env + model, and learning; no evaluation
    learn_s: float  # the learning loop alone (trainer: TrainResult.wall_clock_s; sb3: model.learn)
    eval_returns: list[float]
    eval_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.train_s

    @property
    def eval_mean(self) -> float:
        return float(np.mean(self.eval_returns))


@dataclass(frozen=True)
class Settings:
    """Resolved hyperparameters of one env for both libraries."""

    env_id: str
    sb3: dict[str, Any]  # TRPO(...) keyword arguments (hyperparameters only)
    ours: TRPOConfig
    normalize: bool
    dropped: dict[str, Any]  # zoo keys deliberately not applied (gSDE without --gsde)
    sde: dict[str, Any] = field(default_factory=dict)  # gSDE settings applied to both libraries (with --gsde)
    kl_scale: int = 1  # our max_kl and cg_damping = sb3's × this (action dimensions, with --kl-per-action-dim)
    kl_mapped: bool = False  # whether the per-action-dimension mapping was asked for (1-D and Discrete: scale 1)


# --------------------------------------------------------------------------------------------- hyperparameters


def zoo_settings(
    env_id: str,
    gsde: bool = True,
    kl_per_action_dim: bool = True,
    statistics_every_step: bool = True,
    sb3_adam_eps: bool = True,
) -> Settings:
    """sb3 defaults overlaid with the zoo's entry; ours through ``trainer.sb3_compat.config_from_sb3``.

    The zoo's gSDE settings (use_sde, sde_sample_freq: an exploration add-on, not TRPO) apply to both libraries
    with ``gsde``, and are dropped from both otherwise, which is how the tables before 2026-11-29 13:00 were measured.

    For Box actions sb3-contrib's KL is averaged over action dimensions as well as samples, so the same trust region
    is max_kl = k·target_kl, cg_damping = k·cg_damping here (``kl_per_action_dim``, what ``config_from_sb3`` does).
    Without it (how the tables before 2026-11-29 13:00 were measured) the numbers are copied, and sb3-contrib's trust
    region is k times wider.

    ``statistics_every_step`` and ``sb3_adam_eps`` keep what ``config_from_sb3`` sets for an rl-zoo entry
    (VecNormalize's per-step statistics, sb3's Adam ε); switched off they give the tables before 2026-11-29 15:00.
    """
    zoo = ZOO_HYPERPARAMS[env_id]
    sde_keys = {k: zoo[k] for k in ("use_sde", "sde_sample_freq") if k in zoo}
    entry = {k: v for k, v in zoo.items() if gsde or k not in sde_keys}
    kl_scale = action_dimensions(env_id) if kl_per_action_dim else 1
    ours = config_from_sb3(entry, kl_scale, device="cpu", torch_threads=1, vector_mode="sync")
    if not statistics_every_step:  # config_from_sb3 sets it wherever the entry normalises
        ours = dataclasses.replace(ours, normalize_every_step=False)
    if not sb3_adam_eps:  # PyTorch's default, as the tables before 2026-11-29 15:00 were measured
        ours = dataclasses.replace(ours, value_adam_eps=TRPOConfig().value_adam_eps)
    merged = {**SB3_DEFAULTS, **{k: v for k, v in zoo.items() if k not in NOT_HYPERPARAMS}}
    sb3 = {k: v for k, v in merged.items() if k != "n_envs"}
    applied, dropped = (sde_keys, {}) if gsde else ({}, sde_keys)
    normalize = bool(zoo.get("normalize", False))
    return Settings(env_id, sb3, ours, normalize, dropped, applied, kl_scale, kl_per_action_dim)


def statistics_note(settings: list[Settings]) -> str:
    """When our normalisation statistics were updated: every step like VecNormalize (the default since
    2026-11-29 16:00, through config_from_sb3), or once per batch (the tables before)."""
    modes = {s.ours.normalize_every_step for s in settings if s.normalize}
    if modes == {True}:
        return "Our statistics update after every env step, as VecNormalize's do (`normalize_every_step`)."
    if modes == {False}:
        return "Our statistics update once per batch, VecNormalize's every step."
    return "Our statistics update after every env step where `normalize_every_step` is set, else once per batch."


def check_against_anchors(path: Path) -> list[str]:
    """Differences between the hyperparameters above and the reference anchors file (empty when they agree)."""
    if not path.exists():
        return [f"anchors file {path} not found: using the hyperparameters embedded in this script"]
    anchors = json.loads(path.read_text())
    problems = []
    for k, v in anchors.get("sb3_contrib_trpo_defaults", {}).items():
        if k in SB3_DEFAULTS and SB3_DEFAULTS[k] != v:
            problems.append(f"sb3 default {k}: script {SB3_DEFAULTS[k]!r} != anchors {v!r}")
    zoo = anchors.get("rl_zoo_trpo_hyperparameters", {})
    for env_id, key in ANCHOR_ZOO_KEYS.items():
        entry = dict(zoo.get(key, {}))
        if "extends" in entry:
            entry = {**zoo.get(entry.pop("extends"), {}), **entry}
        if entry != ZOO_HYPERPARAMS[env_id]:
            problems.append(f"zoo {env_id}: script {ZOO_HYPERPARAMS[env_id]} != anchors {entry}")
    return problems


# ------------------------------------------------------------------------------------------------- the runs


def run_ours(
    settings: Settings, steps: int, seed: int, *, eval_episodes: int = EVAL_EPISODES, eval_seed: int = EVAL_SEED
) -> RunResult:
    """Train with trainer.train and evaluate with trainer.evaluate (the project's protocol)."""
    t0 = time.perf_counter()
    result = trainer.train(settings.ours, settings.env_id, total_steps=steps, seed=seed)
    train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    ev = evaluate(result.agent, settings.env_id, episodes=eval_episodes, seed=eval_seed)
    eval_s = time.perf_counter() - t1
    accepted = [m["train/step_accepted"] for m in result.metrics]
    return RunResult(
        "trustboard",
        settings.env_id,
        seed,
        result.steps,
        train_s,
        result.wall_clock_s,
        [float(r) for r in ev.returns],
        eval_s,
        {
            "updates": result.updates,
            "accepted_fraction": float(np.mean(accepted)) if accepted else None,
            "last_rollout_return": result.metrics[-1]["rollout/ep_return_mean"] if result.metrics else None,
            "rollout_curve": rollout_curve(result.metrics),
            "torch_threads": int(result.versions.get("torch_threads", "0")),
        },
    )


def rollout_curve(metrics: Sequence[dict[str, Any]], points: int = 50) -> list[tuple[int, float]]:
    """(steps, mean training-episode return) at about ``points`` updates, the last included: whether a run was
    still climbing at the end of its budget, without keeping every update's metrics."""
    if not metrics:
        return []
    stride = max(1, len(metrics) // points)
    picked = [*metrics[::stride], metrics[-1]] if (len(metrics) - 1) % stride else metrics[::stride]
    return [(int(m["time/steps"]), float(m["rollout/ep_return_mean"])) for m in picked]


def run_sb3(
    settings: Settings, steps: int, seed: int, *, eval_episodes: int = EVAL_EPISODES, eval_seed: int = EVAL_SEED
) -> RunResult:
    """Train sb3-contrib's TRPO on a DummyVecEnv (+ VecNormalize of observations and rewards, as rl-zoo).

    gSDE only where ``settings.sde`` applies it (``--gsde``), with sb3's defaults for its parametrisation.
    """
    from sb3_contrib import TRPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    n_envs = settings.ours.n_envs
    t0 = time.perf_counter()
    venv = make_vec_env(settings.env_id, n_envs=n_envs, seed=seed)
    vecnorm: VecNormalize | None = None
    if settings.normalize:
        # rl-zoo gives VecNormalize the algorithm's discount, as our trainer's reward scaling uses config.gamma.
        vecnorm = VecNormalize(
            venv, norm_obs=True, norm_reward=True, clip_obs=10.0, clip_reward=10.0, gamma=settings.sb3["gamma"]
        )
        venv = vecnorm
    model = TRPO(
        "MlpPolicy",
        venv,
        policy_kwargs={"net_arch": {"pi": [64, 64], "vf": [64, 64]}, "activation_fn": torch.nn.Tanh},
        use_sde=bool(settings.sde.get("use_sde", False)),
        sde_sample_freq=int(settings.sde.get("sde_sample_freq", -1)),
        seed=seed,
        device="cpu",
        verbose=0,
        **settings.sb3,
    )
    threads_in_run = torch.get_num_threads()
    t1 = time.perf_counter()
    model.learn(total_timesteps=steps)
    train_s = time.perf_counter() - t0
    learn_s = time.perf_counter() - t1
    done_steps = int(model.num_timesteps)
    venv.close()
    if vecnorm is not None:
        vecnorm.training = False
    t2 = time.perf_counter()
    returns = evaluate_sb3(model, vecnorm, settings.env_id, eval_episodes, eval_seed)
    eval_s = time.perf_counter() - t2
    return RunResult(
        "sb3-contrib",
        settings.env_id,
        seed,
        done_steps,
        train_s,
        learn_s,
        returns,
        eval_s,
        {"torch_threads": threads_in_run},
    )


def evaluate_sb3(model: Any, vecnorm: Any, env_id: str, episodes: int, seed: int) -> list[float]:
    """The trainer's protocol for an sb3 model: episode i reset with seed + i, deterministic actions, raw rewards."""
    env = gym.make(env_id)
    discrete = isinstance(env.action_space, gym.spaces.Discrete)
    returns: list[float] = []
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=seed + i)
            total, done = 0.0, False
            while not done:
                model_obs = vecnorm.normalize_obs(obs) if vecnorm is not None else obs
                action, _ = model.predict(model_obs, deterministic=True)
                obs, reward, terminated, truncated, _ = env.step(int(action) if discrete else action)
                total += float(reward)
                done = bool(terminated or truncated)
            returns.append(total)
    finally:
        env.close()
    return returns


RUNNERS: dict[str, Callable[[Settings, int, int], RunResult]] = {"trustboard": run_ours, "sb3-contrib": run_sb3}


def raw_vector_env_throughput(env_id: str, n_envs: int, min_seconds: float) -> float:
    """Steps/s (summed over envs) of the trainer's vector env (sync, SAME_STEP autoreset) under random actions.

    Actions are pre-sampled from the action space, so this measures the environment and gymnasium's vector
    wrapper, not the sampling.
    """
    envs = gym.make_vec(
        env_id, num_envs=n_envs, vectorization_mode="sync", vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}
    )
    try:
        envs.reset(seed=0)
        envs.action_space.seed(0)
        pool = [envs.action_space.sample() for _ in range(1024)]
        for a in pool[:100]:  # warm up
            envs.step(a)
        n, start = 0, time.perf_counter()
        while True:
            for a in pool:
                envs.step(a)
            n += len(pool)
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                return n * n_envs / elapsed
    finally:
        envs.close()


def raw_single_env_throughput(env_id: str, min_seconds: float) -> float:
    """Steps/s of one plain gymnasium env under pre-sampled random actions (reset at episode ends)."""
    env = gym.make(env_id)
    try:
        env.reset(seed=0)
        env.action_space.seed(0)
        pool = [env.action_space.sample() for _ in range(1024)]
        n, start = 0, time.perf_counter()
        while True:
            for a in pool:
                _, _, term, trunc, _ = env.step(a)
                if term or trunc:
                    env.reset()
            n += len(pool)
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                return n / elapsed
    finally:
        env.close()


# ------------------------------------------------------------------------------------------------- reporting


def mean_std(xs: Sequence[float]) -> tuple[float, float]:
    """Mean and population std (0 for a single value)."""
    arr = np.asarray(xs, dtype=np.float64)
    return float(arr.mean()), float(arr.std())


def fmt_num(x: float, digits: int = 0) -> str:
    """1234.5 -> '1,234' (digits=0) or '1,234.5' (digits=1)."""
    return f"{x:,.{digits}f}"


def fmt_pm(xs: Sequence[float], digits: int = 0) -> str:
    m, s = mean_std(xs)
    return f"{fmt_num(m, digits)} ± {fmt_num(s, digits)}"


def cpu_model() -> str:
    """The CPU's model name (Linux), or ``unknown``: our seeds repeat bit for bit only on the same kind of CPU."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def environment_info(threads: int) -> dict[str, str]:
    """Machine and library versions, recorded with every benchmark."""
    import sb3_contrib
    import stable_baselines3

    cpu = cpu_model()
    return {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),  # SIMD level: NumPy's BLAS kernels follow it
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": str(threads),
        "torch_interop_threads": str(torch.get_num_interop_threads()),
        "gymnasium": gym.__version__,
        "mujoco": _version("mujoco"),
        "numpy": np.__version__,
        "stable_baselines3": stable_baselines3.__version__,
        "sb3_contrib": sb3_contrib.__version__,
        "trainer": _git_state(),
        "load_avg_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _version(module: str) -> str:
    try:
        return str(__import__(module).__version__)
    except Exception:  # pragma: no cover - optional
        return "n/a"


def _git_state() -> str:
    """Commit of the tree (and whether trainer/ has uncommitted changes): the benchmark measures the working tree."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "trainer"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}" + (" + uncommitted changes in trainer/" if dirty else "")


def summary_rows(results: list[RunResult], raw_vec: dict[str, float]) -> list[dict[str, str]]:
    """One row per (env, library) for the main table."""
    rows = []
    env_ids = list(dict.fromkeys(r.env_id for r in results))
    for env_id in env_ids:
        by_lib = {lib: [r for r in results if r.env_id == env_id and r.library == lib] for lib in LIBRARIES}
        sps = {lib: mean_std([r.steps_per_s for r in rs])[0] for lib, rs in by_lib.items() if rs}
        ratio = sps["trustboard"] / sps["sb3-contrib"] if len(sps) == 2 else math.nan
        spec = ENVS[env_id]
        for lib, rs in by_lib.items():
            if not rs:
                continue
            rows.append(
                {
                    "Env": env_id,
                    "Budget (steps)": fmt_num(rs[0].steps),
                    "Seeds": str(len(rs)),
                    "Library": lib,
                    "Train steps/s": fmt_pm([r.steps_per_s for r in rs]),
                    "Speed ours/sb3": f"**{ratio:.2f}x**" if lib == "trustboard" and not math.isnan(ratio) else "",
                    "Final eval return": fmt_pm([r.eval_mean for r in rs], 1),
                    "Published rl-zoo": spec.published_note,
                    "Train / raw vec-env": f"{sps[lib] / raw_vec[env_id]:.3f}" if env_id in raw_vec else "n/a",
                }
            )
    return rows


def markdown_table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "(no runs)\n"
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    out += ["| " + " | ".join(row[c] for c in cols) + " |" for row in rows]
    return "\n".join(out) + "\n"


def render_section(
    results: list[RunResult],
    raw_vec: dict[str, float],
    raw_single: dict[str, float],
    settings: dict[str, Settings],
    info: dict[str, str],
    command: str,
    steps_scale: float,
    total_s: float,
    anchor_problems: list[str],
    pending: Sequence[str] = (),
    heading: str = SECTION_HEADING,
) -> str:
    """The Markdown section: summary table, raw env throughput, per-run details, settings and notes."""
    lines = [heading, ""]
    if pending:
        lines += [f"> **PARTIAL**: still running or cut short; not yet measured: {', '.join(pending)}.", ""]
    if steps_scale != 1.0:
        lines += [
            f"> **SMOKE RUN** (budgets scaled by {steps_scale:g}): proves the script runs end to end; "
            "the numbers are not a benchmark.",
            "",
        ]
    lines += [
        f"Command: `{command}`  ",
        f"Date: {info['date_utc']}; the whole benchmark took {total_s / 60:.1f} min in one process "
        "(raw env measurements and an untimed warm-up included).  ",
        f"Machine: {info['nproc']} cores, {info['cpu']} ({info['cpu_capability']}); "
        f"load average at start {info['load_avg_start']} "
        "(other work may have shared the machine).  ",
        f"Versions: python {info['python']}, torch {info['torch']} (**{info['torch_threads']} intra-op thread**, "
        f"{info['torch_interop_threads']} inter-op), gymnasium {info['gymnasium']}, mujoco {info['mujoco']}, "
        f"numpy {info['numpy']}, stable-baselines3 {info['stable_baselines3']}, sb3-contrib {info['sb3_contrib']}; "
        f"trainer at {info['trainer']}.",
        "",
        markdown_table(summary_rows(results, raw_vec)),
        "Columns: *Train steps/s* is environment steps / training wall clock (building the env and the model, and "
        "learning; evaluation excluded), mean ± std over seeds. *Speed ours/sb3* is the ratio of the means. "
        f"*Final eval return* is the mean over seeds of each run's mean return over {EVAL_EPISODES} deterministic "
        f"episodes with episode seeds {EVAL_SEED:,} + i (± std over seeds). *Published rl-zoo* is "
        "rl-baselines3-zoo's single-run TRPO benchmark at the budget shown (MuJoCo: v3 envs, ours are v5; where "
        "our budget is below the published one, the published return is for orientation only). "
        "*Train / raw vec-env* is training steps/s divided by the raw steps/s of the same vector env under random "
        "actions (below); for Hopper, random actions end episodes after ~20 steps, so the raw figure is dominated "
        "by resets and understates how fast the env steps during training (the ratio can look better than it is).",
        "",
        "Raw environment throughput (random pre-sampled actions, no learning; best of the measurements taken before "
        "and after each env's training runs):",
        "",
        "| Env | n_envs | Vector env steps/s (sync, SAME_STEP autoreset) | Single env steps/s |",
        "|---|---|---|---|",
    ]
    for env_id, sps in raw_vec.items():
        n_envs = settings[env_id].ours.n_envs
        lines.append(f"| {env_id} | {n_envs} | {fmt_num(sps)} | {fmt_num(raw_single.get(env_id, math.nan))} |")
    lines += ["", "Per run:", "", "| Env | Library | Seed | Steps | Train s | Learn s | Steps/s | Eval return |"]
    lines.append("|---|---|---|---|---|---|---|---|")
    for r in results:
        lines.append(
            f"| {r.env_id} | {r.library} | {r.seed} | {fmt_num(r.steps)} | {r.train_s:.1f} | {r.learn_s:.1f} | "
            f"{fmt_num(r.steps_per_s)} | {fmt_num(r.eval_mean, 1)} ± {fmt_num(float(np.std(r.eval_returns)), 1)} |"
        )
    lines += ["", "Matched hyperparameters (sb3-contrib name = value → TRPOConfig field):", ""]
    for env_id, s in settings.items():
        pairs = ", ".join(f"{k}={v} → {SB3_TO_OURS[k]}" for k, v in sorted(s.sb3.items()))
        extra = f"; zoo's {s.dropped} **not used**" if s.dropped else ""
        if s.sde:
            extra = "; gSDE in both: " + ", ".join(f"{k}={v} → {k}" for k, v in s.sde.items())
        if s.kl_scale != 1:
            extra += (
                f"; **KL per action dimension**: max_kl = {s.kl_scale} × target_kl = {s.ours.max_kl:g}, "
                f"cg_damping = {s.kl_scale} × {s.sb3['cg_damping']:g} = {s.ours.cg_damping:g}"
            )
        lines.append(
            f"- **{env_id}**: n_envs={s.ours.n_envs}, {pairs}; net_arch pi=vf=[64, 64] tanh; "
            f"normalize={'obs and reward' if s.normalize else 'off'}{extra}."
        )
    lines += [
        "",
        "Notes:",
        "",
        "- Both libraries run in one process, alternating which goes first per (env, seed), with "
        "`torch.set_num_threads(1)` (TRPOConfig.torch_threads=1 too). Budgets are whole batches "
        "(`trainer.steps_for_budget`); sb3-contrib is given exactly the same number of steps. The machine may be "
        "shared with other work: absolute steps/s then drop for both libraries, the alternation keeps the ratio "
        "fair, and the load average at the start is recorded above.",
        gsde_note(list(settings.values())),
        kl_note(all(s.kl_mapped for s in settings.values())),
        "- **normalize**: rl-zoo's `normalize: true` is VecNormalize of observations and rewards (rewards divided "
        "by the running std of the discounted return, with the algorithm's γ); both libraries do that here (ours: "
        "`normalize_observations=True, normalize_rewards=True`, clips 10; sb3: `VecNormalize(norm_obs=True, "
        "norm_reward=True, clip_obs=10, clip_reward=10, gamma=γ)`). " + statistics_note(list(settings.values())),
        "- Each library steps its own vector env: ours gymnasium's SyncVectorEnv (SAME_STEP autoreset), "
        "sb3-contrib its DummyVecEnv with Monitor wrappers (as rl-zoo does).",
        "- Published returns are rl-baselines3-zoo single runs on the v3 MuJoCo envs at 1M steps; ours are v5 "
        "at the budgets in the table (where those are below 1M, the published figure is for orientation only).",
    ]
    if anchor_problems:
        lines += ["", "Hyperparameter check against the reference anchors file:", ""]
        lines += [f"- {p}" for p in anchor_problems]
    return "\n".join(lines) + "\n"


GSDE_NOT_SET = "- **gSDE**: rl-zoo's entries for these environments do not use it, so neither library does."


def gsde_note(settings: Sequence[Settings]) -> str:
    """The notes' line on gSDE, which rl-zoo sets for Pendulum-v1 and MountainCarContinuous-v0 only."""
    if not any(s.sde or s.dropped for s in settings):
        return GSDE_NOT_SET
    if any(s.sde for s in settings):
        return (
            "- **gSDE on** (the default): where rl-zoo sets `use_sde`, both libraries explore with generalized "
            "State-Dependent Exploration (an add-on, not part of TRPO): noise φ(s)·E from the policy's last hidden "
            "features, E resampled every `sde_sample_freq` steps and at each batch start; sb3's parametrisation "
            "(full_std, learn_features=False, log_std_init 0) and ours (`TRPOConfig.use_sde`) are the same."
        )
    return (
        "- **gSDE off**: rl-zoo runs Pendulum-v1 (and MountainCarContinuous) with `use_sde=True`, an exploration "
        "add-on that is not part of TRPO; both libraries run here *without* it (`--no-gsde`), so returns can "
        "differ from the published (gSDE) figures."
    )


def kl_note(mapped: bool) -> str:
    """The notes' line on how rl-zoo's target_kl and cg_damping reach our trainer for Box actions."""
    if mapped:
        return (
            "- **KL per action dimension** (the default): sb3-contrib's KL for Box actions is averaged over action "
            "dimensions as well as samples, ours is the joint KL of the paper; for k action dimensions our "
            "max_kl = k × target_kl and cg_damping = k × its cg_damping give both the same trust region and the "
            "same CG system (Discrete and 1-D actions: unchanged)."
        )
    return (
        "- **KL copied** (`--no-kl-per-action-dim`): target_kl and cg_damping are copied as they are, so for k "
        "action dimensions sb3-contrib's trust region is k times wider than ours (its KL is averaged over them)."
    )


# ------------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--envs", nargs="+", default=list(DEFAULT_ENVS), choices=list(ENVS), help="environments to run")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="training seeds (at least 3 for real)")
    p.add_argument("--steps-scale", type=float, default=1.0, help="multiply every budget (e.g. 0.05 for a smoke run)")
    p.add_argument(
        "--budget",
        action="append",
        default=[],
        metavar="ENV=STEPS",
        help="override one env's budget at --steps-scale 1 (e.g. Hopper-v5=150000); repeatable",
    )
    p.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=LIBRARIES)
    p.add_argument(
        "--gsde",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="apply rl-zoo's gSDE settings (use_sde, sde_sample_freq) to both libraries where the zoo sets them\n"
        "(default; --no-gsde drops them from both, as the tables before 2026-11-29 13:00 did)",
    )
    p.add_argument(
        "--kl-per-action-dim",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="match sb3-contrib's per-action-dimension KL for Box actions: our max_kl and cg_damping = k × its\n"
        "target_kl and cg_damping (k action dimensions; default); --no-kl-per-action-dim copies the numbers as\n"
        "they are, as the tables before 2026-11-29 13:00 did",
    )
    p.add_argument(
        "--statistics-every-step",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="update our observation/reward statistics after every env step, as VecNormalize does (default);\n"
        "--no-statistics-every-step updates them once per batch, as the tables before 2026-11-29 16:00 did",
    )
    p.add_argument(
        "--sb3-adam-eps",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="our critic's Adam ε = sb3's 1e-5 (default, config_from_sb3); --no-sb3-adam-eps keeps PyTorch's 1e-8,\n"
        "as the tables before 2026-11-29 15:00 did",
    )
    p.add_argument("--out", type=Path, default=BENCHMARKS_MD, help="Markdown file to write into")
    p.add_argument("--json", type=Path, default=None, help="also write every run's raw numbers here")
    p.add_argument("--raw-seconds", type=float, default=2.0, help="seconds per raw env throughput measurement")
    p.add_argument("--heading", default=SECTION_HEADING, help="the section of --out to write (replaced if present)")
    p.add_argument("--anchors", type=Path, default=DEFAULT_ANCHORS, help="reference facts to check against")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    budgets = {env_id: spec.budget for env_id, spec in ENVS.items()}
    for item in args.budget:
        env_id, _, steps_text = item.partition("=")
        if env_id not in ENVS or not steps_text.isdigit():
            raise SystemExit(f"--budget {item!r}: expected ENV=STEPS with ENV one of {', '.join(ENVS)}")
        budgets[env_id] = int(steps_text)
    torch.set_num_threads(1)
    threads = torch.get_num_threads()
    command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(__file__, REPO_ROOT), *sys.argv[1:]])
    if argv is not None:
        command = "python benchmarks/trpo_vs_sb3.py " + " ".join(shlex.quote(a) for a in argv)
    info = environment_info(threads)
    anchor_problems = check_against_anchors(args.anchors)
    for problem in anchor_problems:
        print(f"warning: {problem}", file=sys.stderr)
    settings = {
        env_id: zoo_settings(env_id, args.gsde, args.kl_per_action_dim, args.statistics_every_step, args.sb3_adam_eps)
        for env_id in args.envs
    }
    print(f"# {command}\n# {json.dumps(info)}", flush=True)

    start = time.perf_counter()
    # Raw throughput is measured before and after each env's training runs; the table uses the best (least
    # disturbed) measurement, since other work on the machine can only slow a measurement down.
    raw_samples: dict[str, dict[str, list[float]]] = {env_id: {"vector": [], "single": []} for env_id in args.envs}

    def measure_raw(env_id: str) -> None:
        vec = raw_vector_env_throughput(env_id, settings[env_id].ours.n_envs, args.raw_seconds)
        single = raw_single_env_throughput(env_id, args.raw_seconds / 2)
        raw_samples[env_id]["vector"].append(vec)
        raw_samples[env_id]["single"].append(single)
        print(f"raw {env_id}: vector {vec:,.0f} steps/s, single {single:,.0f}", flush=True)

    # Untimed warm-up: one batch per (library, env), so first-call costs (lazy imports, loading MuJoCo, torch's
    # first kernels) do not land in whichever timed run happens to come first.
    for env_id in args.envs:
        for lib in args.libraries:
            RUNNERS[lib](settings[env_id], settings[env_id].ours.batch_size, 12345)
    print(f"warm-up done after {time.perf_counter() - start:.1f}s", flush=True)

    results: list[RunResult] = []

    def report(done_envs: list[str], final: bool) -> None:
        """Render what has finished so far into the Markdown file (and JSON), so a cut-short run leaves results."""
        total_s = time.perf_counter() - start
        done_runs = sorted(
            (r for r in results if r.env_id in done_envs),
            key=lambda r: (args.envs.index(r.env_id), LIBRARIES.index(r.library), r.seed),
        )
        raw_vec = {e: max(raw_samples[e]["vector"]) for e in done_envs}
        raw_single = {e: max(raw_samples[e]["single"]) for e in done_envs}
        section = render_section(
            done_runs,
            raw_vec,
            raw_single,
            {e: settings[e] for e in done_envs},
            info,
            command,
            args.steps_scale,
            total_s,
            anchor_problems,
            pending=[e for e in args.envs if e not in done_envs],
            heading=args.heading,
        )
        if final:
            print()
            print(section)
        write_section(args.out, args.heading, section)
        print(f"wrote {args.out}" + ("" if final else f" (partial: {len(done_envs)}/{len(args.envs)} envs)"))
        if args.json is not None:
            payload = {
                "command": command,
                "info": info,
                "steps_scale": args.steps_scale,
                "budgets": {e: budgets[e] for e in args.envs},
                "complete": final,
                "total_s": total_s,
                "raw_vector_env_steps_per_s": raw_vec,
                "raw_single_env_steps_per_s": raw_single,
                "raw_samples": raw_samples,
                "settings": {
                    e: {"sb3": settings[e].sb3, "ours": settings[e].ours.to_dict(), "normalize": settings[e].normalize}
                    for e in args.envs
                },
                "runs": [{**dataclasses.asdict(r), "steps_per_s": r.steps_per_s} for r in done_runs],
            }
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(payload, indent=2))

    for n_done, env_id in enumerate(args.envs, start=1):
        s = settings[env_id]
        steps = steps_for_budget(s.ours, max(1, round(budgets[env_id] * args.steps_scale)))
        measure_raw(env_id)
        for k, seed in enumerate(args.seeds):
            # Alternate which library goes first, so slow drifts in machine load do not favour one of them.
            order = args.libraries if k % 2 == 0 else list(reversed(args.libraries))
            for lib in order:
                torch.set_num_threads(threads)
                r = RUNNERS[lib](s, steps, seed)
                results.append(r)
                print(
                    f"{env_id:15s} {lib:12s} seed {seed}: {r.steps:,} steps in {r.train_s:6.1f}s = "
                    f"{r.steps_per_s:8,.0f} steps/s; eval {r.eval_mean:9.1f} (eval {r.eval_s:.1f}s)",
                    flush=True,
                )
        measure_raw(env_id)
        report(args.envs[:n_done], final=n_done == len(args.envs))
    if args.json is not None:
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
