"""Command line: ``python -m trainer train|evaluate|play|from-sb3``.

python -m trainer train --env CartPole-v1 --steps 100000 --seed 0 [--config cfg.json] --out DIR
python -m trainer evaluate DIR/checkpoint.safetensors [--episodes N] [--seed S] [--stochastic]
    (defaults: the evaluation the checkpoint records it was scored with; else 10 episodes from seed 1,000,000)
python -m trainer play DIR/checkpoint.safetensors --gif out.gif
python -m trainer from-sb3 zoo_entry.yml [--env HalfCheetah-v5] > cfg.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from trainer.checkpoint import CheckpointError, load_policy, save_checkpoint
from trainer.config import ConfigError, TRPOConfig
from trainer.envs import check_seed, make_env_check
from trainer.evaluate import evaluate
from trainer.render import DEFAULT_MAX_WIDTH, record_gif
from trainer.sb3_compat import action_dimensions, config_from_sb3
from trainer.train import TrainingDiverged, resolve_device, steps_for_budget, train
from trainer.zoo_entry import parse_zoo_entry

# The benchmarks' evaluation (BENCHMARKS.md): 10 deterministic episodes, episode i reset with seed 1,000,000 + i.
DEFAULT_EVAL_EPISODES = 10
DEFAULT_EVAL_SEED = 1_000_000
# A checkpoint's recorded episode count is replayed by default; an edited one must not run for ever (the web's
# environments allow 100).
MAX_RECORDED_EPISODES = 10_000


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ConfigError, CheckpointError, TrainingDiverged, ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trainer", description="Train and evaluate TRPO agents.")
    sub = p.add_subparsers(required=True)
    t = sub.add_parser("train", help="train an agent and evaluate it")
    t.add_argument("--env", required=True, help="gymnasium id, e.g. CartPole-v1")
    t.add_argument("--env-kwargs", default="{}", help="JSON object of keyword arguments for gymnasium.make")
    t.add_argument("--steps", type=int, default=100_000, help="training budget in environment steps")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--config", type=Path, help="JSON file of TRPOConfig fields (others take defaults)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="override one config field")
    t.add_argument("--eval-episodes", type=int, default=DEFAULT_EVAL_EPISODES)
    t.add_argument("--eval-seed", type=int, default=DEFAULT_EVAL_SEED)
    t.add_argument("--out", type=Path, required=True, help="directory for config, metrics, checkpoint, eval")
    t.set_defaults(func=_train)
    e = sub.add_parser("evaluate", help="evaluate a checkpoint (by default as its recorded score was measured)")
    e.add_argument("checkpoint", type=Path)
    e.add_argument("--episodes", type=int, default=None, help="default: as recorded in the checkpoint, else 10")
    e.add_argument("--seed", type=int, default=None, help="default: as recorded in the checkpoint, else 1,000,000")
    e.add_argument(
        "--stochastic",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="sample actions (--stochastic) or take the mode (--no-stochastic); default: as recorded in the "
        "checkpoint, else the mode",
    )
    e.set_defaults(func=_evaluate)
    g = sub.add_parser("play", help="play one episode and save it as an animated GIF")
    g.add_argument("checkpoint", type=Path)
    g.add_argument("--gif", type=Path, required=True)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--max-steps", type=int, default=1000)
    g.add_argument(
        "--every",
        type=int,
        default=None,
        help="keep one frame in this many steps (default: as few as real-time playback allows)",
    )
    g.add_argument(
        "--width",
        type=int,
        default=DEFAULT_MAX_WIDTH,
        help=f"scale wider frames down to this many pixels (default {DEFAULT_MAX_WIDTH}; 0 keeps them as rendered)",
    )
    g.set_defaults(func=_play)
    c = sub.add_parser(
        "from-sb3",
        help="print the TRPOConfig JSON of an sb3-contrib / rl-zoo TRPO entry (KL mapped per action dimension)",
    )
    c.add_argument("hyperparams", type=Path, help="an rl-zoo trpo.yml entry (YAML or JSON, bare or under its env id)")
    c.add_argument(
        "--env",
        help="gymnasium id: its action dimensions scale target_kl and cg_damping (default: the entry's env id)",
    )
    c.add_argument("--env-kwargs", default="{}", help="JSON object of keyword arguments for gymnasium.make")
    c.set_defaults(func=_from_sb3)
    return p


def _read_text(path: Path, what: str) -> str:
    """A text file the user named; the error says which one (UnicodeDecodeError alone named a byte, not the file)."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{what} {path} is not UTF-8 text: {exc.reason} at byte {exc.start}") from exc


