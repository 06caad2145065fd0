"""The hand-written MLP passes agree with autograd for every activation."""

from __future__ import annotations

import pytest
import torch

from trainer import mlp_passes
from trainer.envs import SpaceInfo
from trainer.mlp_passes import Layers
from trainer.policies import Actor, Critic
from trainer.trpo import fisher_vector_product_autograd, fisher_vector_product_fn

ACTIVATIONS = ["tanh", "relu", "elu"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_its_reverse_pass_matches_autograd(activation: str) -> None:
    torch.manual_seed(0)
    critic = Critic(5, (32, 16), activation).double()
    x, y = torch.randn(40, 5, dtype=torch.float64), torch.randn(40, dtype=torch.float64)
    loss = (critic(x) - y).pow(2).mean()
    expected = torch.autograd.grad(loss, list(critic.parameters()))
    layers = Layers.of(critic.body, activation)
    outs = mlp_passes.forward(layers, x)
    torch.testing.assert_close(outs[-1].squeeze(-1), critic(x).detach())
    grads = mlp_passes.backward(layers, outs, (2.0 / 40) * (outs[-1].squeeze(-1) - y).unsqueeze(-1))
    for g, e in zip(grads, expected, strict=True):
        torch.testing.assert_close(g, e)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("discrete", [True, False], ids=["discrete", "gaussian"])
def test_its_fisher_vector_product_matches_double_backward(activation: str, discrete: bool) -> None:
    torch.manual_seed(1)
    space = SpaceInfo(6, True, 4) if discrete else SpaceInfo(6, False, 3, (-1.0,) * 3, (1.0,) * 3)
    actor = Actor(space, (32, 32), activation, log_std_init=-0.5).double()
    with torch.no_grad():
        for p in actor.parameters():
            p.add_(0.2 * torch.randn_like(p))
    obs = torch.randn(64, 6, dtype=torch.float64)
    old = actor(obs).detach()
    v = torch.randn(sum(p.numel() for p in actor.parameters()), dtype=torch.float64)
    fast = fisher_vector_product_fn(actor, obs, old, 0.1)(v)
    reference = fisher_vector_product_autograd(actor, obs, old, 0.1)(v)
    torch.testing.assert_close(fast, reference, rtol=1e-7, atol=1e-10)
