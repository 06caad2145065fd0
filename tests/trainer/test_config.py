from __future__ import annotations

import pytest

from trainer import ConfigError, TRPOConfig, describe_fields


def test_it_round_trips_through_a_dict() -> None:
    config = TRPOConfig(max_kl=0.02, hidden_sizes=(32, 32, 16), normalize_observations=True)
    assert TRPOConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({"max_kl": -0.1}, "max_kl", "(0, 1]"),
        ({"max_kl": 0}, "max_kl", "(0, 1]"),
        ({"cg_iters": 0}, "cg_iters", "[1, 100]"),
        ({"cg_iters": 2.5}, "cg_iters", "must be an integer in [1, 100]"),
        ({"gamma": "0.99"}, "gamma", "must be a number in (0, 1]"),
        ({"gamma": float("nan")}, "gamma", "must be a number in (0, 1]"),
        ({"gamma": 10**400}, "gamma", "must be a number in (0, 1], not an integer of 1329 bits"),  # OverflowError
        ({"activation": 1}, "activation", "one of tanh, relu, elu"),
        ({"line_search_shrink": 1.0}, "line_search_shrink", "(0, 1)"),
        ({"normalize_advantage": 1}, "normalize_advantage", "true or false"),
        ({"hidden_sizes": [64, 0]}, "hidden_sizes", "[1, 4096]"),
        ({"hidden_sizes": []}, "hidden_sizes", "between 1 and 8"),
        ({"hidden_sizes": "64,64"}, "hidden_sizes", "list of integers, each in [1, 4096]"),
        ({"activation": "sigmoid"}, "activation", "one of tanh, relu, elu"),
        ({"device": "tpu"}, "device", "one of auto, cpu, cuda"),
        ({"learning_rate": 0.1}, "learning_rate", "unknown field"),
        ({"n_steps": 16, "value_minibatch_size": 64}, "value_minibatch_size", "at most the batch size"),
    ],
)
def test_it_rejects_bad_values_naming_the_field_and_range(data: dict, field: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        TRPOConfig.from_dict(data)
    assert excinfo.value.field == field
    assert fragment in str(excinfo.value)


def test_it_rejects_a_non_object() -> None:
    with pytest.raises(ConfigError, match="JSON object"):
        TRPOConfig.from_dict([1, 2])  # type: ignore[arg-type]


def test_it_accepts_integral_floats_for_integer_fields() -> None:
    assert TRPOConfig.from_dict({"cg_iters": 10.0}).cg_iters == 10


def test_it_describes_every_field_for_forms() -> None:
    specs = {s.name: s for s in describe_fields()}
    assert set(specs) == set(TRPOConfig().to_dict())
    assert specs["max_kl"].range_text == "(0, 1]"
    assert specs["max_kl"].default == 0.01
    assert specs["activation"].kind == "choice"
    assert specs["hidden_sizes"].kind == "int_list"
    assert all(s.help for s in specs.values())


def test_a_config_built_directly_takes_the_types_from_dict_takes() -> None:
    """TRPOConfig(n_envs=1.5) was accepted and failed inside gymnasium; hidden_sizes=[64, 64] was refused as a count."""
    import numpy as np

    config = TRPOConfig(hidden_sizes=[32, 32], n_steps=np.int64(256), value_minibatch_size=64.0)
    assert (config.hidden_sizes, config.n_steps, config.value_minibatch_size) == ((32, 32), 256, 64)
    assert type(config.n_steps) is int and config == TRPOConfig.from_dict(config.to_dict())
    for field, value in (("n_envs", 1.5), ("torch_threads", 2.5), ("hidden_sizes", (8.5,)), ("n_steps", "64")):
        with pytest.raises(ConfigError, match=rf"^{field}: must be"):
            TRPOConfig(**{field: value})
