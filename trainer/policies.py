"""Policy and value networks, the two action distributions, and a NumPy copy of the policy for rollouts.

Distributions are written out analytically (log-prob, KL, entropy) rather than through ``torch.distributions``
objects: the trust-region step differentiates the KL twice, and the closed forms keep that cheap and explicit.

Box policies optionally use generalized State-Dependent Exploration (gSDE; Raffin et al., "Smooth Exploration
for Robotic Reinforcement Learning", CoRL 2022), as rl-baselines3-zoo's TRPO settings for Pendulum-v1 and
MountainCarContinuous-v0 do: the exploration noise is φ(s)·E, with φ(s) the policy's last hidden features and
E ~ N(0, σ²) a (features × actions) matrix held for several steps, so the action's standard deviation
√(φ(s)²·σ²) depends on the state. E is sampled by the rollout; the update only needs that Gaussian's density.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from trainer.envs import SpaceInfo

_TORCH_ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU}
_LOG_2PI = math.log(2.0 * math.pi)
SDE_EPS = 1e-6  # added to gSDE's variance φ²·σ² (as sb3 does), so a zero feature vector still has a density


def mlp(in_dim: int, hidden: tuple[int, ...], out_dim: int, activation: str, out_gain: float) -> nn.Sequential:
    """MLP with orthogonal init (gain √2 on hidden layers, ``out_gain`` on the last), as in sb3 and baselines."""
    layers: list[nn.Module] = []
    sizes = (in_dim, *hidden)
    for a, b in itertools.pairwise(sizes):
        linear = nn.Linear(a, b)
        nn.init.orthogonal_(linear.weight, gain=math.sqrt(2.0))
        nn.init.zeros_(linear.bias)
        layers += [linear, _TORCH_ACTIVATIONS[activation]()]
    head = nn.Linear(sizes[-1], out_dim)
    nn.init.orthogonal_(head.weight, gain=out_gain)
    nn.init.zeros_(head.bias)
    layers.append(head)
    return nn.Sequential(*layers)


class DistParams(NamedTuple):
    """Parameters of π(·|s) for a batch: logits (Categorical) or mean and log-std (diagonal Gaussian)."""

    loc: torch.Tensor  # logits or mean, shape (B, act_dim)
    log_std: torch.Tensor | None  # (act_dim,) for Gaussian, (B, act_dim) with gSDE, None for Categorical

    def detach(self) -> DistParams:
        """A frozen copy. log_std is cloned: it is the parameter itself, which the line search overwrites."""
        return DistParams(self.loc.detach(), None if self.log_std is None else self.log_std.detach().clone())

    def rows(self, index: slice) -> DistParams:
        """The distributions of some samples; a state-independent log-std is shared by all of them."""
        if self.log_std is None or self.log_std.dim() == 1:
            return DistParams(self.loc[index], self.log_std)
        return DistParams(self.loc[index], self.log_std[index])


def log_prob(p: DistParams, actions: torch.Tensor) -> torch.Tensor:
    """log π(a|s) per sample. Gaussian log-probs are of the unclipped action the policy sampled."""
    if p.log_std is None:
        return torch.log_softmax(p.loc, dim=-1).gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
    z = (actions - p.loc) * torch.exp(-p.log_std)
    return (-0.5 * z.pow(2) - p.log_std - 0.5 * _LOG_2PI).sum(-1)


def kl_divergence(old: DistParams, new: DistParams) -> torch.Tensor:
    """KL(π_old ‖ π_new) per sample, in closed form."""
    if old.log_std is None:
        old_logp = torch.log_softmax(old.loc, dim=-1)
        new_logp = torch.log_softmax(new.loc, dim=-1)
        return (old_logp.exp() * (old_logp - new_logp)).sum(-1)
    if new.log_std is None:
        raise ValueError("cannot compare a Gaussian with a Categorical distribution")
    var_old = torch.exp(2.0 * old.log_std)
    var_new = torch.exp(2.0 * new.log_std)
    terms = new.log_std - old.log_std + (var_old + (old.loc - new.loc).pow(2)) / (2.0 * var_new) - 0.5
    return terms.sum(-1)


def entropy(p: DistParams) -> torch.Tensor:
    """Entropy of π(·|s) per sample."""
    if p.log_std is None:
        logp = torch.log_softmax(p.loc, dim=-1)
        return -(logp.exp() * logp).sum(-1)
    per_dim = p.log_std + 0.5 * (_LOG_2PI + 1.0)
    return per_dim.sum(-1).expand(p.loc.shape[0])


def sde_log_std(features: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    """Per-sample log-std of gSDE's action noise φ(s)·E, E_ij ~ N(0, exp(log_std_ij)²): ½·log(φ²·σ² + ε)."""
    return 0.5 * torch.log(features.pow(2) @ torch.exp(2.0 * log_std) + SDE_EPS)


