"""rl-zoo trpo.yml entries read as plain data: YAML as rl-zoo writes it, JSON, and nothing in them is ever run."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer import ConfigError
from trainer.sb3_compat import config_from_sb3
from trainer.zoo_entry import parse_zoo_entry, zoo_expression

# As rl-baselines3-zoo writes an entry: under its env id, !!float tags, policy_kwargs as a Python expression.
ZOO_YAML = """
# Tuned
Walker2d-v3:
  normalize: true
  n_envs: 2
  policy: 'MlpPolicy'
  n_timesteps: !!float 1e6
  n_steps: 1024
  target_kl: 0.04
  learning_rate: !!float 3e-4
  policy_kwargs: "dict(log_std_init=-2, ortho_init=True, activation_fn=nn.ReLU,
                       net_arch=dict(pi=[256, 256], vf=[256, 256]))"
"""


def test_an_entry_as_rl_zoo_writes_it_translates() -> None:
    entry = parse_zoo_entry(ZOO_YAML)
    assert entry.env_id == "Walker2d-v3"
    assert entry.hyperparams["n_timesteps"] == 1_000_000 and entry.hyperparams["learning_rate"] == 3e-4
    config = config_from_sb3(entry.hyperparams, action_dims=6)
    assert config.hidden_sizes == (256, 256) and config.value_hidden_sizes == (256, 256)
    assert (config.activation, config.log_std_init, config.value_lr) == ("relu", -2.0, 3e-4)
    assert config.max_kl == 0.24 and config.cg_damping == 0.6, "k × δ without float noise"
    assert config.normalize_observations and config.n_envs == 2


def test_bare_settings_json_and_yaml_exponents_read_as_numbers() -> None:
    assert parse_zoo_entry('{"n_steps": 512, "target_kl": 0.01}').hyperparams == {"n_steps": 512, "target_kl": 0.01}
    bare = parse_zoo_entry("learning_rate: 1e-3\ncg_damping: 1.0e-2\nnormalize: \"{'norm_reward': False}\"\n")
    assert bare.env_id is None
    assert bare.hyperparams == {"learning_rate": 0.001, "cg_damping": 0.01, "normalize": "{'norm_reward': False}"}
    assert not config_from_sb3(bare.hyperparams, action_dims=1).normalize_rewards, "the string read as a dict"
    one_key = parse_zoo_entry("policy_kwargs: {net_arch: [32]}")  # one key, a mapping: a setting, not an env id
    assert one_key.env_id is None and one_key.hyperparams == {"policy_kwargs": {"net_arch": [32]}}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "CartPole-v1: {n_envs: 8}\nPendulum-v1: {n_envs: 4}\n",
            "holds 2 environments' entries (CartPole-v1, Pendulum-v1)",
        ),
        ("base: &b {n_envs: 2}\nHopper-v3: *b\n", "aliases (*b, line 2) are not accepted"),
        ("[1, 2]", "must be a mapping"),
        ("n_steps: [1, 2\n", "neither JSON nor YAML"),
        ('{"target_kl": NaN}', "NaN is not a number"),
        ("1: 2", "setting names are words"),
        ("policy_kwargs: " + "[" * 20 + "]" * 20, "nested more than"),
    ],
)
def test_bad_text_is_explained(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        parse_zoo_entry(text)
    assert fragment in str(caught.value), str(caught.value)


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('touch {marker}')",
        "open('{marker}', 'w')",
        "dict(**{{'net_arch': [64]}})",
        "[x for x in ()]",
        "lambda: 0",
        "nn.ReLU()",
        "dict(net_arch=eval('1'))",
        "(1).__class__",
    ],
)
def test_expression_strings_are_read_never_run(expression: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with pytest.raises(ConfigError) as caught:
        zoo_expression("policy_kwargs", expression.format(marker=marker))
    assert caught.value.field == "policy_kwargs"
    assert not marker.exists()


def test_expression_strings_give_literals_and_names_as_text() -> None:
    value = zoo_expression(
        "policy_kwargs", "dict(net_arch=[dict(pi=[64], vf=(32, 32))], activation_fn=th.nn.Tanh, x=-1.5)"
    )
    assert value == {"net_arch": [{"pi": [64], "vf": [32, 32]}], "activation_fn": "th.nn.Tanh", "x": -1.5}


@pytest.mark.parametrize(
    ("hyperparams", "fragment"),
    [
        ({"learning_rate": "lin_1e-3"}, "learning_rate: rl-zoo's linear schedule"),
        ({"env_wrapper": "sb3_contrib.common.wrappers.TimeFeatureWrapper"}, "env_wrapper: changes rl-zoo's"),
        ({"target_kl": 0.5}, "target_kl → max_kl: must be in (0, 1], got 3.0"),
    ],
)
def test_translation_errors_name_the_key_the_entry_used(hyperparams: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_sb3(hyperparams, action_dims=6)
    assert fragment in str(caught.value), str(caught.value)


def test_expression_strings_have_a_depth_and_length_limit() -> None:
    with pytest.raises(ConfigError, match="nested more than"):
        zoo_expression("policy_kwargs", "[" * 20 + "]" * 20)
    with pytest.raises(ConfigError, match="at most 2000 characters"):
        zoo_expression("policy_kwargs", "[" + "1, " * 1000 + "]")
