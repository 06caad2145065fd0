"""The benchmark's translation of rl-zoo's TRPO settings: every table in BENCHMARKS.md rests on it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import trpo_vs_sb3


def test_by_default_a_box_envs_trust_region_is_sb3_contribs_per_dimension_one_times_k() -> None:
    s = trpo_vs_sb3.zoo_settings("HalfCheetah-v5")  # 6 action dimensions, target_kl 0.04, cg_damping 0.1
    assert s.kl_scale == 6
    assert s.ours.max_kl == pytest.approx(0.24)
    assert s.ours.cg_damping == pytest.approx(0.6)
    assert s.sb3["target_kl"] == 0.04 and s.sb3["cg_damping"] == 0.1, "sb3-contrib keeps rl-zoo's numbers"


def test_copied_numbers_reproduce_the_earlier_tables() -> None:
    s = trpo_vs_sb3.zoo_settings(
        "HalfCheetah-v5", gsde=False, kl_per_action_dim=False, statistics_every_step=False, sb3_adam_eps=False
    )
    assert (s.kl_scale, s.ours.max_kl, s.ours.cg_damping) == (1, 0.04, 0.1)
    assert s.normalize and not s.ours.normalize_every_step
    assert s.ours.value_adam_eps == 1e-8
    assert trpo_vs_sb3.zoo_settings("HalfCheetah-v5").ours.value_adam_eps == 1e-5


def test_statistics_update_every_step_by_default_where_the_zoo_normalises() -> None:
    assert trpo_vs_sb3.zoo_settings("Hopper-v5").ours.normalize_every_step
    assert not trpo_vs_sb3.zoo_settings("CartPole-v1").ours.normalize_every_step, "no normalize in its zoo entry"
    note = trpo_vs_sb3.statistics_note([trpo_vs_sb3.zoo_settings("Hopper-v5")])
    assert "every env step" in note
    batch = trpo_vs_sb3.zoo_settings("Hopper-v5", statistics_every_step=False)
    assert "once per batch" in trpo_vs_sb3.statistics_note([batch])


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_discrete_and_one_dimensional_actions_are_unchanged(env_id: str) -> None:
    mapped, copied = trpo_vs_sb3.zoo_settings(env_id), trpo_vs_sb3.zoo_settings(env_id, kl_per_action_dim=False)
    assert mapped.kl_scale == 1
    assert (mapped.ours.max_kl, mapped.ours.cg_damping) == (copied.ours.max_kl, copied.ours.cg_damping)


def test_gsde_follows_the_zoo_entry_by_default_and_can_be_dropped() -> None:
    on = trpo_vs_sb3.zoo_settings("Pendulum-v1")
    assert on.ours.use_sde and on.ours.sde_sample_freq == 4 and on.sde == {"use_sde": True, "sde_sample_freq": 4}
    off = trpo_vs_sb3.zoo_settings("Pendulum-v1", gsde=False)
    assert not off.ours.use_sde and off.dropped == {"use_sde": True, "sde_sample_freq": 4} and not off.sde
    assert not trpo_vs_sb3.zoo_settings("CartPole-v1").ours.use_sde, "no gSDE where the zoo does not set it"


def test_the_command_line_defaults_and_their_negations() -> None:
    args = trpo_vs_sb3.parse_args([])
    assert args.gsde and args.kl_per_action_dim and args.statistics_every_step and args.sb3_adam_eps
    negated = ["--no-gsde", "--no-kl-per-action-dim", "--no-statistics-every-step", "--no-sb3-adam-eps"]
    args = trpo_vs_sb3.parse_args(negated)
    assert not (args.gsde or args.kl_per_action_dim or args.statistics_every_step or args.sb3_adam_eps)


def test_the_gsde_note_tells_not_set_from_switched_off() -> None:
    mujoco = [trpo_vs_sb3.zoo_settings("Hopper-v5")]
    assert trpo_vs_sb3.gsde_note(mujoco) == trpo_vs_sb3.GSDE_NOT_SET
    assert "gSDE on" in trpo_vs_sb3.gsde_note([trpo_vs_sb3.zoo_settings("Pendulum-v1")])
    assert "gSDE off" in trpo_vs_sb3.gsde_note([trpo_vs_sb3.zoo_settings("Pendulum-v1", gsde=False), *mujoco])


def test_the_rollout_curve_keeps_about_the_asked_points_and_always_the_last_update() -> None:
    metrics = [{"time/steps": 100 * (i + 1), "rollout/ep_return_mean": float(i)} for i in range(103)]
    curve = trpo_vs_sb3.rollout_curve(metrics, points=10)
    assert curve[0] == (100, 0.0) and curve[-1] == (10_300, 102.0)
    assert 10 <= len(curve) <= 12
    assert [s for s, _ in curve] == sorted({s for s, _ in curve}), "increasing, no repeats"
    assert trpo_vs_sb3.rollout_curve(metrics[:5], points=10) == [(100 * (i + 1), float(i)) for i in range(5)]
    assert trpo_vs_sb3.rollout_curve([]) == []