class Actor(nn.Module):
    """π_θ(a|s): an MLP giving logits, or the mean of a Gaussian.

    The Gaussian's log-std is a parameter vector (state-independent), or with ``sde`` a (last hidden size ×
    actions) matrix of gSDE noise scales. As in sb3's default (``learn_features=False``), the features φ(s) enter
    the std detached: the std's gradient reaches only that matrix, which keeps the Fisher block-diagonal.
    """

    def __init__(
        self,
        space: SpaceInfo,
        hidden: tuple[int, ...],
        activation: str,
        log_std_init: float = 0.0,
        sde: bool = False,
    ) -> None:
        super().__init__()
        self.space = space
        self.activation = activation
        self.sde = sde and not space.discrete
        self.body = mlp(space.obs_dim, hidden, space.act_dim, activation, out_gain=0.01)
        self.log_std: nn.Parameter | None = None
        if not space.discrete:
            shape = (hidden[-1], space.act_dim) if self.sde else (space.act_dim,)
            self.log_std = nn.Parameter(torch.full(shape, float(log_std_init)))

    def forward(self, obs: torch.Tensor) -> DistParams:
        if not self.sde or self.log_std is None:
            return DistParams(self.body(obs), self.log_std)
        features = self.body[:-1](obs)
        return DistParams(self.body[-1](features), sde_log_std(features.detach(), self.log_std))


class Critic(nn.Module):
    """V_φ(s): a separate MLP regressed on the GAE returns."""

    def __init__(self, obs_dim: int, hidden: tuple[int, ...], activation: str) -> None:
        super().__init__()
        self.activation = activation
        self.body = mlp(obs_dim, hidden, 1, activation, out_gain=1.0)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.body(obs).squeeze(-1)


class NumpyActor:
    """A frozen NumPy copy of an :class:`Actor` for stepping environments.

    Acting on a handful of observations at a time is dominated by per-call framework overhead; a few NumPy
    matrix products cost a fraction of that. Log-probabilities for the update are recomputed in torch on the
    whole batch, so the copy only has to sample from (numerically) the same distribution.

    With gSDE (``self.sde``) a sample needs exploration matrices E, one per row of the batch, from
    :meth:`sample_exploration`; the rollout keeps them for ``sde_sample_freq`` steps. Without them, ``act`` draws
    fresh ones for the call.
    """

    def __init__(self, actor: Actor) -> None:
        linears = [m for m in actor.body if isinstance(m, nn.Linear)]
        self.layers = [
            (m.weight.detach().cpu().double().numpy().T.copy(), m.bias.detach().cpu().double().numpy().copy())
            for m in linears
        ]
        self.activation = actor.activation
        self.discrete = actor.space.discrete
        self.sde = actor.sde
        self.std = None if actor.log_std is None else np.exp(actor.log_std.detach().cpu().double().numpy())

    def _forward(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The network's output and the last hidden features φ(s) (gSDE's noise is φ(s)·E)."""
        h = np.asarray(obs, dtype=np.float64)
        features = h
        last = len(self.layers) - 1
        for i, (w, b) in enumerate(self.layers):
            if i == last:
                features = h
            h = h @ w + b
            if i < last:
                h = _np_activation(h, self.activation)
        return h, features

    def sample_exploration(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """gSDE exploration matrices for ``n`` rows of a batch: (n, features, actions), E_ij ~ N(0, σ_ij²)."""
        if not self.sde or self.std is None:
            raise ValueError("exploration matrices exist only for a gSDE policy")
        return self.std * rng.standard_normal((n, *self.std.shape))

    def act(
        self,
        obs: np.ndarray,
        rng: np.random.Generator | None,
        deterministic: bool,
        exploration: np.ndarray | None = None,
    ) -> np.ndarray:
        """Actions for a batch of (normalised) observations; sampled unless ``deterministic``.

        ``exploration`` holds gSDE's matrices for the batch's rows (ignored without gSDE).
        """
        out, features = self._forward(obs)
        if self.discrete:
            if deterministic or rng is None:
                return out.argmax(axis=-1)
            # Gumbel-max: argmax(logits + Gumbel noise) is a sample of the softmax, in two NumPy calls.
            return (out + rng.gumbel(size=out.shape)).argmax(axis=-1)
        if deterministic or rng is None or self.std is None:
            return out
        if self.sde:
            if exploration is None:
                exploration = self.sample_exploration(rng, out.shape[0])
            return out + np.einsum("bi,bij->bj", features, exploration)
        return out + self.std * rng.standard_normal(out.shape)


def _np_activation(h: np.ndarray, name: str) -> np.ndarray:
    if name == "tanh":
        return np.tanh(h)
    if name == "relu":
        return np.maximum(h, 0.0)
    return np.where(h > 0, h, np.expm1(np.minimum(h, 0.0)))  # elu, alpha=1
