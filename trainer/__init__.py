"""Trustboard's TRPO trainer: a standalone PyTorch + gymnasium library (no Django).

from trainer import TRPOConfig, train, evaluate, save_checkpoint, load_policy
result = train(TRPOConfig(n_envs=2, n_steps=512), "CartPole-v1", total_steps=50_000, seed=0)
print(evaluate(result.agent, "CartPole-v1", episodes=10, seed=1000).mean)
"""

from trainer.agent import Agent, Policy
from trainer.checkpoint import (
    CheckpointError,
    checkpoint_bytes,
    load_agent,
    load_policy,
    read_metadata,
    save_checkpoint,
)
from trainer.config import ConfigError, FieldSpec, TRPOConfig, describe_fields
from trainer.envs import make_env_check
from trainer.evaluate import EvalResult, evaluate
from trainer.state import TrainingState
from trainer.train import METRIC_NAMES, TrainingDiverged, TrainResult, steps_for_budget, train

__all__ = [
    "METRIC_NAMES",
    "Agent",
    "CheckpointError",
    "ConfigError",
    "EvalResult",
    "FieldSpec",
    "Policy",
    "TRPOConfig",
    "TrainResult",
    "TrainingDiverged",
    "TrainingState",
    "checkpoint_bytes",
    "describe_fields",
    "evaluate",
    "load_agent",
    "load_policy",
    "make_env_check",
    "read_metadata",
    "save_checkpoint",
    "steps_for_budget",
    "train",
]
