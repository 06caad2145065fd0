"""Value-function regression: V_φ(s) fitted to the GAE returns by Adam over shuffled minibatches."""

from __future__ import annotations

import torch

from trainer import mlp_passes
from trainer.mlp_passes import Layers
from trainer.policies import Critic


def fit_value(
    critic: Critic,
    optimizer: torch.optim.Optimizer,
    obs: torch.Tensor,
    returns: torch.Tensor,
    epochs: int,
    minibatch_size: int,
    generator: torch.Generator,
) -> float:
    """Run ``epochs`` passes of minibatch MSE regression; return the mean loss of the last pass.

    Gradients come from the hand-written reverse pass of :mod:`trainer.mlp_passes` (the same maths as
    ``loss.backward()``, checked against it in the tests, with less per-step overhead).
    """
    layers = Layers.of(critic.body, critic.activation)
    params = list(critic.parameters())
    n = obs.shape[0]
    last_losses: list[torch.Tensor] = []
    for epoch in range(epochs):
        last = epoch == epochs - 1  # only the last pass's loss is reported: the others skip computing it
        order = torch.randperm(n, generator=generator).to(obs.device)
        for start in range(0, n, minibatch_size):
            idx = order[start : start + minibatch_size]
            outs = mlp_passes.forward(layers, obs[idx])
            error = outs[-1].squeeze(-1) - returns[idx]
            grads = mlp_passes.backward(layers, outs, (2.0 / idx.numel()) * error.unsqueeze(-1))
            for p, g in zip(params, grads, strict=True):
                p.grad = g
            optimizer.step()
            if last:
                last_losses.append(error.pow(2).mean())
    return float(torch.stack(last_losses).mean())


def explained_variance(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """1 − Var(target − predicted) / Var(target): 1 is a perfect fit, 0 no better than a constant."""
    var = torch.var(target)
    if var.item() == 0.0:
        return 0.0
    return float(1.0 - torch.var(target - predicted) / var)
