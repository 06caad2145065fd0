"""Rendering an episode to an animated GIF (rgb_array frames, written with Pillow)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from trainer.agent import Policy
from trainer.envs import check_policy_fits, check_seed, make_env


def record_gif(
    policy: Policy,
    env_id: str,
    env_kwargs: dict[str, Any] | None,
    path: str | os.PathLike[str],
    *,
    seed: int = 0,
    max_steps: int = 1000,
    fps: int = 30,
) -> int:
    """Play one deterministic episode and save its frames to ``path``; return the number of frames."""
    check_seed(seed, "the seed")
    env = make_env(env_id, env_kwargs, render_mode="rgb_array")
    frames: list[Image.Image] = []

    def frame() -> Image.Image:
        pixels = env.render()
        if not isinstance(pixels, np.ndarray):
            raise ValueError(f"{env_id} did not render an RGB frame")
        # Kept as a palette image, as the GIF stores it: a third of an RGB frame's memory (a 1,000-step episode of
        # 600x400 frames held 1.5 GB as RGB).
        return Image.fromarray(pixels).convert("P", palette=Image.Palette.ADAPTIVE)

    try:
        check_policy_fits(policy.space, env, env_id)
        obs, _ = env.reset(seed=seed)
        frames.append(frame())
        for _ in range(max_steps):
            obs, _, terminated, truncated, _ = env.step(policy.act(obs))
            frames.append(frame())
            if terminated or truncated:
                break
    finally:
        env.close()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)
    return len(frames)
