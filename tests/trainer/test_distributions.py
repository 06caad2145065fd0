"""Closed-form log-prob, KL and entropy against torch.distributions."""

from __future__ import annotations

import torch
from torch.distributions import Categorical, Independent, Normal, kl_divergence

from trainer.policies import DistParams, entropy, log_prob
from trainer.policies import kl_divergence as our_kl

G = torch.Generator().manual_seed(0)


def test_it_matches_categorical() -> None:
    old, new = torch.randn(7, 4, generator=G), torch.randn(7, 4, generator=G)
    actions = torch.randint(0, 4, (7,), generator=G)
    p_old, p_new = DistParams(old, None), DistParams(new, None)
    torch.testing.assert_close(log_prob(p_new, actions), Categorical(logits=new).log_prob(actions))
    torch.testing.assert_close(our_kl(p_old, p_new), kl_divergence(Categorical(logits=old), Categorical(logits=new)))
    torch.testing.assert_close(entropy(p_old), Categorical(logits=old).entropy())


def test_it_matches_diagonal_gaussian() -> None:
    mu_old, mu_new = torch.randn(5, 3, generator=G), torch.randn(5, 3, generator=G)
    ls_old, ls_new = torch.randn(3, generator=G) * 0.3, torch.randn(3, generator=G) * 0.3
    actions = torch.randn(5, 3, generator=G)

    def dist(mu: torch.Tensor, ls: torch.Tensor) -> Independent:
        return Independent(Normal(mu, ls.exp().expand_as(mu)), 1)

    p_old, p_new = DistParams(mu_old, ls_old), DistParams(mu_new, ls_new)
    torch.testing.assert_close(log_prob(p_new, actions), dist(mu_new, ls_new).log_prob(actions))
    torch.testing.assert_close(our_kl(p_old, p_new), kl_divergence(dist(mu_old, ls_old), dist(mu_new, ls_new)))
    torch.testing.assert_close(entropy(p_old), dist(mu_old, ls_old).entropy())


def test_it_gives_zero_kl_between_equal_policies() -> None:
    p = DistParams(torch.randn(4, 2, generator=G), torch.zeros(2))
    assert torch.allclose(our_kl(p, p), torch.zeros(4), atol=1e-7)
