"""sb3-contrib / rl-zoo TRPO settings translated into a TRPOConfig."""

from __future__ import annotations

from typing import Any

import pytest

from trainer import ConfigError, TRPOConfig
from trainer.sb3_compat import action_dimensions, config_from_sb3

# rl-baselines3-zoo's hyperparams/trpo.yml entry for HalfCheetah (the MuJoCo defaults with target_kl 0.04).
ZOO_HALFCHEETAH: dict[str, Any] = dict(
    normalize=True, n_envs=2, policy="MlpPolicy", n_timesteps=1_000_000, batch_size=128, n_steps=1024, gamma=0.99,
    gae_lambda=0.95, sub_sampling_factor=1, cg_max_steps=25, cg_damping=0.1, n_critic_updates=20, learning_rate=0.001,
    target_kl=0.04,
)  # fmt: skip


def test_a_zoo_entry_becomes_the_same_run_with_the_kl_scaled_by_the_action_dimensions() -> None:
    config = config_from_sb3(ZOO_HALFCHEETAH, action_dims=6, device="cpu")
    assert config.max_kl == pytest.approx(0.24) and config.cg_damping == pytest.approx(0.6)
    assert (config.n_envs, config.n_steps, config.value_minibatch_size, config.value_epochs) == (2, 1024, 128, 20)
    assert (config.cg_iters, config.value_lr, config.gamma, config.gae_lambda) == (25, 0.001, 0.99, 0.95)
    assert config.normalize_observations and config.normalize_rewards
    assert config.normalize_every_step, "VecNormalize updates its statistics every step"
    assert config.device == "cpu", "overrides are applied last"


def test_omitted_keys_take_sb3_contribs_defaults_not_ours() -> None:
    config = config_from_sb3({}, action_dims=1)
    assert (config.n_envs, config.n_steps, config.cg_iters, config.value_epochs) == (1, 2048, 15, 10)
    assert (config.max_kl, config.cg_damping, config.line_search_shrink, config.line_search_steps) == (
        0.01,
        0.1,
        0.8,
        10,
    )
    assert config.hidden_sizes == (64, 64) and config.activation == "tanh" and config.log_std_init == 0.0
    assert not config.normalize_observations and not config.use_sde and not config.normalize_every_step
    assert config.value_adam_eps == 1e-5, "sb3's ActorCriticPolicy gives Adam eps=1e-5; PyTorch's default is 1e-8"
    assert TRPOConfig().value_adam_eps == 1e-8


@pytest.mark.parametrize(("env_id", "k"), [("CartPole-v1", 1), ("Pendulum-v1", 1), ("HalfCheetah-v5", 6)])
def test_action_dimensions_count_box_dimensions_and_one_for_discrete(env_id: str, k: int) -> None:
    assert action_dimensions(env_id) == k


def test_policy_kwargs_and_vecnormalize_arguments_translate() -> None:
    config = config_from_sb3(
        {
            "policy_kwargs": {
                "net_arch": {"pi": [32], "vf": [128, 128]},
                "activation_fn": "nn.ReLU",
                "log_std_init": -1.0,
                "ortho_init": True,
            },
            "normalize": {"norm_obs": True, "norm_reward": False, "clip_obs": 5.0, "gamma": 0.99},
            "use_sde": True,
            "sde_sample_freq": 4,
        },
        action_dims=2,
    )
    assert config.hidden_sizes == (32,) and config.value_hidden_sizes == (128, 128)
    assert config.activation == "relu" and config.log_std_init == -1.0
    assert config.normalize_observations and not config.normalize_rewards and config.obs_clip == 5.0
    assert config.use_sde and config.sde_sample_freq == 4
    assert config_from_sb3({"policy_kwargs": {"net_arch": [256, 256]}}, 1).value_hidden_sizes == (256, 256)


@pytest.mark.parametrize(
    ("hyperparams", "named"),
    [
        ({"ent_coef": 0.01}, "ent_coef"),  # a PPO setting
        ({"policy": "CnnPolicy"}, "policy"),
        ({"policy_kwargs": {"ortho_init": False}}, "policy_kwargs.ortho_init"),
        ({"policy_kwargs": {"activation_fn": "nn.GELU"}}, "policy_kwargs.activation_fn"),
        ({"policy_kwargs": {"net_arch": {"pi": [64]}}}, "policy_kwargs.net_arch"),
        ({"policy_kwargs": {"net_arch": {"pi": 64, "vf": 64}}}, "policy_kwargs.net_arch"),
        ({"policy_kwargs": {"net_arch": [64, "wide"]}}, "hidden_sizes"),
        ({"policy_kwargs": "__import__('os').getcwd()"}, "policy_kwargs"),  # rl-zoo's strings: literals only
        ({"n_steps": [1024]}, "n_steps"),
        ({"normalize": {"norm_obs": True, "epsilon": 1e-4}}, "normalize.epsilon"),
        ({"normalize": "yes"}, "normalize"),
        ({"target_kl": "0.01"}, "target_kl"),
        ({"target_kl": 10**400}, "target_kl"),  # float() raised OverflowError, a 500 on /configs/import/
        ({"gamma": 10**400}, "gamma"),
        ({"target_kl": 2.0}, "target_kl → max_kl"),  # out of max_kl's range: TRPOConfig's message, the key as given
        ({"n_timesteps": 10**400}, "n_timesteps"),  # formatting it overflowed: a 500 on /configs/import/
        ({"n_timesteps": float("nan")}, "n_timesteps"),
        ({"n_timesteps": float("inf")}, "n_timesteps"),
        ({"n_timesteps": 0}, "n_timesteps"),
        ({"n_timesteps": 2.5}, "n_timesteps"),
        ({"n_timesteps": "1e6"}, "n_timesteps"),
    ],
)
def test_untranslatable_settings_raise_an_error_naming_them(hyperparams: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{named}:"):
        config_from_sb3(hyperparams, action_dims=1)


@pytest.mark.parametrize("budget", [1, 1e6, 2_000_000, 10**12])
def test_a_budget_is_accepted_and_left_to_the_caller(budget: float) -> None:
    assert config_from_sb3({"n_timesteps": budget}, action_dims=1) == config_from_sb3({}, action_dims=1)


def test_action_dims_must_be_a_positive_integer() -> None:
    with pytest.raises(ConfigError, match="action_dims"):
        config_from_sb3({}, action_dims=0)


def test_the_result_round_trips_through_the_web_forms_validation() -> None:
    config = config_from_sb3(ZOO_HALFCHEETAH, action_dims=6)
    assert TRPOConfig.from_dict(config.to_dict()) == config
