"""Checkpoints: one safetensors file holding the weights, with the run's description as JSON in its header.

safetensors stores raw tensors and a JSON header, nothing executable, so a downloaded checkpoint cannot run code
when it is loaded. Pickle-based files (``torch.save``) are refused outright.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import safetensors
import safetensors.torch
import torch

from trainer.agent import Agent, Policy
from trainer.config import ConfigError, TRPOConfig
from trainer.envs import SpaceInfo
from trainer.policies import NumpyActor

FORMAT = "trustboard-trpo/1"
_META_KEY = "trustboard"
MAX_HEADER_BYTES = 10 * 1024 * 1024


class CheckpointError(ValueError):
    """The file is not a Trustboard checkpoint (or not a safe one)."""


def _named_state(agent: Agent) -> dict[str, Any]:
    """Every value a checkpoint holds, under its name: the networks' tensors and the observation statistics."""
    state: dict[str, Any] = {f"actor.{k}": v for k, v in agent.actor.state_dict().items()}
    state |= {f"critic.{k}": v for k, v in agent.critic.state_dict().items()}
    state |= {f"obs_norm.{k}": v for k, v in agent.normalizer.state().items()}
    return state


def _tensors(agent: Agent) -> dict[str, torch.Tensor]:
    return {
        name: v.detach().cpu().contiguous()
        if isinstance(v, torch.Tensor)
        else torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64))
        for name, v in _named_state(agent).items()
    }


def _metadata(
    agent: Agent,
    env_id: str,
    env_kwargs: dict[str, Any] | None,
    summary: dict[str, Any] | None,
    versions: dict[str, str] | None,
) -> dict[str, str]:
    info = {
        "format": FORMAT,
        "env_id": env_id,
        "env_kwargs": env_kwargs or {},
        "config": agent.config.to_dict(),
        "space": agent.space.to_dict(),
        "versions": versions or {},
        "summary": summary or {},
    }
    return {_META_KEY: json.dumps(info, allow_nan=False)}


def checkpoint_bytes(
    agent: Agent,
    *,
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    summary: dict[str, Any] | None = None,
    versions: dict[str, str] | None = None,
) -> bytes:
    """The checkpoint file's bytes, for storage backends that take content rather than a path."""
    return safetensors.torch.save(_tensors(agent), metadata=_metadata(agent, env_id, env_kwargs, summary, versions))


