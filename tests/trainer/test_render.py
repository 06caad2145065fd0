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
