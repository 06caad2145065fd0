"""Value-function regression: V_φ(s) fitted to the GAE returns by Adam over shuffled minibatches."""

from __future__ import annotations

import torch

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
    """Run ``epochs`` passes of minibatch MSE regression; return the mean loss of the last pass."""
    n = obs.shape[0]
    last_losses: list[torch.Tensor] = []
    for _ in range(epochs):
        last_losses = []
        order = torch.randperm(n, generator=generator).to(obs.device)
        for start in range(0, n, minibatch_size):
            idx = order[start : start + minibatch_size]
            loss = (critic(obs[idx]) - returns[idx]).pow(2).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            last_losses.append(loss.detach())
    return float(torch.stack(last_losses).mean())


def explained_variance(predicted: torch.Tensor, target: torch.Tensor) -> float:
    """1 − Var(target − predicted) / Var(target): 1 is a perfect fit, 0 no better than a constant."""
    var = torch.var(target)
    if var.item() == 0.0:
        return 0.0
    return float(1.0 - torch.var(target - predicted) / var)
