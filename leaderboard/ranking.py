"""Ranking with ties from confidence intervals, on plain data (no Django).

Why intervals and not just means: two configurations whose 95% intervals overlap cannot honestly be put in
order from a few seeds, so they share a rank and the page says they are tied.

The rule (greedy grouping by leader, competition numbering):

1. Provisional candidates (fewer finished seeds than the environment's ``min_seeds``) are not ranked: their
   interval is too unreliable to place them against confirmed entries. They get ``rank=None`` and are listed
   after the ranked ones, best mean first, flagged.
2. Among the others, the one with the highest mean is the leader of the first group; every remaining entry
   whose interval overlaps the leader's (closed intervals: touching counts) joins its group.
3. The group is removed and step 2 repeats on the rest. Every member of a group gets the rank
   ``1 + (number of entries in earlier groups)`` (competition ranking: 1, 1, 3, ...). Members of a group of
   two or more are ``tied``.

Overlap is tested against the group's leader only, not transitively, so a group never chains far below its
leader. Equal means are broken by the narrower interval (more certain), then by the key, for stable output.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Candidate:
    """One (config, environment) entry as the ranking sees it."""

    key: Hashable
    mean: float
    ci_low: float
    ci_high: float
    n_seeds: int
    min_seeds: int = 1

    @property
    def provisional(self) -> bool:
        return self.n_seeds < self.min_seeds


@dataclass(frozen=True)
class Ranked:
    """The outcome for one candidate: ``rank`` is ``None`` for provisional entries."""

    key: Hashable
    rank: int | None
    tied: bool
    provisional: bool


def overlaps(a: Candidate, b: Candidate) -> bool:
    """Closed-interval overlap of two confidence intervals."""
    return a.ci_low <= b.ci_high and b.ci_low <= a.ci_high


def _order(c: Candidate) -> tuple[Any, ...]:
    """Mean (best first), then the narrower interval, then the key: integer ids by value (as text, id 10 came
    before id 9 and could lead a group of equal means in 9's place), any other key by its text."""
    by_key = (0, c.key, "") if isinstance(c.key, int) and not isinstance(c.key, bool) else (1, 0, str(c.key))
    return (-c.mean, c.ci_high - c.ci_low, *by_key)


def rank(candidates: Sequence[Candidate]) -> list[Ranked]:
    """Rank candidates by mean with interval ties; returns them in display order (see module docstring)."""
    confirmed = sorted((c for c in candidates if not c.provisional), key=_order)
    provisional = sorted((c for c in candidates if c.provisional), key=_order)
    out: list[Ranked] = []
    remaining = confirmed
    while remaining:
        leader = remaining[0]
        group = [c for c in remaining if c is leader or overlaps(c, leader)]
        position = len(out) + 1
        tied = len(group) > 1
        out.extend(Ranked(c.key, position, tied, False) for c in group)
        members = {id(c) for c in group}
        remaining = [c for c in remaining if id(c) not in members]
    out.extend(Ranked(c.key, None, False, True) for c in provisional)
    return out
