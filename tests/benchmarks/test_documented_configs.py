"""The config files docs/TRAINER.md hands to users are the configs the sweeps in BENCHMARKS.md measured.

Why: a user copies the JSON block and expects the sweep's result; if the block drifted from the sweep's variant (a
field dropped, a default changed under it), the copied file would train something nobody measured.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import config_sweep

from trainer.config import TRPOConfig

ROOT = Path(__file__).resolve().parents[2]

# env id, and the sweep variant's overrides of rl-zoo's settings, as BENCHMARKS.md records them.
SWEPT = {
    "CartPole-v1": {"n_steps": 1024, "gae_lambda": 0.95, "normalize_observations": True},
    "Hopper-v5": {"gamma": 0.995, "max_kl_schedule": "linear"},
    "Swimmer-v5": {"gae_lambda": 0.98},
}


def documented_configs() -> list[dict]:
    """Every ```json block of docs/TRAINER.md, in order."""
    text = (ROOT / "docs" / "TRAINER.md").read_text()
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", text, flags=re.S)]


def non_default_fields(config: TRPOConfig) -> dict:
    """What a config file must hold to give ``config``: the fields that differ from TRPOConfig's defaults.

    ``device`` is left out: the sweeps pin ``cpu`` for their one-thread runs, and a user's file keeps ``auto``.
    """
    defaults = TRPOConfig().to_dict()
    return {k: v for k, v in config.to_dict().items() if v != defaults[k] and k != "device"}


def test_each_documented_config_is_valid() -> None:
    configs = documented_configs()
    assert len(configs) == len(SWEPT)
    for config in configs:
        TRPOConfig.from_dict(config)  # raises with the field's message if a block is invalid


@pytest.mark.parametrize("env_id", sorted(SWEPT))
def test_the_documented_config_is_the_swept_variant(env_id: str) -> None:
    swept = non_default_fields(config_sweep.variant_settings(env_id, SWEPT[env_id]).ours)
    assert swept in documented_configs(), f"docs/TRAINER.md has no config block equal to the {env_id} sweep's {swept}"
