"""The trust-region step: accepted steps keep KL ≤ δ and improve the surrogate; rejected ones change nothing."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from trainer.envs import SpaceInfo
from trainer.policies import Actor, DistParams, kl_divergence, log_prob
from trainer.trpo import TrustRegion, _line_search, flat_grad, get_flat_params, surrogate, trpo_step

DISCRETE = SpaceInfo(obs_dim=4, discrete=True, act_dim=3)
GAUSSIAN = SpaceInfo(obs_dim=4, discrete=False, act_dim=2, act_low=(-2.0, -2.0), act_high=(2.0, 2.0))


def _batch(space: SpaceInfo, seed: int, sde: bool = False) -> tuple[Actor, torch.Tensor, torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    actor = Actor(space, (16, 16), "tanh", sde=sde)
    obs = torch.randn(256, 4)
    with torch.no_grad():
        p = actor(obs)
        if space.discrete:
            actions = torch.distributions.Categorical(logits=p.loc).sample()
        else:
            actions = p.loc + torch.randn_like(p.loc)
    advantages = torch.randn(256)
    return actor, obs, actions, advantages


@pytest.mark.parametrize(
    ("space", "sde"), [(DISCRETE, False), (GAUSSIAN, False), (GAUSSIAN, True)], ids=["discrete", "gaussian", "gsde"]
)
@pytest.mark.parametrize("max_kl", [0.001, 0.01, 0.05])
def test_it_keeps_every_accepted_step_inside_the_trust_region(space: SpaceInfo, sde: bool, max_kl: float) -> None:
    tr = TrustRegion(max_kl, 10, 0.1, 1e-10, 10, 0.8)
    for seed in range(5):
        actor, obs, actions, adv = _batch(space, seed, sde)
        old = actor(obs).detach()  # a copy: the step overwrites the parameters in place
        stats = trpo_step(actor, obs, actions, adv, tr)
        with torch.no_grad():
            kl = float(kl_divergence(old, actor(obs)).mean())
        assert stats.step_accepted, "a random batch always has an improving direction"
        assert kl <= max_kl
        assert abs(kl - stats.kl) < 1e-6
        assert stats.surrogate_gain > 0
        assert stats.kl > max_kl * 0.05, "the step should use a fair part of the trust region"


def test_it_takes_no_step_without_a_gradient() -> None:
    actor, obs, actions, _ = _batch(DISCRETE, 0)
    before = get_flat_params(list(actor.parameters()))
    stats = trpo_step(actor, obs, actions, torch.zeros(256), TrustRegion(0.01, 10, 0.1, 1e-10, 5, 0.5))
    assert not stats.step_accepted
    assert torch.equal(before, get_flat_params(list(actor.parameters())))


def test_the_line_search_rejects_a_step_that_lowers_the_surrogate() -> None:
    actor, obs, actions, adv = _batch(GAUSSIAN, 2)
    params = list(actor.parameters())
    before = get_flat_params(params)
    with torch.no_grad():
        old = actor(obs)
        old_log_prob = log_prob(old, actions)
        loss_old = float((adv).mean())  # ratio is 1 at θ_old
    g = flat_grad(surrogate(actor, obs, actions, adv, old_log_prob), params)
    downhill = -0.01 * g / g.norm()
    tr = TrustRegion(0.01, 10, 0.1, 1e-10, 6, 0.5)
    stats = _line_search(actor, params, obs, actions, adv, old, old_log_prob, loss_old, downhill, -1.0, 0.0, 0.0, tr)
    assert not stats.step_accepted
    assert stats.line_search_steps == 6
    assert torch.equal(before, get_flat_params(params))


def test_it_backtracks_when_the_full_step_overshoots() -> None:
    # Tiny damping and few CG steps on a sharp problem make the quadratic model optimistic; the line search
    # must shrink rather than accept a step outside the region.
    actor, obs, actions, adv = _batch(GAUSSIAN, 3)
    stats = trpo_step(actor, obs, actions, adv * 100, TrustRegion(0.5, 2, 1e-6, 1e-10, 30, 0.5))
    if stats.step_accepted:
        assert stats.kl <= 0.5
    assert stats.expected_gain > 0


def test_it_uses_a_subsample_for_the_fisher_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    import trainer.trpo

    seen: list[int] = []
    original = trainer.trpo.fisher_vector_product_fn

    def recording(actor: Any, obs: torch.Tensor, *args: Any) -> Any:
        seen.append(obs.shape[0])
        return original(actor, obs, *args)

    monkeypatch.setattr(trainer.trpo, "fisher_vector_product_fn", recording)
    actor, obs, actions, adv = _batch(GAUSSIAN, 1)
    stats = trpo_step(actor, obs, actions, adv, TrustRegion(0.01, 10, 0.1, 1e-10, 10, 0.8, fisher_subsample=4))
    assert seen == [-(-obs.shape[0] // 4)], "the Fisher products see every 4th sample only"
    assert stats.step_accepted
    assert stats.kl <= 0.01, "the line search still measures the KL on the whole batch"


def test_it_measures_the_kl_of_a_log_std_change_against_the_old_log_std() -> None:
    # Regression: π_old must not alias the log-std parameter that the line search overwrites in place.
    actor, obs, actions, adv = _batch(GAUSSIAN, 4)
    with torch.no_grad():
        before = actor(obs)
        old = DistParams(before.loc.clone(), before.log_std.clone())
    stats = trpo_step(actor, obs, actions, adv, TrustRegion(0.05, 10, 0.1, 1e-10, 10, 0.8))
    assert stats.step_accepted
    assert not torch.equal(old.log_std, actor.log_std.detach()), "the step should move the log-std too"
    with torch.no_grad():
        kl_true = float(kl_divergence(old, actor(obs)).mean())
    assert abs(kl_true - stats.kl) < 1e-6
    assert kl_true <= 0.05
