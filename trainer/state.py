"""Resumable training state: everything needed to continue a run after its worker died.

Saved as safetensors (tensors) plus a JSON header (config, RNG states, metrics so far): no pickle, so a state file
is as safe to load as a checkpoint. Environments are not saved: training is cut into segments of
``checkpoint_every`` updates, and every segment starts from environments reset with a seed derived from
(run seed, segment index). An uninterrupted run does the same, so a resumed run reproduces it exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import safetensors.torch
import torch

from trainer.agent import Agent
from trainer.checkpoint import CheckpointError, check_safetensors_head
from trainer.config import TRPOConfig
from trainer.envs import SpaceInfo
from trainer.normalizer import ReturnScaler

STATE_FORMAT = "trustboard-trpo-state/1"
_META_KEY = "trustboard_state"


def segment_seed(seed: int, segment: int) -> int:
    """The env reset seed of segment ``segment`` (segment 0 uses the run's seed itself)."""
    if segment == 0:
        return seed
    return int(np.random.SeedSequence([seed, segment]).generate_state(1)[0]) % (2**31)


@dataclass
class TrainingState:
    """A run paused after update ``update``: networks, optimiser, RNGs, normalisers, episode stats and metrics."""

    update: int
    seed: int
    checkpoint_every: int
    elapsed_s: float
    tensors: dict[str, torch.Tensor]
    info: dict[str, Any]  # config, space, RNG states, episode stats, metrics

    @property
    def metrics(self) -> list[dict[str, float | None]]:
        if "metrics" in self.info:  # states written before the history moved into tensors
            return list(self.info["metrics"])
        return _decode_metrics(self.info["metric_keys"], self.tensors["metrics.values"], self.tensors["metrics.kinds"])

    def to_bytes(self) -> bytes:
        header = {
            "format": STATE_FORMAT,
            "update": self.update,
            "seed": self.seed,
            "checkpoint_every": self.checkpoint_every,
            "elapsed_s": self.elapsed_s,
            **self.info,
        }
        return safetensors.torch.save(self.tensors, metadata={_META_KEY: json.dumps(header, allow_nan=False)})

    @classmethod
    def from_bytes(cls, data: bytes) -> TrainingState:
        """Read a state; anything unreadable (truncated, a header missing a key) is a :class:`CheckpointError`, which
        the web worker answers by starting the run over, never by failing it."""
        try:
            return cls._from_bytes(data)
        except CheckpointError:
            raise
        except Exception as exc:  # SafetensorError, KeyError, json's ValueError, a wrong type
            raise CheckpointError(f"unreadable training state (truncated or corrupt?): {exc!r}") from exc

    @classmethod
    def _from_bytes(cls, data: bytes) -> TrainingState:
        header = _header(data)
        raw = (header.get("__metadata__") or {}).get(_META_KEY)
        if raw is None:
            raise CheckpointError("not a Trustboard training state")
        info = json.loads(raw)
        if info.pop("format", None) != STATE_FORMAT:
            raise CheckpointError(f"training state format is not {STATE_FORMAT}")
        tensors = safetensors.torch.load(data)
        return cls(
            update=int(info.pop("update")),
            seed=int(info.pop("seed")),
            checkpoint_every=int(info.pop("checkpoint_every")),
            elapsed_s=float(info.pop("elapsed_s")),
            tensors=tensors,
            info=info,
        )


def capture(
    agent: Agent,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    rng: np.random.Generator,
    reward_scaler: ReturnScaler,
    recent: tuple[list[float], list[int]],
    metrics: list[dict[str, float | None]],
    *,
    update: int,
    seed: int,
    checkpoint_every: int,
    elapsed_s: float,
) -> TrainingState:
    """Snapshot a run at a segment boundary (copies, so training can go on mutating its own objects)."""
    tensors = {f"actor.{k}": v.detach().cpu().clone() for k, v in agent.actor.state_dict().items()}
    tensors |= {f"critic.{k}": v.detach().cpu().clone() for k, v in agent.critic.state_dict().items()}
    tensors |= {f"obs_norm.{k}": torch.from_numpy(v.astype(np.float64)) for k, v in agent.normalizer.state().items()}
    tensors |= {f"ret_norm.{k}": torch.from_numpy(v.astype(np.float64)) for k, v in reward_scaler.state().items()}
    for i, param_state in optimizer.state_dict()["state"].items():
        for key, value in param_state.items():
            tensors[f"optim.{i}.{key}"] = value.detach().cpu().clone()
    tensors["rng.torch_generator"] = generator.get_state().clone()
    keys, tensors["metrics.values"], tensors["metrics.kinds"] = _encode_metrics(metrics)
    info = {
        "config": agent.config.to_dict(),
        "space": agent.space.to_dict(),
        "numpy_rng": rng.bit_generator.state,
        "recent_returns": list(recent[0]),
        "recent_lengths": list(recent[1]),
        "metric_keys": keys,
    }
    return TrainingState(update, seed, checkpoint_every, elapsed_s, tensors, info)


# How each cell of the metrics table is held: a number (NaN and infinities included), None, or a key that update
# did not report.
_NUMBER, _NONE, _ABSENT = 0, 1, 2


def _encode_metrics(metrics: list[dict[str, float | None]]) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """The metrics history as a float64 table and a table of cell kinds, one row per update.

    Why tensors and not the JSON header: JSON has no NaN (a skipped update's ``train/cg_residual`` is NaN, and
    writing it failed the run at its next save), and the header grew by ~560 bytes an update until, past ~18,600
    updates, it was over the 10 MiB a header may have and every later resume started the run over. Here an update
    costs 8 bytes a metric, and every value comes back as it was."""
    keys = list(dict.fromkeys(key for row in metrics for key in row))
    values = np.zeros((len(metrics), len(keys)), dtype=np.float64)
    kinds = np.full((len(metrics), len(keys)), _ABSENT, dtype=np.int8)
    for i, row in enumerate(metrics):
        for j, key in enumerate(keys):
            if key in row:
                value = row[key]
                kinds[i, j] = _NONE if value is None else _NUMBER
                values[i, j] = 0.0 if value is None else float(value)
    return keys, torch.from_numpy(values), torch.from_numpy(kinds)


def _decode_metrics(keys: list[str], values: torch.Tensor, kinds: torch.Tensor) -> list[dict[str, float | None]]:
    if values.shape != kinds.shape or values.ndim != 2 or values.shape[1] != len(keys):
        raise CheckpointError(f"training state metrics: {len(keys)} keys for a table of shape {tuple(values.shape)}")
    rows = []
    for value_row, kind_row in zip(values.tolist(), kinds.tolist(), strict=True):
        rows.append({
            key: (None if kind == _NONE else value)
            for key, value, kind in zip(keys, value_row, kind_row, strict=True) if kind != _ABSENT
        })  # fmt: skip
    return rows


# What a state that does not fit raises while loading: a missing key, a size mismatch, a wrong RNG state. Not every
# Exception: a time limit or MemoryError arriving meanwhile is not the state's fault, and must not start a run over.
_DOES_NOT_FIT = (KeyError, ValueError, TypeError, IndexError, AttributeError, RuntimeError)


def restore(
    state: TrainingState,
    agent: Agent,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    rng: np.random.Generator,
    reward_scaler: ReturnScaler,
) -> tuple[list[float], list[int]]:
    """Load ``state`` into freshly built training objects; return the episode statistics to carry on with.

    A state that does not fit (another config or spaces, a missing or misshapen part) is a :class:`CheckpointError`,
    whatever part gives way: the objects may then be half loaded, so the caller must build fresh ones (the web
    worker starts the run over) rather than train on."""
    try:
        config, space = TRPOConfig.from_dict(state.info["config"]), SpaceInfo.from_dict(state.info["space"])
    except _DOES_NOT_FIT as exc:
        raise CheckpointError(f"training state: unreadable config or spaces ({exc!r})") from exc
    if config != agent.config:
        raise CheckpointError("the training state was made with a different config")
    if space != agent.space:
        raise CheckpointError("the training state was made for different observation or action spaces")
    try:
        return _load_into(state, agent, optimizer, generator, rng, reward_scaler)
    except CheckpointError:
        raise
    except _DOES_NOT_FIT as exc:  # "KeyError: 'numpy_rng'" failed runs
        raise CheckpointError(f"training state does not fit this run: {exc!r}") from exc


def _load_into(
    state: TrainingState,
    agent: Agent,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    rng: np.random.Generator,
    reward_scaler: ReturnScaler,
) -> tuple[list[float], list[int]]:
    t = state.tensors
    device = next(agent.actor.parameters()).device
    agent.actor.load_state_dict({k[6:]: v for k, v in t.items() if k.startswith("actor.")})
    agent.critic.load_state_dict({k[7:]: v for k, v in t.items() if k.startswith("critic.")})
    obs_stats = {k[9:]: v.numpy() for k, v in t.items() if k.startswith("obs_norm.")}
    _check_shapes("observation statistics", obs_stats, agent.normalizer.state())
    agent.normalizer.load_state(obs_stats)
    return_stats = {k[9:]: v.numpy() for k, v in t.items() if k.startswith("ret_norm.")}
    if return_stats:  # states saved before reward scaling existed have none (and were made without it)
        _check_shapes("return statistics", return_stats, reward_scaler.state())
        reward_scaler.load_state(return_stats)
    optim_state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in t.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            optim_state.setdefault(int(index), {})[name] = value.to(device) if name != "step" else value
    # Adam's moments are shaped like their parameters; load_state_dict does not check, and a mismatch failed the
    # run at its first step instead of being refused here. Every parameter has them once one update has run.
    params = [p for group in optimizer.param_groups for p in group["params"]]
    if sorted(optim_state) != list(range(len(params))):
        raise CheckpointError(f"training state: optimiser state for {len(optim_state)} of {len(params)} parameters")
    for position, param in enumerate(params):
        for part, moment in optim_state[position].items():
            if part != "step" and moment.shape != param.shape:
                raise CheckpointError(f"training state: optim.{position}.{part} is {tuple(moment.shape)}, "
                                      f"its parameter {tuple(param.shape)}")  # fmt: skip
    full = optimizer.state_dict()
    full["state"] = optim_state
    optimizer.load_state_dict(full)
    generator.set_state(t["rng.torch_generator"])
    rng.bit_generator.state = state.info["numpy_rng"]
    state.metrics  # noqa: B018 - decoded here so that a misshapen history is refused before training goes on
    return [float(r) for r in state.info["recent_returns"]], [int(n) for n in state.info["recent_lengths"]]


def _check_shapes(what: str, loaded: dict[str, np.ndarray], fresh: dict[str, np.ndarray]) -> None:
    """The loaded arrays have the names and shapes of the freshly built object's (a (1,) mean broadcast silently)."""
    if set(loaded) != set(fresh):
        raise CheckpointError(f"training state: {what} hold {sorted(loaded)}, expected {sorted(fresh)}")
    for name, array in loaded.items():
        if np.shape(array) != np.shape(fresh[name]):
            raise CheckpointError(
                f"training state: {what} {name} is {np.shape(array)}, expected {np.shape(fresh[name])}"
            )


def _header(data: bytes) -> dict[str, Any]:
    n = check_safetensors_head(data[:9], len(data), "training state")
    return json.loads(data[8 : 8 + n])
