"""The trust-region policy step of Schulman et al., "Trust Region Policy Optimization" (ICML 2015).

maximise  L(θ) = E[ π_θ(a|s) / π_old(a|s) · A(s, a) ]   subject to   E[ KL(π_old ‖ π_θ) ] ≤ δ

Linearising L and taking the KL to second order gives the natural-gradient direction x = F⁻¹g (section 6 and
appendix C), found with conjugate gradient on Fisher-vector products, scaled so that ½ xᵀFx = δ, and then shrunk
geometrically until the true KL and surrogate improvement are acceptable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from trainer import mlp_passes
from trainer.mlp_passes import Layers
from trainer.policies import Actor, DistParams, entropy, kl_divergence, log_prob


def flat_grad(
    y: torch.Tensor, params: list[nn.Parameter], *, create_graph: bool = False, retain_graph: bool | None = None
) -> torch.Tensor:
    """∂y/∂θ as one flat vector (the graph is kept when ``create_graph``, for a second derivative)."""
    grads = torch.autograd.grad(y, params, create_graph=create_graph, retain_graph=retain_graph)
    return torch.cat([g.reshape(-1) for g in grads])


def get_flat_params(params: list[nn.Parameter]) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in params])


def set_flat_params(params: list[nn.Parameter], flat: torch.Tensor) -> None:
    offset = 0
    with torch.no_grad():
        for p in params:
            n = p.numel()
            p.copy_(flat[offset : offset + n].view_as(p))
            offset += n


def conjugate_gradient(
    matvec: Callable[[torch.Tensor], torch.Tensor], b: torch.Tensor, iters: int, residual_tol: float = 1e-10
) -> tuple[torch.Tensor, float]:
    """Approximately solve A x = b for symmetric positive-definite A given only x ↦ Ax.

    Returns x and the final squared residual ‖b − Ax‖² (a diagnostic of how well the direction was found).
    """
    x = torch.zeros_like(b)
    r = b.clone()
    p = b.clone()
    r_dot = torch.dot(r, r)
    for _ in range(iters):
        if r_dot.item() < residual_tol:
            break
        ap = matvec(p)
        alpha = r_dot / torch.dot(p, ap)
        x += alpha * p
        r -= alpha * ap
        new_r_dot = torch.dot(r, r)
        p = r + (new_r_dot / r_dot) * p
        r_dot = new_r_dot
    return x, float(r_dot.item())


def fisher_vector_product_fn(
    actor: Actor, obs: torch.Tensor, old: DistParams, damping: float
) -> Callable[[torch.Tensor], torch.Tensor]:
    """v ↦ (F + λI)v, with F the Hessian of the mean KL(π_old‖π_θ) at θ = θ_old, i.e. the Fisher matrix.

    At θ_old the KL's gradient with respect to the distribution parameters is zero, so its Hessian is exactly
    Jᵀ M J: J the Jacobian of the network's output, M the KL's Hessian in output space (diag(p) − ppᵀ for
    logits, 1/σ² for a Gaussian mean, and 2 for each log-std). Fv is then one forward-mode and one reverse pass
    written out by hand (:mod:`trainer.mlp_passes`), about 2-3x cheaper than differentiating the KL twice.

    With gSDE the log-std of each sample is ½·log(Σ_i φ_i²·exp(2L_ij) + ε) of the detached features φ and the
    matrix L, so L's block is Jᵀ·2·J with J_(j),(ij) = φ_i²·exp(2L_ij) / σ_j², and the mean's block uses the
    per-sample 1/σ².
    """
    layers = Layers.of(actor.body, actor.activation)
    outs = mlp_passes.forward(layers, obs)
    act_slopes = mlp_passes.slopes(layers, outs)
    params = list(actor.parameters())
    sizes = [p.numel() for p in params]
    # Where each Linear's weight and bias sit in actor.parameters() (log_std, if any, is elsewhere in it).
    body_positions = [_index_of(params, p) for lin in layers.linears for p in (lin.weight, lin.bias)]
    log_std_position = None if actor.log_std is None else _index_of(params, actor.log_std)
    scale = 1.0 / obs.shape[0]
    if old.log_std is None:
        probs = torch.softmax(old.loc, dim=-1)

        def output_hessian(u: torch.Tensor) -> torch.Tensor:
            return probs * u - probs * (probs * u).sum(-1, keepdim=True)
    else:
        inv_var = torch.exp(-2.0 * old.log_std)

        def output_hessian(u: torch.Tensor) -> torch.Tensor:
            return u * inv_var

    if not actor.sde or actor.log_std is None:

        def log_std_block(v_log_std: torch.Tensor) -> torch.Tensor:
            return 2.0 * v_log_std
    else:
        sq_features = outs[-2].pow(2)  # φ(s)²: the last hidden layer's output, as the actor detached it
        noise_var = torch.exp(2.0 * actor.log_std.detach())  # σ² of E, (features, actions)
        weight = (2.0 * scale) * inv_var.pow(2)  # the KL's 2 per log-std, the mean over samples, and J's 1/σ_j² twice

        def log_std_block(v_log_std: torch.Tensor) -> torch.Tensor:
            var_times_jv = sq_features @ (noise_var * v_log_std)  # J v, times σ_j² of each sample
            return noise_var * (sq_features.t() @ (var_times_jv * weight))

    @torch.no_grad()
    def fvp(v: torch.Tensor) -> torch.Tensor:
        chunks = [c.view(p.shape) for c, p in zip(torch.split(v, sizes), params, strict=True)]
        ju = mlp_passes.jvp(layers, outs, [chunks[i] for i in body_positions], act_slopes)
        grads = mlp_passes.backward(layers, outs, output_hessian(ju) * scale, act_slopes)
        result: list[torch.Tensor] = [torch.empty(0)] * len(params)
        for i, g in zip(body_positions, grads, strict=True):
            result[i] = g.reshape(-1)
        if log_std_position is not None:
            result[log_std_position] = log_std_block(chunks[log_std_position]).reshape(-1)
        return torch.cat(result) + damping * v

    return fvp


def _index_of(params: list[nn.Parameter], target: torch.Tensor) -> int:
    return next(i for i, p in enumerate(params) if p is target)


def fisher_vector_product_autograd(
    actor: Actor, obs: torch.Tensor, old: DistParams, damping: float
) -> Callable[[torch.Tensor], torch.Tensor]:
    """The same product by differentiating the mean KL twice (Pearlmutter's trick); the reference for tests."""
    params = list(actor.parameters())
    kl = kl_divergence(old, actor(obs)).mean()
    grad_kl = flat_grad(kl, params, create_graph=True)

    def fvp(v: torch.Tensor) -> torch.Tensor:
        return flat_grad(torch.dot(grad_kl, v), params, retain_graph=True) + damping * v

    return fvp


def surrogate(
    actor: Actor, obs: torch.Tensor, actions: torch.Tensor, advantages: torch.Tensor, old_log_prob: torch.Tensor
) -> torch.Tensor:
    """L(θ) = mean(π_θ(a|s) / π_old(a|s) · A)."""
    ratio = torch.exp(log_prob(actor(obs), actions) - old_log_prob)
    return (ratio * advantages).mean()


@dataclass(frozen=True)
class StepStats:
    """Diagnostics of one trust-region step (stored under ``train/…``)."""

    kl: float
    surrogate_gain: float
    expected_gain: float
    line_search_steps: int
    step_accepted: bool
    cg_residual: float
    entropy: float


@dataclass(frozen=True)
class TrustRegion:
    """The step's settings, taken from :class:`trainer.config.TRPOConfig`."""

    max_kl: float
    cg_iters: int
    cg_damping: float
    cg_residual_tol: float
    line_search_steps: int
    line_search_shrink: float
    fisher_subsample: int = 1


def trpo_step(
    actor: Actor, obs: torch.Tensor, actions: torch.Tensor, advantages: torch.Tensor, tr: TrustRegion
) -> StepStats:
    """Update ``actor`` in place by one TRPO step on this batch; keep the old parameters if no step is safe."""
    params = list(actor.parameters())
    with torch.no_grad():
        old = actor(obs).detach()
        old_log_prob = log_prob(old, actions)
        ent = float(entropy(old).mean())

    loss = surrogate(actor, obs, actions, advantages, old_log_prob)
    g = flat_grad(loss, params)
    sub = slice(None, None, tr.fisher_subsample)
    fvp = fisher_vector_product_fn(actor, obs[sub], old.rows(sub), tr.cg_damping)
    direction, residual = conjugate_gradient(fvp, g, tr.cg_iters, tr.cg_residual_tol)
    curvature = torch.dot(direction, fvp(direction))
    if not torch.isfinite(curvature) or curvature.item() <= 0.0:
        return StepStats(0.0, 0.0, 0.0, 0, False, residual, ent)
    full_step = torch.sqrt(2.0 * tr.max_kl / curvature) * direction
    expected = float(torch.dot(g, full_step))
    return _line_search(
        actor,
        params,
        obs,
        actions,
        advantages,
        old,
        old_log_prob,
        float(loss.detach()),
        full_step,
        expected,
        residual,
        ent,
        tr,
    )


def _line_search(
    actor: Actor,
    params: list[nn.Parameter],
    obs: torch.Tensor,
    actions: torch.Tensor,
    advantages: torch.Tensor,
    old: DistParams,
    old_log_prob: torch.Tensor,
    loss_old: float,
    full_step: torch.Tensor,
    expected: float,
    residual: float,
    ent: float,
    tr: TrustRegion,
) -> StepStats:
    """Backtrack θ_old + sᵏ·step, k = 0, 1, …; accept the first with KL ≤ δ and a positive surrogate gain."""
    theta_old = get_flat_params(params)
    with torch.no_grad():
        for k in range(tr.line_search_steps):
            frac = tr.line_search_shrink**k
            set_flat_params(params, theta_old + frac * full_step)
            new = actor(obs)
            kl = float(kl_divergence(old, new).mean())
            ratio = torch.exp(log_prob(new, actions) - old_log_prob)
            gain = float((ratio * advantages).mean()) - loss_old
            if kl <= tr.max_kl and gain > 0.0:
                return StepStats(kl, gain, expected * frac, k, True, residual, ent)
        set_flat_params(params, theta_old)
    return StepStats(0.0, 0.0, expected, tr.line_search_steps, False, residual, ent)