def save_checkpoint(agent: Agent, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write :func:`checkpoint_bytes` to ``path`` (keyword arguments as there)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed over it: an interrupted save leaves the old file or none, never a
    # truncated one.
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(checkpoint_bytes(agent, **kwargs))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON description stored in a checkpoint (config, env, spaces, versions, summary)."""
    _refuse_non_safetensors(Path(path))
    try:
        with safetensors.safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(_META_KEY)
    except Exception as exc:  # SafetensorError (truncated, bad header) is not a ValueError
        raise _unreadable(path, exc) from exc
    if raw is None:
        raise CheckpointError(f"{path} is a safetensors file but not a Trustboard checkpoint")
    try:
        info = json.loads(raw)
    except ValueError as exc:
        raise CheckpointError(f"{path}: the checkpoint's description is not valid JSON: {exc}") from exc
    if not isinstance(info, dict):
        raise CheckpointError(f"{path}: the checkpoint's description must be a JSON object")
    if info.get("format") != FORMAT:
        raise CheckpointError(f"{path} has format {info.get('format')!r}; this trainer reads {FORMAT!r}")
    _check_description(info, path)
    return info


# The description's fields a loader relies on, with their JSON types; "space" is checked by SpaceInfo.from_dict.
_DESCRIPTION_TYPES: dict[str, type] = {"env_id": str, "env_kwargs": dict, "config": dict, "space": dict}


def _check_description(info: dict[str, Any], path: str | os.PathLike[str]) -> None:
    for name, kind in _DESCRIPTION_TYPES.items():
        if not isinstance(info.get(name), kind):
            raise CheckpointError(f"{path}: the checkpoint's description lacks {name!r} (a JSON {kind.__name__})")
    summary = info.get("summary", {})
    if not isinstance(summary, dict) or not isinstance(summary.get("evaluation", {}), dict):
        raise CheckpointError(f"{path}: the checkpoint's summary (and its evaluation) must be JSON objects")
    try:
        SpaceInfo.from_dict(info["space"])
    except ValueError as exc:
        raise CheckpointError(f"{path}: {exc}") from exc


def load_agent(path: str | os.PathLike[str]) -> tuple[Agent, dict[str, Any]]:
    """Rebuild the full agent (policy, value function, observation statistics) on CPU, and its metadata."""
    info = read_metadata(path)
    try:
        config = TRPOConfig.from_dict({**info["config"], "device": "cpu"})
    except ConfigError as exc:
        raise CheckpointError(f"{path}: the checkpoint's config: {exc}") from exc
    space = SpaceInfo.from_dict(info["space"])
    # The shapes the description implies, from networks built without memory, are compared with the file's header
    # before anything is allocated: an edited description (a 39 KB file claiming 50,000 inputs) must be refused
    # without building networks of gigabytes first.
    with torch.device("meta"):
        skeleton = Agent.build(config, space)
    _check_shapes(_header_shapes(path), _shapes(skeleton), path)
    agent = Agent.build(config, space)
    try:
        tensors = safetensors.torch.load_file(str(path), device="cpu")
    except Exception as exc:  # SafetensorError, as in read_metadata
        raise _unreadable(path, exc) from exc
    _check_values(tensors, path)
    agent.actor.load_state_dict(_prefixed(tensors, "actor."))
    agent.critic.load_state_dict(_prefixed(tensors, "critic."))
    agent.normalizer.load_state({k: v.numpy() for k, v in _prefixed(tensors, "obs_norm.").items()})
    return agent, info


def _unreadable(path: str | os.PathLike[str], exc: Exception) -> CheckpointError:
    return CheckpointError(f"{path} is not a readable safetensors file (truncated or corrupt?): {exc}")


def _shapes(agent: Agent) -> dict[str, tuple[int, ...]]:
    """Every tensor name a checkpoint of this agent holds, with its shape (works on a ``meta``-device agent)."""
    return {name: tuple(np.shape(v)) for name, v in _named_state(agent).items()}


def _header_shapes(path: str | os.PathLike[str]) -> dict[str, tuple[int, ...]]:
    try:
        with safetensors.safe_open(str(path), framework="pt") as f:
            return {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}  # noqa: SIM118 (not a dict)
    except Exception as exc:  # SafetensorError, as in read_metadata
        raise _unreadable(path, exc) from exc


def _check_shapes(
    found: dict[str, tuple[int, ...]], expected: dict[str, tuple[int, ...]], path: str | os.PathLike[str]
) -> None:
    """The file's tensors must be exactly those the recorded config and spaces build, shape for shape: an edited
    description or a file spliced from two checkpoints is refused here, in one line, instead of failing in a
    matrix product (or broadcasting silently) when the policy acts."""
    missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    if missing or extra:
        raise CheckpointError(
            f"{path}: its tensors do not match its description (missing: {', '.join(missing) or 'none'}; "
            f"unexpected: {', '.join(extra) or 'none'})"
        )
    for name, want in expected.items():
        if found[name] != want:
            raise CheckpointError(
                f"{path}: tensor {name} has shape {found[name]}, but its description needs shape {want}"
            )


def _check_values(found: dict[str, torch.Tensor], path: str | os.PathLike[str]) -> None:
    """Finite values, and observation statistics that can be statistics (a negative variance gave NaN actions,
    blamed later on the observation). Names and shapes were checked against the header before loading."""
    for name, got in found.items():
        if not torch.isfinite(got).all():
            raise CheckpointError(f"{path}: tensor {name} has non-finite values")
        if name in ("obs_norm.var", "obs_norm.count") and (got < 0).any():
            raise CheckpointError(f"{path}: tensor {name} has negative values, which no variance or count has")


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Load a checkpoint for acting: ``load_policy("run.safetensors").act(obs)``. CPU only, whatever trained it."""
    agent, info = load_agent(path)
    policy = Policy(NumpyActor(agent.actor), agent.normalizer, agent.space)
    policy.metadata = info
    return policy


def _prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def _refuse_non_safetensors(path: Path) -> None:
    """Check the header shape before any parser sees the file; name pickles for what they are."""
    try:
        with path.open("rb") as f:
            head = f.read(9)
        size = path.stat().st_size
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc}") from exc
    check_safetensors_head(head, size, str(path))


def check_safetensors_head(head: bytes, size: int, name: str) -> int:
    """Refuse anything but a safetensors layout (u64 header length, then a JSON object); return that length.

    The layout is checked first and the pickle signatures only to name a refusal: a safetensors header length
    whose low byte is 0x80 (one checkpoint in 256) starts with the same byte as a pickle.
    """
    if len(head) >= 9:
        (header_len,) = struct.unpack("<Q", head[:8])
        if header_len <= min(MAX_HEADER_BYTES, size - 8) and head[8:9] == b"{":
            return int(header_len)
    if head[:1] == b"\x80" or head[:2] == b"PK":
        raise CheckpointError(
            f"{name} is a pickle (torch.save) file; it is refused because loading a pickle can run arbitrary code"
        )
    if len(head) < 9:
        raise CheckpointError(f"{name} is not a safetensors checkpoint (too short)")
    raise CheckpointError(f"{name} is not a safetensors checkpoint")
