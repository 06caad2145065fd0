"""Episode GIFs: real-time playback (a frame stride for fast environments), a width cap, and bad arguments."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from trainer import TrainResult, evaluate
from trainer.render import MIN_FRAME_MS, frame_stride, record_gif


@pytest.mark.parametrize(("render_fps", "stride"), [(30, 1), (50, 1), (60, 2), (100, 2), (125, 3), (500, 10)])
def test_the_stride_keeps_each_frame_on_screen_for_at_least_the_browsers_minimum(
    render_fps: float, stride: int
) -> None:
    assert frame_stride(render_fps) == stride
    assert stride * 1000 / render_fps >= MIN_FRAME_MS
    assert stride == 1 or (stride - 1) * 1000 / render_fps < MIN_FRAME_MS, "no more frames dropped than needed"


def _gif(path: Path) -> tuple[tuple[int, int], int]:
    """The GIF's size and how long it plays (Pillow merges identical consecutive frames, adding their times)."""
    with Image.open(path) as gif:
        total = 0
        for index in range(gif.n_frames):
            gif.seek(index)
            total += gif.info["duration"]
        return gif.size, total


def test_it_keeps_every_nth_step_and_the_last_and_shows_each_for_that_many_steps(
    tiny_result: TrainResult, tmp_path: Path
) -> None:
    policy = tiny_result.agent.policy()
    length = min(evaluate(policy, "CartPole-v1", episodes=1, seed=7).lengths[0], 40)
    assert length >= 9, "the tiny agent balances long enough for a stride to matter"
    frames = record_gif(policy, "CartPole-v1", None, tmp_path / "e.gif", seed=7, max_steps=40, every=4)
    expected = 1 + length // 4 + (1 if length % 4 else 0)  # the reset, every 4th step, and the last step
    assert frames == expected
    size, playing_ms = _gif(tmp_path / "e.gif")
    assert playing_ms == expected * 80, "CartPole renders at 50 fps: a frame kept per 4 steps lasts 80 ms"
    assert size == (480, 320), "600x400 frames are scaled to the default 480 px, keeping their shape"


def test_it_keeps_the_rendered_size_when_asked_and_every_step_at_50_fps(
    tiny_result: TrainResult, tmp_path: Path
) -> None:
    policy = tiny_result.agent.policy()
    frames = record_gif(policy, "CartPole-v1", None, tmp_path / "f.gif", max_steps=5, max_width=None)
    assert frames == 6, "the reset and five steps"
    assert _gif(tmp_path / "f.gif") == ((600, 400), 6 * 20)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"every": 0}, "every must be an integer from 1"),
        ({"every": 2.5}, "every must be an integer from 1"),
        ({"max_width": 8}, "max_width must be an integer from 16"),
        ({"seed": -1}, "seed must be an integer from 0"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(
    tiny_result: TrainResult, tmp_path: Path, kwargs: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        record_gif(tiny_result.agent.policy(), "CartPole-v1", None, tmp_path / "g.gif", **kwargs)
    assert not (tmp_path / "g.gif").exists()


def test_an_interrupted_write_leaves_an_earlier_gif_whole(
    tiny_result: TrainResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pillow truncated the target and then failed (a frame time over 16 bits): the earlier GIF was lost."""
    target = tmp_path / "keep.gif"
    record_gif(tiny_result.agent.policy(), "CartPole-v1", None, target, max_steps=3)
    before = target.read_bytes()

    def fail(self: Image.Image, *args: object, **kwargs: object) -> None:
        Path(args[0]).write_bytes(b"GIF89a")  # a partial file, as Pillow leaves one
        raise OverflowError("int too big to convert")

    monkeypatch.setattr(Image.Image, "save", fail)
    with pytest.raises(OverflowError):
        record_gif(tiny_result.agent.policy(), "CartPole-v1", None, target, max_steps=3)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.gif"], "no partial file is left behind"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"every": 40_000}, "every must be at most 32,767 here: a GIF frame lasts at most 655.35 s"),
        ({"max_steps": 0}, "max_steps must be an integer from 1"),
        ({"max_steps": -5}, "max_steps must be an integer from 1"),
    ],
)
def test_a_stride_or_length_no_gif_can_hold_is_refused(tiny_result: TrainResult, tmp_path: Path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        record_gif(tiny_result.agent.policy(), "CartPole-v1", None, tmp_path / "x.gif", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_a_render_failure_says_what_to_set(tiny_result: TrainResult, tmp_path: Path, monkeypatch) -> None:
    """MuJoCo without an OpenGL platform raised mujoco.FatalError through the command line as a traceback."""
    import gymnasium as gym

    def no_gl(self: object) -> None:
        raise RuntimeError("an OpenGL platform library has not been loaded")

    monkeypatch.setattr(gym.wrappers.OrderEnforcing, "render", no_gl)
    with pytest.raises(ValueError, match=r"CartPole-v1 could not render a frame .* set MUJOCO_GL=egl"):
        record_gif(tiny_result.agent.policy(), "CartPole-v1", None, tmp_path / "x.gif", max_steps=2)
    assert list(tmp_path.iterdir()) == []


def test_the_last_step_is_kept_when_max_steps_ends_the_episode(tiny_result: TrainResult, tmp_path: Path) -> None:
    policy = tiny_result.agent.policy()
    length = evaluate(policy, "CartPole-v1", episodes=1, seed=0).lengths[0]
    assert length >= 7, "the episode outlasts max_steps"
    assert record_gif(policy, "CartPole-v1", None, tmp_path / "m.gif", max_steps=7, every=3) == 4  # 0, 3, 6, 7


@pytest.mark.parametrize(
    ("env_id", "env_kwargs", "message"),
    [("NoSuchEnv-v0", None, "not registered"), ("CartPole-v1", {"render_mode": "human"}, "must not set render_mode")],
)
def test_an_unknown_env_or_refused_kwargs_are_not_blamed_on_rendering(
    tiny_result: TrainResult, tmp_path: Path, env_id: str, env_kwargs: dict | None, message: str
) -> None:
    """A checkpoint whose env is not installed here was told to set MUJOCO_GL for an OpenGL platform."""
    with pytest.raises(ValueError, match=message) as refused:
        record_gif(tiny_result.agent.policy(), env_id, env_kwargs, tmp_path / "x.gif")
    assert "OpenGL" not in str(refused.value) and "render_mode='rgb_array'" not in str(refused.value)
