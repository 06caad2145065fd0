"""sb3-contrib's networks beside ours: which parameter is which, for copying weights and comparing them."""

from __future__ import annotations

import torch
from sb3_contrib import TRPO

from trainer.agent import Agent

Pairs = list[tuple[torch.Tensor, torch.Tensor]]


def _linear_pairs(ours: torch.nn.Sequential, hidden: torch.nn.Sequential, head: torch.nn.Linear) -> Pairs:
    """(our parameter, sb3's) for an MLP: our Sequential against sb3's mlp_extractor branch and its head."""
    layers = [(ours[0], hidden[0]), (ours[2], hidden[2]), (ours[4], head)]
    return [(getattr(o, name), getattr(t, name)) for o, t in layers for name in ("weight", "bias")]


def actor_pairs(model: TRPO, agent: Agent) -> Pairs:
    """The policy: sb3's mlp_extractor.policy_net, action_net and (Box actions) log_std."""
    policy = model.policy
    pairs = _linear_pairs(agent.actor.body, policy.mlp_extractor.policy_net, policy.action_net)
    if agent.actor.log_std is not None:
        pairs.append((agent.actor.log_std, policy.log_std))
    return pairs


def critic_pairs(model: TRPO, agent: Agent) -> Pairs:
    """The value function: sb3's mlp_extractor.value_net and value_net."""
    policy = model.policy
    return _linear_pairs(agent.critic.body, policy.mlp_extractor.value_net, policy.value_net)


def copy_weights(model: TRPO, agent: Agent) -> None:
    with torch.no_grad():
        for ours, theirs in actor_pairs(model, agent) + critic_pairs(model, agent):
            ours.copy_(theirs)


def flat_pairs(pairs: Pairs) -> tuple[torch.Tensor, torch.Tensor]:
    """Our parameters and sb3's, each as one vector in the same order."""
    ours = torch.cat([o.detach().reshape(-1) for o, _ in pairs])
    theirs = torch.cat([t.detach().reshape(-1) for _, t in pairs])
    return ours, theirs
