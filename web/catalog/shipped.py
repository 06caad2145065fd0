"""The environments Trustboard ships with, and the default TRPO config.

Reference returns (score 1) are the published results the community compares against: CartPole's maximum 500,
Acrobot -83, Pendulum -175 and MountainCarContinuous 92.5 (rl-baselines3-zoo's TRPO runs; the solved threshold is
90), rl-baselines3-zoo's single TRPO runs at 1M steps on the MuJoCo v3 environments (HalfCheetah 1786, Hopper 3618,
Walker2d 4933, Swimmer 366), and InvertedPendulum's maximum 1000. Hopper, HalfCheetah and Swimmer keep v3's model
in v5; Walker2d-v5 changed one foot's friction, which BENCHMARKS.md measured to move TRPO's mean by nothing
detectable (rl-zoo's settings: 4,666 on v4, v3's model, against 4,596 on v5). Random returns (score 0) are the mean
return of a uniform random policy.
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
    kwargs: dict[str, Any] = field(default_factory=dict)
    eval_episodes: int = 10
    eval_seed: int = 1000
    deterministic_eval: bool = True
    min_seeds: int = 3


SHIPPED: tuple[ShippedEnvironment, ...] = (
    ShippedEnvironment(
        "cartpole-v1",
        "CartPole-v1",
        100_000,
        22.0,
        500.0,
        "Balance a pole on a cart; discrete actions, episodes capped at 500 steps.",
    ),
    ShippedEnvironment(
        "acrobot-v1",
        "Acrobot-v1",
        200_000,
        -500.0,
        -83.0,
        "Swing a two-link arm above a line; sparse -1 reward per step, discrete actions.",
    ),
    ShippedEnvironment(
        "pendulum-v1",
        "Pendulum-v1",
        500_000,
        -1200.0,
        -175.0,
        "Swing a pendulum up and hold it; continuous torque, 200-step episodes.",
    ),
    ShippedEnvironment(
        "mountaincarcontinuous-v0",
        "MountainCarContinuous-v0",
        300_000,
        -34.0,
        92.5,
        "Drive an under-powered car up a hill; hard exploration, continuous action.",
    ),
    ShippedEnvironment(
        "hopper-v5", "Hopper-v5", 1_000_000, 18.0, 3618.0, "MuJoCo one-legged hopper: hop forward without falling."
    ),
    ShippedEnvironment(
        "halfcheetah-v5",
        "HalfCheetah-v5",
        1_000_000,
        -280.0,
        1786.0,
        "MuJoCo planar cheetah: run forward as fast as possible.",
    ),
    ShippedEnvironment(
        "walker2d-v5", "Walker2d-v5", 1_000_000, 2.0, 4933.0, "MuJoCo planar biped: walk forward without falling."
    ),
    ShippedEnvironment(
        "swimmer-v5", "Swimmer-v5", 1_000_000, 0.0, 366.0, "MuJoCo three-link swimmer in a viscous fluid: swim forward."
    ),
    ShippedEnvironment(
        "invertedpendulum-v5",
        "InvertedPendulum-v5",
        300_000,
        5.0,
        1000.0,
        "MuJoCo cart-pole with continuous force; episodes capped at 1000 steps.",
    ),
)

DEFAULT_CONFIG_NAME = "trpo-default"
DEFAULT_CONFIG_DESCRIPTION = "The trainer's defaults (sb3-contrib's TRPO where it has an equivalent)."
DEMO_USERNAME = "demo"
