from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from trainer import TRPOConfig, read_metadata
from trainer.__main__ import main


def test_it_trains_evaluates_and_plays_from_the_command_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--env",
            "CartPole-v1",
            "--steps",
            "512",
            "--seed",
            "1",
            "--set",
            "n_envs=2",
            "--set",
            "n_steps=128",
            "--set",
            "value_minibatch_size=64",
            "--eval-episodes",
            "2",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert json.loads((out / "config.json").read_text())["n_steps"] == 128
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2
    assert "train/kl" in json.loads(lines[0])
    ev = json.loads((out / "eval.json").read_text())
    assert len(ev["returns"]) == 2
    ckpt = out / "checkpoint.safetensors"
    assert main(["evaluate", str(ckpt), "--episodes", "2"]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1].rsplit("eval return", 1)[0] or "{}") is not None
    gif = tmp_path / "play.gif"
    assert main(["play", str(ckpt), "--gif", str(gif), "--max-steps", "20"]) == 0
    assert gif.read_bytes()[:6] == b"GIF89a"


def test_it_reports_bad_config_without_a_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "trainer", "train", "--env", "CartPole-v1", "--set", "max_kl=5", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "max_kl: must be in (0, 1]" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_it_reads_a_config_file_and_reports_a_missing_one_without_a_traceback(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "trainer", "train", "--env", "CartPole-v1", "--steps", "64", *args]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    missing = run("--config", str(tmp_path / "nope.json"), "--out", str(tmp_path / "a"))
    assert missing.returncode == 2 and "nope.json" in missing.stderr and "Traceback" not in missing.stderr

    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"n_steps": 64, "value_minibatch_size": 32, "hidden_sizes": [8], "max_kl": 0.02}))
    ok = run("--config", str(cfg), "--eval-episodes", "1", "--out", str(tmp_path / "b"))
    assert ok.returncode == 0, ok.stderr
    written = json.loads((tmp_path / "b" / "config.json").read_text())
    assert (written["max_kl"], written["n_steps"], written["hidden_sizes"]) == (0.02, 64, [8])


def test_it_translates_an_sb3_contrib_entry_and_reports_bad_ones_without_a_traceback(tmp_path: Path) -> None:
    def run(path: Path, env_id: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "trainer", "from-sb3", str(path), "--env", env_id]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    entry = tmp_path / "zoo.json"
    entry.write_text(json.dumps({"n_envs": 2, "target_kl": 0.01, "cg_damping": 0.1, "n_steps": 1024}))
    ok = run(entry, "HalfCheetah-v5")
    assert ok.returncode == 0, ok.stderr
    config = TRPOConfig.from_dict(json.loads(ok.stdout))
    assert (config.max_kl, config.cg_damping, config.n_envs) == (pytest.approx(0.06), pytest.approx(0.6), 2)

    entry.write_text(json.dumps({"ent_coef": 0.0}))
    bad = run(entry, "CartPole-v1")
    assert bad.returncode == 2 and "ent_coef" in bad.stderr and "Traceback" not in bad.stderr
    unknown_env = run(tmp_path / "zoo.json", "NoSuchEnv-v0")
    assert (
        unknown_env.returncode == 2 and "NoSuchEnv-v0" in unknown_env.stderr and "Traceback" not in unknown_env.stderr
    )


def test_from_sb3_reads_an_rl_zoo_yaml_entry_and_takes_its_env_id(tmp_path: Path) -> None:
    def run(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "trainer", "from-sb3", str(path), *extra]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    entry = tmp_path / "trpo.yml"
    entry.write_text("Hopper-v5:\n  target_kl: 0.02\n  policy_kwargs: 'dict(net_arch=[32, 32])'\n")
    ok = run(entry)
    assert ok.returncode == 0, ok.stderr
    config = TRPOConfig.from_dict(json.loads(ok.stdout))
    assert config.max_kl == 0.06 and config.hidden_sizes == (32, 32), "Hopper-v5's 3 action dimensions"
    assert TRPOConfig.from_dict(json.loads(run(entry, "--env", "HalfCheetah-v5").stdout)).max_kl == 0.12

    entry.write_text("target_kl: 0.02\n")
    bare = run(entry)
    assert bare.returncode == 2 and "names no environment: give one with --env" in bare.stderr


