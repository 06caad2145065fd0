from __future__ import annotations

import numpy as np

from trainer.normalizer import RunningNormalizer


def test_it_matches_the_statistics_of_all_batches_together() -> None:
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, size=(n, 3)) for n in (5, 17, 100)]
    norm = RunningNormalizer(3, enabled=True)
    for b in batches:
        norm.update(b)
    everything = np.concatenate(batches)
    np.testing.assert_allclose(norm.mean, everything.mean(axis=0))
    np.testing.assert_allclose(norm.var, everything.var(axis=0))
    assert norm.count == len(everything)


def test_it_clips_and_can_be_disabled() -> None:
    norm = RunningNormalizer(1, enabled=True, clip=2.0)
    norm.update(np.array([[0.0], [1.0]]))
    assert norm(np.array([[100.0]]))[0, 0] == 2.0
    off = RunningNormalizer(1, enabled=False)
    off.update(np.array([[5.0]]))
    assert off(np.array([[7.0]]))[0, 0] == 7.0
