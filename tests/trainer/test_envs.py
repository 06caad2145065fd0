from __future__ import annotations

import pytest

from trainer import make_env_check


def test_it_describes_a_registered_env() -> None:
    spaces = make_env_check("CartPole-v1", {})
    assert spaces["action_space"] == "Discrete(2)"
    assert "Box" in spaces["observation_space"]


@pytest.mark.parametrize(
    ("env_id", "kwargs", "message"),
    [
        ("os:system", {}, "not a valid gymnasium id"),
        ("gymnasium.envs.classic_control:CartPoleEnv", {}, "not a valid gymnasium id"),
        ("NoSuchEnv-v0", {}, "not registered"),
        ("CartPole-v1", {"no_such_kwarg": 1}, "could not build"),
        ("CartPole-v1", [1, 2], "JSON object"),
        ("CartPole-v1", {"x": "a" * 5000}, "at most"),
        ("Blackjack-v1", {}, "observation space must be a flat Box"),
    ],
)
def test_it_refuses_what_it_cannot_train(env_id: str, kwargs: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_env_check(env_id, kwargs)  # type: ignore[arg-type]


def test_it_accepts_valid_kwargs() -> None:
    spaces = make_env_check("Pendulum-v1", {"g": 9.81})
    assert spaces["action_space"].startswith("Box")
