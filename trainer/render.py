"""Rendering an episode to an animated GIF (rgb_array frames, written with Pillow)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from trainer.agent import Policy
from trainer.envs import check_policy_fits, check_seed, make_env, validate_env_id, validate_env_kwargs

# Browsers show a GIF frame shorter than 20 ms for 100 ms, so a faster environment would play five times too slowly:
# such an episode keeps every n-th frame instead, shown for n steps' time.
MIN_FRAME_MS = 20
# A GIF stores a frame's time in hundredths of a second in 16 bits.
MAX_FRAME_MS = 655_350
DEFAULT_MAX_WIDTH = 480


def frame_stride(render_fps: float) -> int:
    """The fewest steps per kept frame that let each frame last at least ``MIN_FRAME_MS`` at real-time speed."""
    if not render_fps > 0:
        raise ValueError(f"render_fps must be positive, got {render_fps}")
    return max(1, math.ceil(render_fps * MIN_FRAME_MS / 1000 - 1e-9))


def record_gif(
    policy: Policy,
    env_id: str,
    env_kwargs: dict[str, Any] | None,
    path: str | os.PathLike[str],
    *,
    seed: int = 0,
    max_steps: int = 1000,
    every: int | None = None,
    max_width: int | None = DEFAULT_MAX_WIDTH,
) -> int:
    """Play one deterministic episode and save it to ``path`` as a GIF that plays in real time; return the frames
    written.

    ``every`` keeps one frame in that many steps (default: :func:`frame_stride` of the environment's
    ``render_fps``, so Hopper's 125 frames a second become about 42); ``max_width`` scales wider frames down, keeping
    their shape (None keeps them as rendered). Both bound memory: Pillow writes a GIF only once it holds every frame.
    """
    check_seed(seed, "the seed")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max_steps must be an integer from 1, got {max_steps!r}")
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
        raise ValueError(f"every must be an integer from 1 (one frame kept per that many steps), got {every!r}")
    if max_width is not None and (isinstance(max_width, bool) or not isinstance(max_width, int) or max_width < 16):
        raise ValueError(f"max_width must be an integer from 16 pixels, or None, got {max_width!r}")
    # An unknown id or refused kwargs have nothing to do with rendering: said before the hint about OpenGL below.
    validate_env_id(env_id)
    validate_env_kwargs(env_kwargs)
    try:
        env = make_env(env_id, env_kwargs, render_mode="rgb_array")
    except ValueError as exc:  # the kwargs built this env for training: the renderer is the likelier cause
        raise ValueError(f"{exc} (with render_mode='rgb_array'; {_RENDER_HINT})") from exc
    fps = float(env.metadata.get("render_fps") or 30)
    stride = every or frame_stride(fps)
    if stride * 1000 / fps > MAX_FRAME_MS:
        env.close()
        raise ValueError(
            f"every must be at most {int(MAX_FRAME_MS * fps / 1000):,} here: a GIF frame lasts at most "
            f"{MAX_FRAME_MS / 1000:g} s, and {env_id} renders {fps:g} frames a second"
        )
    frames: list[Image.Image] = []

    def keep_frame() -> None:
        try:
            pixels = env.render()
        except Exception as exc:  # mujoco.FatalError without an OpenGL platform, and the like
            raise ValueError(f"{env_id} could not render a frame ({exc}); {_RENDER_HINT}") from exc
        if not isinstance(pixels, np.ndarray):
            raise ValueError(f"{env_id} did not render an RGB frame")
        image = Image.fromarray(pixels)
        if max_width is not None and image.width > max_width:
            image = image.resize(
                (max_width, max(1, round(image.height * max_width / image.width))), Image.Resampling.LANCZOS
            )
        # Kept as a palette image, as the GIF stores it: a third of an RGB frame's memory.
        frames.append(image.convert("P", palette=Image.Palette.ADAPTIVE))

    try:
        check_policy_fits(policy.space, env, env_id)
        obs, _ = env.reset(seed=seed)
        keep_frame()
        for step in range(1, max_steps + 1):
            obs, _, terminated, truncated, _ = env.step(policy.act(obs))
            if step % stride == 0 or terminated or truncated or step == max_steps:
                keep_frame()  # the last frame is always kept: the episode's end is what a viewer looks for
            if terminated or truncated:
                break
    finally:
        env.close()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # GIF frame times are whole hundredths of a second: Hopper's 3 steps (24 ms) are stored as 20 ms.
    duration = max(MIN_FRAME_MS, 10 * round(stride * 100 / fps))
    # Written beside the target and renamed over it: a failed write leaves an earlier GIF whole, never truncated.
    partial = target.with_name(f".{target.name}.partial")
    try:
        frames[0].save(partial, format="GIF", save_all=True, append_images=frames[1:], duration=duration, loop=0)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return len(frames)


_RENDER_HINT = (
    "rendering needs an OpenGL platform: on a machine without a display set MUJOCO_GL=egl (a GPU) or "
    "MUJOCO_GL=osmesa (CPU) for MuJoCo environments"
)
