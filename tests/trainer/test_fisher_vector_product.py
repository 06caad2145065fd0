"""Fisher-vector products against an explicit Hessian of the mean KL on a tiny network."""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call

from trainer.envs import SpaceInfo
from trainer.policies import Actor, kl_divergence
from trainer.trpo import fisher_vector_product_fn, get_flat_params

BOX = SpaceInfo(obs_dim=3, discrete=False, act_dim=2, act_low=(-1.0, -1.0), act_high=(1.0, 1.0))
SPACES = {  # kind: (action space, gSDE)
    "discrete": (SpaceInfo(obs_dim=3, discrete=True, act_dim=3), False),
    "gaussian": (BOX, False),
    "gsde": (BOX, True),
}


@pytest.mark.parametrize("kind", sorted(SPACES))
def test_it_equals_the_explicit_kl_hessian_times_v(kind: str) -> None:
    torch.manual_seed(0)
    space, sde = SPACES[kind]
    actor = Actor(space, (5,), "tanh", log_std_init=-0.3, sde=sde).double()
    obs = torch.randn(11, 3, dtype=torch.float64)
    with torch.no_grad():
        # Move off the orthogonal init's near-zero output layer so the Fisher is not degenerate.
        for p in actor.parameters():
            p.add_(0.3 * torch.randn_like(p))
        old = actor(obs).detach()
    names = [n for n, _ in actor.named_parameters()]
    shapes = [p.shape for p in actor.parameters()]
    theta = get_flat_params(list(actor.parameters()))

    def mean_kl(flat: torch.Tensor) -> torch.Tensor:
        params, offset = {}, 0
        for name, shape in zip(names, shapes, strict=True):
            n = shape.numel()
            params[name] = flat[offset : offset + n].view(shape)
            offset += n
        return kl_divergence(old, functional_call(actor, params, (obs,))).mean()

    hessian = torch.autograd.functional.hessian(mean_kl, theta)
    v = torch.randn_like(theta)
    damping = 0.05
    fvp = fisher_vector_product_fn(actor, obs, old, damping)
    torch.testing.assert_close(fvp(v), hessian @ v + damping * v, rtol=1e-6, atol=1e-9)
