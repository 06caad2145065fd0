from __future__ import annotations

import torch

from trainer.trpo import conjugate_gradient


def _spd(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, n, generator=g, dtype=torch.float64)
    return a @ a.T + n * torch.eye(n, dtype=torch.float64)


def test_it_matches_a_direct_solve() -> None:
    a = _spd(20, 0)
    b = torch.randn(20, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    x, residual = conjugate_gradient(lambda v: a @ v, b, iters=20, residual_tol=0.0)
    torch.testing.assert_close(x, torch.linalg.solve(a, b), rtol=1e-8, atol=1e-8)
    assert residual < 1e-12


def test_it_reports_the_residual_of_a_truncated_solve() -> None:
    a = _spd(50, 2)
    b = torch.ones(50, dtype=torch.float64)
    x, residual = conjugate_gradient(lambda v: a @ v, b, iters=3, residual_tol=0.0)
    assert residual > 0
    assert abs(residual - float(torch.sum((b - a @ x) ** 2))) < 1e-6 * max(1.0, residual)


def test_it_stops_at_once_on_a_zero_right_hand_side() -> None:
    x, residual = conjugate_gradient(lambda v: v, torch.zeros(5, dtype=torch.float64), iters=10)
    assert torch.count_nonzero(x) == 0
    assert residual == 0.0