TINY_FLAGS = ["--set", "n_envs=1", "--set", "n_steps=64", "--set", "value_minibatch_size=32", "--eval-episodes", "1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "NoSuchEnv-v0"], "not registered"),
        (["--env", "CartPole-v1", "--env-kwargs", '{"foo": 1}'], "could not build CartPole-v1"),
        (["--env", "CartPole-v1", "--env-kwargs", "{bad"], "--env-kwargs is not valid JSON"),
        (["--env", "CartPole-v1", "--env-kwargs", '{"render_mode": "human"}'], "must not set render_mode"),
        (["--env", "CartPole-v1", "--steps", "0"], "--steps must be at least 1"),
        (["--env", "CartPole-v1", "--eval-episodes", "0"], "--eval-episodes must be at least 1"),
        (["--env", "CartPole-v1", "--seed", "-1"], "--seed must be an integer from 0"),
        (["--env", "CartPole-v1", "--eval-seed", str(2**70)], "--eval-seed must be an integer from 0"),
        (["--env", "CartPole-v1", "--set", 'device="cuda"'], "CUDA is not available"),
        (["--env", "CartPole-v1", "--set", "n_steps"], "expected KEY=VALUE"),
    ],
)
def test_a_train_that_cannot_run_changes_nothing_on_disk(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    """Everything is checked before the first write: a typo must not empty an earlier run's metrics."""
    if "cuda" in " ".join(args):
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA, so device cuda is no error here")
    out = tmp_path / "earlier-run"
    out.mkdir()
    earlier = {"config.json": '{"n_steps": 64}', "metrics.jsonl": '{"time/steps": 64}\n', "eval.json": "{}"}
    for name, text in earlier.items():
        (out / name).write_text(text)
    # The flags under test come last, so that they override the tiny defaults.
    code = main(["train", "--steps", "64", *TINY_FLAGS, *args, "--out", str(out)])
    assert code == 2
    assert message in capsys.readouterr().err
    assert {p.name: p.read_text() for p in out.iterdir()} == earlier


@pytest.mark.parametrize(("where", "message"), [("file", "is a file: name a directory"), ("file/run", "cannot create")])
def test_an_out_path_that_cannot_be_a_directory_is_a_one_line_error(tmp_path: Path, capsys, where, message) -> None:
    """It was a bare "[Errno 17] File exists" (or "[Errno 20] Not a directory")."""
    (tmp_path / "file").write_text("kept")
    code = main(["train", "--env", "CartPole-v1", "--steps", "64", *TINY_FLAGS, "--out", str(tmp_path / where)])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Errno" not in err
    assert (tmp_path / "file").read_text() == "kept"


def test_a_new_run_replaces_an_earlier_runs_results_and_takes_bare_words(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "eval.json").write_text('{"stale": true}')
    assert main(["train", "--env", "CartPole-v1", "--steps", "64", *TINY_FLAGS, "--set", "activation=relu",
                 "--out", str(out)]) == 0  # fmt: skip
    assert json.loads((out / "config.json").read_text())["activation"] == "relu"
    assert "stale" not in json.loads((out / "eval.json").read_text())


def test_play_refuses_a_bad_seed_and_a_file_that_is_no_gif(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["train", "--env", "CartPole-v1", "--steps", "64", *TINY_FLAGS, "--out", str(out)]) == 0
    ckpt = str(out / "checkpoint.safetensors")
    assert main(["play", ckpt, "--gif", str(tmp_path / "a.png")]) == 2
    assert "--gif must name a .gif file" in capsys.readouterr().err
    assert main(["play", ckpt, "--gif", str(tmp_path / "a.gif"), "--seed", "-1"]) == 2
    assert "seed must be an integer from 0" in capsys.readouterr().err
    assert main(["play", ckpt, "--gif", str(tmp_path / "a.gif"), "--every", "0"]) == 2
    assert "every must be an integer from 1" in capsys.readouterr().err
    assert not (tmp_path / "a.gif").exists() and not (tmp_path / "a.png").exists()
    assert main(["play", ckpt, "--gif", str(tmp_path / "b.gif"), "--max-steps", "3", "--width", "0"]) == 0
    with Image.open(tmp_path / "b.gif") as gif:
        assert gif.size == (600, 400), "--width 0 keeps the frames as rendered"


def test_evaluate_replays_the_protocol_the_checkpoint_was_scored_with(tmp_path: Path, capsys) -> None:
    """A checkpoint downloaded from a board was scored under its environment's protocol, not the CLI's defaults:
    `evaluate` with no flags must reproduce its recorded score."""
    out = tmp_path / "run"
    flags = ["--set", "n_envs=1", "--set", "n_steps=64", "--set", "value_minibatch_size=32"]
    assert main(["train", "--env", "CartPole-v1", "--steps", "128", *flags, "--eval-episodes", "3",
                 "--eval-seed", "77", "--out", str(out)]) == 0  # fmt: skip
    recorded = json.loads((out / "eval.json").read_text())
    capsys.readouterr()
    assert main(["evaluate", str(out / "checkpoint.safetensors")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["protocol"] == {"episodes": 3, "seed": 77, "deterministic": True}
    assert report["returns"] == recorded["returns"] and report["recorded_mean"] == recorded["eval_return_mean"]
    assert main(["evaluate", str(out / "checkpoint.safetensors"), "--episodes", "2", "--seed", "5"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["protocol"] == {"episodes": 2, "seed": 5, "deterministic": True} and "recorded_mean" not in report
    assert main(["evaluate", str(out / "checkpoint.safetensors"), "--episodes", "0"]) == 2
    assert "--episodes must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("recorded", "message"),
    [
        ({"episodes": "many", "seed": 0, "deterministic": True}, "records 'many' evaluation episodes"),
        ({"episodes": 10**30, "seed": 0, "deterministic": True}, "(1 to 10,000 accepted): give --episodes"),
        ({"episodes": 2, "seed": -5, "deterministic": True}, "seed must be an integer from 0"),
        ({"episodes": 2, "seed": 0, "deterministic": "yes"}, "records deterministic='yes'"),
    ],
)
def test_evaluate_refuses_a_malformed_recorded_protocol(tiny_result, tmp_path: Path, capsys, recorded, message) -> None:
    """A downloaded checkpoint's metadata is not to be trusted: a bad record ends with a message, not a traceback."""
    from trainer import save_checkpoint

    path = save_checkpoint(tiny_result.agent, tmp_path / "c.safetensors", env_id="CartPole-v1", env_kwargs={},
                           summary={"evaluation": recorded})  # fmt: skip
    assert main(["evaluate", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_an_interrupted_evaluation_keeps_the_trained_agent(tmp_path: Path, capsys, monkeypatch) -> None:
    """The checkpoint was written only after the evaluation: a Ctrl-C there lost the whole training."""
    import trainer.__main__ as cli

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "evaluate", interrupted)
    out = tmp_path / "run"
    assert main(["train", "--env", "CartPole-v1", "--steps", "64", *TINY_FLAGS, "--out", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (out / "eval.json").exists()
    summary = read_metadata(out / "checkpoint.safetensors")["summary"]
    assert summary["steps"] == 64 and "eval_return_mean" not in summary
    monkeypatch.undo()
    assert main(["evaluate", str(out / "checkpoint.safetensors")]) == 0, "it can be scored afterwards"


@pytest.mark.parametrize("command", ["train", "from-sb3"])
def test_a_file_that_is_not_text_is_named_in_the_error(tmp_path: Path, capsys, command: str) -> None:
    binary = tmp_path / "cfg.json"
    binary.write_bytes(b"\xff\xfe{}")
    args = (["train", "--env", "CartPole-v1", "--config", str(binary), "--out", str(tmp_path / "out")]
            if command == "train" else ["from-sb3", str(binary), "--env", "CartPole-v1"])  # fmt: skip
    assert main(args) == 2
    assert f"{binary} is not UTF-8 text" in capsys.readouterr().err


def test_evaluate_can_take_the_mode_of_a_checkpoint_scored_stochastically(tiny_result, tmp_path: Path, capsys) -> None:
    from trainer import save_checkpoint

    path = save_checkpoint(tiny_result.agent, tmp_path / "c.safetensors", env_id="CartPole-v1", env_kwargs={},
                           summary={"evaluation": {"episodes": 1, "seed": 0, "deterministic": False}})  # fmt: skip
    for flags, deterministic in (([], False), (["--no-stochastic"], True), (["--stochastic"], False)):
        assert main(["evaluate", str(path), *flags]) == 0
        assert json.loads(capsys.readouterr().out)["protocol"]["deterministic"] is deterministic


def test_a_ctrl_c_during_training_saves_the_agent_trained_so_far(tmp_path: Path, capsys, monkeypatch) -> None:
    """A Ctrl-C mid-training ended with 'interrupted' and no checkpoint, however long the run had trained."""
    import signal

    import trainer.__main__ as cli

    real_train = cli.train

    def interrupted_after_the_first_update(*args: Any, on_update: Any, **kwargs: Any) -> Any:
        def then_ctrl_c(metrics: dict[str, Any]) -> None:
            on_update(metrics)
            signal.raise_signal(signal.SIGINT)

        return real_train(*args, on_update=then_ctrl_c, **kwargs)

    monkeypatch.setattr(cli, "train", interrupted_after_the_first_update)
    out = tmp_path / "run"
    assert main(["train", "--env", "CartPole-v1", "--steps", "256", *TINY_FLAGS, "--out", str(out)]) == 130
    assert "interrupted after 64 of 256 steps" in capsys.readouterr().err
    assert not (out / "eval.json").exists()
    assert read_metadata(out / "checkpoint.safetensors")["summary"]["steps"] == 64
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "Ctrl-C behaves as before afterwards"
    monkeypatch.undo()
    assert main(["evaluate", str(out / "checkpoint.safetensors")]) == 0, "it can be scored afterwards"