def _json_arg(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{what} is not valid JSON: {exc}") from exc


def _load_config(args: argparse.Namespace) -> TRPOConfig:
    data: Any = {}
    if args.config:
        data = _json_arg(_read_text(args.config, "config file"), f"config file {args.config}")
        if not isinstance(data, dict):
            raise ConfigError(str(args.config), "must hold a JSON object of TRPOConfig fields")
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE, e.g. --set max_kl=0.02")
        try:
            data[key] = json.loads(value)
        except ValueError:
            data[key] = value  # a bare word is a string: --set activation=relu
    return TRPOConfig.from_dict(data)


def _train(args: argparse.Namespace) -> int:
    # Everything a run needs is checked before anything is written: a mistyped id or flag must not leave a
    # half-written directory, nor overwrite the files of an earlier run in it.
    config = _load_config(args)
    env_kwargs = _json_arg(args.env_kwargs, "--env-kwargs")
    if args.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {args.steps}")
    if args.eval_episodes < 1:
        raise ValueError(f"--eval-episodes must be at least 1, got {args.eval_episodes}")
    check_seed(args.seed, "--seed")
    check_seed(args.eval_seed, "--eval-seed")
    resolve_device(config.device)
    make_env_check(args.env, env_kwargs)

    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file: name a directory for the run's files (it is created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file where a parent directory should be, no permission, a full disk
        raise ValueError(f"--out {out}: cannot create the directory ({exc.strerror})") from exc
    for stale in ("eval.json", "checkpoint.safetensors"):  # an earlier run's results must not sit beside this one
        (out / stale).unlink(missing_ok=True)
    (out / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
    bar = tqdm(total=steps_for_budget(config, args.steps), unit="step", dynamic_ncols=True)
    try:
        with (out / "metrics.jsonl").open("w") as metrics_file:

            def on_update(m: dict[str, float | None]) -> None:
                metrics_file.write(json.dumps(m) + "\n")
                bar.update(int(m["time/steps"] or 0) - bar.n)
                ret = m["rollout/ep_return_mean"]
                bar.set_postfix(sps=f"{m['time/steps_per_s']:.0f}", ret="-" if ret is None else f"{ret:.1f}")

            with _stop_on_first_interrupt() as interrupted:
                result = train(config, args.env, env_kwargs, args.steps, args.seed, on_update=on_update,
                               should_stop=interrupted.is_set)  # fmt: skip
    finally:
        bar.close()
    if result.stopped and result.updates == 0:
        print("interrupted before the first update: nothing to save", file=sys.stderr)
        return 130
    summary: dict[str, Any] = {
        "evaluation": {"episodes": args.eval_episodes, "seed": args.eval_seed, "deterministic": True},
        "steps": result.steps,
        "wall_clock_s": result.wall_clock_s,
        "seed": args.seed,
    }

    def save(summary: dict[str, Any]) -> Path:
        return save_checkpoint(result.agent, out / "checkpoint.safetensors", env_id=args.env, env_kwargs=env_kwargs,
                               summary=summary, versions=result.versions)  # fmt: skip

    # Saved before the evaluation too: an evaluation that fails or is interrupted must not lose the trained agent
    # (`python -m trainer evaluate` can score it later); rewritten with the score once there is one.
    ckpt = save(summary)
    if result.stopped:
        print(f"interrupted after {result.steps:,} of {steps_for_budget(config, args.steps):,} steps; checkpoint "
              f"{ckpt} (not evaluated: python -m trainer evaluate {ckpt})", file=sys.stderr)  # fmt: skip
        return 130
    ev = evaluate(result.agent, args.env, env_kwargs, args.eval_episodes, args.eval_seed)
    summary |= {"eval_return_mean": ev.mean, "eval_return_std": ev.std}
    (out / "eval.json").write_text(json.dumps({"returns": ev.returns, "lengths": ev.lengths, **summary}, indent=2))
    ckpt = save(summary)
    print(f"eval return {ev.mean:.1f} ± {ev.std:.1f} over {len(ev.returns)} episodes; checkpoint {ckpt}")
    return 0


class _Flag:
    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set


@contextlib.contextmanager
def _stop_on_first_interrupt() -> Iterator[_Flag]:
    """A first Ctrl-C ends training after the update under way, so the agent trained so far is saved (a Ctrl-C
    deep into a long run lost all of it); a second one interrupts at once."""
    flag = _Flag()

    def first(signum: int, frame: object) -> None:
        flag.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        print("\nstopping after this update to save the agent (Ctrl-C again to quit without saving)", file=sys.stderr)

    try:
        previous = signal.signal(signal.SIGINT, first)
    except ValueError:  # not the main thread: signals cannot be handled here, Ctrl-C interrupts as before
        yield flag
        return
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _evaluate(args: argparse.Namespace) -> int:
    """Replay a checkpoint's evaluation: by default the very protocol its recorded score came from, so a
    checkpoint downloaded from a board reproduces the board's number."""
    policy = load_policy(args.checkpoint)
    meta = policy.metadata
    recorded = meta.get("summary", {}).get("evaluation") or {}
    protocol = {
        "episodes": args.episodes if args.episodes is not None else recorded.get("episodes", DEFAULT_EVAL_EPISODES),
        "seed": args.seed if args.seed is not None else recorded.get("seed", DEFAULT_EVAL_SEED),
        "deterministic": not args.stochastic if args.stochastic is not None else recorded.get("deterministic", True),
    }
    episodes, deterministic = protocol["episodes"], protocol["deterministic"]
    if args.episodes is not None and episodes < 1:
        raise ValueError(f"--episodes must be at least 1, got {episodes}")
    if args.episodes is None and not (
        isinstance(episodes, int) and not isinstance(episodes, bool) and 1 <= episodes <= MAX_RECORDED_EPISODES
    ):
        raise ValueError(
            f"the checkpoint records {episodes!r} evaluation episodes (1 to {MAX_RECORDED_EPISODES:,} accepted): "
            "give --episodes"
        )
    if not isinstance(deterministic, bool):
        raise ValueError(f"the checkpoint records deterministic={deterministic!r}, not true or false")
    ev = evaluate(policy, meta["env_id"], meta["env_kwargs"], **protocol)
    report = {"env_id": meta["env_id"], "protocol": protocol, "returns": ev.returns, "lengths": ev.lengths,
              "mean": ev.mean, "std": ev.std}  # fmt: skip
    if recorded == protocol and "eval_return_mean" in meta.get("summary", {}):
        report["recorded_mean"] = meta["summary"]["eval_return_mean"]
    print(json.dumps(report, indent=2))
    return 0


def _from_sb3(args: argparse.Namespace) -> int:
    entry = parse_zoo_entry(_read_text(args.hyperparams, "entry file"))
    env_id = args.env or entry.env_id
    if env_id is None:
        raise ValueError(f"{args.hyperparams} names no environment: give one with --env")
    k = action_dimensions(env_id, _json_arg(args.env_kwargs, "--env-kwargs"))
    print(json.dumps(config_from_sb3(entry.hyperparams, k).to_dict(), indent=2))
    return 0


def _play(args: argparse.Namespace) -> int:
    if args.gif.suffix.lower() != ".gif":
        raise ValueError(f"--gif must name a .gif file, got {args.gif}")
    policy = load_policy(args.checkpoint)
    frames = record_gif(
        policy,
        policy.metadata["env_id"],
        policy.metadata["env_kwargs"],
        args.gif,
        seed=args.seed,
        max_steps=args.max_steps,
        every=args.every,
        max_width=args.width or None,
    )
    print(f"wrote {frames} frames to {args.gif}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
