from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from trainer import TRPOConfig, make_env_check, train
from trainer.envs import make_env, make_vector_env, space_info


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
        ("CartPole-v1", {"render_mode": "human"}, "must not set render_mode"),
    ],
)
def test_it_refuses_what_it_cannot_train(env_id: str, kwargs: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_env_check(env_id, kwargs)  # type: ignore[arg-type]


def test_it_accepts_valid_kwargs() -> None:
    spaces = make_env_check("Pendulum-v1", {"g": 9.81})
    assert spaces["action_space"].startswith("Box")


def test_every_builder_names_the_environment_when_gymnasium_refuses_its_kwargs() -> None:
    """Training, evaluation and rendering build environments too: a bad kwarg is a ValueError there as well, not
    gymnasium's TypeError (a traceback from the command line)."""
    kwargs = {"no_such_kwarg": 1}
    with pytest.raises(ValueError, match="could not build CartPole-v1"):
        make_env("CartPole-v1", kwargs)
    with pytest.raises(ValueError, match="could not build CartPole-v1"):
        make_vector_env("CartPole-v1", kwargs, 2)
    with pytest.raises(ValueError, match="could not build CartPole-v1"):
        train(TRPOConfig(n_envs=1, n_steps=64, value_minibatch_size=32), "CartPole-v1", kwargs, total_steps=64)


def test_the_check_takes_a_step_because_some_kwargs_fail_only_there() -> None:
    with pytest.raises(ValueError, match="Pendulum-v1 could not take a step with these kwargs"):
        make_env_check("Pendulum-v1", {"g": "abc"})


@pytest.mark.parametrize(
    ("seed", "steps", "message"),
    [(-1, 64, "seed must be an integer from 0"), (2**40, 64, "seed must be"), (0, 0, "total_steps must be a positive")],
)
def test_train_refuses_a_seed_or_budget_out_of_range(seed: int, steps: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        train(TRPOConfig(n_envs=1, n_steps=64, value_minibatch_size=32), "CartPole-v1", total_steps=steps, seed=seed)


def test_the_machines_trouble_is_not_blamed_on_the_kwargs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker tells its own failures (OSError: no memory or file descriptors) from the user's: not a ValueError."""
    import gymnasium as gym

    def no_descriptors(*args: object, **kwargs: object) -> None:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(gym, "make_vec", no_descriptors)
    with pytest.raises(OSError, match="Too many open files"):
        make_vector_env("CartPole-v1", {}, 2)


@pytest.mark.parametrize(
    ("action_space", "message"),
    [
        (gym.spaces.Discrete(3, start=1), "Discrete action spaces must start at 0"),
        (gym.spaces.Box(-2, 2, (2,), np.int64), "Box action spaces must have a floating-point dtype"),
        (gym.spaces.MultiDiscrete([3, 2]), "action space must be Discrete or a flat Box"),
    ],
)
def test_it_refuses_action_spaces_whose_actions_the_policy_would_get_wrong(
    action_space: gym.Space, message: str
) -> None:
    """A Discrete space starting at 1 was trained with actions 0..n-1 (0 outside the space, the others shifted),
    and an integer Box with real-valued actions, both without an error."""
    observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
    with pytest.raises(ValueError, match=message):
        space_info(observation_space, action_space)


@pytest.mark.parametrize(
    ("env_id", "advice"),
    [("CartPol-v1", "did you mean 'CartPole-v1'"), ("NoSuchThing/Zzz-v9", "install the package that registers it")],
)
def test_an_unregistered_id_comes_with_what_to_do(env_id: str, advice: str) -> None:
    with pytest.raises(ValueError, match="not registered") as refused:
        make_env_check(env_id, {})
    assert advice in str(refused.value)
