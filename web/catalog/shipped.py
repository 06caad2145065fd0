"""The environments Trustboard ships with, and the default TRPO config.

Reference returns (score 1) are the published results the community compares against, each with its source in
``reference_source`` (a field of ``Environment``, shown next to the number) so that its page says what score 1
means: an episode's maximum (CartPole, InvertedPendulum) or rl-baselines3-zoo's single TRPO runs (the MuJoCo ones
at 1M steps on the v3 environments; Walker2d-v5 changed one foot's friction, which BENCHMARKS.md measured not to move
TRPO's mean). Random returns (score 0) are the mean return of a uniform random policy.
Budgets are a few hundred thousand steps for classic control and one million for MuJoCo: enough for TRPO to
separate good configs from bad ones on one CPU core in hours, not days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ShippedEnvironment:
    slug: str
    gym_id: str
    budget_steps: int
    random_return: float
    reference_return: float
    description: str
    reference_source: str  # where reference_return comes from
    kwargs: dict[str, Any] = field(default_factory=dict)
    eval_episodes: int = 10
    eval_seed: int = 1000
    deterministic_eval: bool = True
    min_seeds: int = 3
    counts_overall: bool = True


SHIPPED: tuple[ShippedEnvironment, ...] = (
    ShippedEnvironment(
        "cartpole-v1",
        "CartPole-v1",
        100_000,
        22.0,
        500.0,
        "Balance a pole on a cart; discrete actions, episodes capped at 500 steps.",
        "the maximum, one point for each of the 500 steps (rl-baselines3-zoo's TRPO reaches it at 100k steps)",
    ),
    ShippedEnvironment(
        "acrobot-v1",
        "Acrobot-v1",
        200_000,
        -500.0,
        -83.0,
        "Swing a two-link arm above a line; sparse -1 reward per step, discrete actions.",
        "rl-baselines3-zoo's TRPO, a single run at 100k steps (-83.1)",
    ),
    ShippedEnvironment(
        "pendulum-v1",
        "Pendulum-v1",
        500_000,
        -1200.0,
        -175.0,
        "Swing a pendulum up and hold it; continuous torque, 200-step episodes.",
        "rl-baselines3-zoo's TRPO with gSDE, a single run at 100k steps (-174.6)",
    ),
    ShippedEnvironment(
        "mountaincarcontinuous-v0",
        "MountainCarContinuous-v0",
        300_000,
        -34.0,
        92.5,
        "Drive an under-powered car up a hill; hard exploration, continuous action.",
        "rl-baselines3-zoo's TRPO with gSDE, a single run at 50k steps (the solved threshold is 90)",
    ),
    ShippedEnvironment(
        "hopper-v5",
        "Hopper-v5",
        1_000_000,
        18.0,
        3618.0,
        "MuJoCo one-legged hopper: hop forward without falling.",
        "rl-baselines3-zoo's TRPO, a single run at 1M steps on Hopper-v3 (3,618.4); v5 keeps the v3 model",
    ),
    ShippedEnvironment(
        "halfcheetah-v5",
        "HalfCheetah-v5",
        1_000_000,
        -280.0,
        1786.0,
        "MuJoCo planar cheetah: run forward as fast as possible.",
        "rl-baselines3-zoo's TRPO, a single run at 1M steps on HalfCheetah-v3 (1,785.5); v5 keeps the v3 model",
    ),
    ShippedEnvironment(
        "walker2d-v5",
        "Walker2d-v5",
        1_000_000,
        2.0,
        4933.0,
        "MuJoCo planar biped: walk forward without falling.",
        "rl-baselines3-zoo's TRPO, a single run at 1M steps on Walker2d-v3 (4,933.1); v5 gives the right foot the "
        "left foot's friction, which moved TRPO's mean over seeds by nothing measurable (BENCHMARKS.md)",
    ),
    ShippedEnvironment(
        "swimmer-v5",
        "Swimmer-v5",
        1_000_000,
        0.0,
        366.0,
        "MuJoCo three-link swimmer in a viscous fluid: swim forward.",
        "rl-baselines3-zoo's TRPO, a single run at 1M steps on Swimmer-v3 (365.7); v5 keeps the v3 model",
    ),
    ShippedEnvironment(
        "invertedpendulum-v5",
        "InvertedPendulum-v5",
        300_000,
        5.0,
        1000.0,
        "MuJoCo cart-pole with continuous force; episodes capped at 1000 steps.",
        "the maximum, one point for each of the 1000 steps",
    ),
)

DEFAULT_CONFIG_NAME = "trpo-default"
DEFAULT_CONFIG_DESCRIPTION = "The trainer's defaults (sb3-contrib's TRPO where it has an equivalent)."
DEMO_USERNAME = "demo"
