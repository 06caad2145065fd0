"""Ranking: ties from overlapping intervals, provisional entries, empty boards."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from leaderboard.ranking import Candidate, overlaps, rank


def c(key: str, mean: float, low: float, high: float, n: int = 5, min_seeds: int = 3) -> Candidate:
    return Candidate(key=key, mean=mean, ci_low=low, ci_high=high, n_seeds=n, min_seeds=min_seeds)


def summary(cands: list[Candidate]) -> list[tuple[str, int | None, bool, bool]]:
    return [(r.key, r.rank, r.tied, r.provisional) for r in rank(cands)]  # type: ignore[misc]


def test_it_ranks_an_empty_board() -> None:
    assert rank([]) == []


def test_it_ranks_separated_entries_in_order_of_mean() -> None:
    cands = [c("b", 5, 4, 6), c("a", 10, 9, 11), c("c", 1, 0, 2)]
    assert summary(cands) == [("a", 1, False, False), ("b", 2, False, False), ("c", 3, False, False)]


def test_it_ties_entries_overlapping_the_leader() -> None:
    cands = [c("a", 10, 8, 12), c("b", 9, 7.5, 10.5), c("c", 7.9, 7, 8), c("d", 3, 2, 4)]
    # b overlaps a; c touches a's low end (8 <= 8) so it is tied too (closed intervals); d does not.
    assert summary(cands) == [
        ("a", 1, True, False),
        ("b", 1, True, False),
        ("c", 1, True, False),
        ("d", 4, False, False),
    ]


def test_it_groups_lower_ranks_around_their_own_leader() -> None:
    cands = [c("a", 10, 9, 11), c("b", 6, 5, 7), c("c", 5, 4.5, 6.5), c("d", 4, 3, 4.9), c("e", 1, 0, 2)]
    # groups: {a}, {b, c} (c overlaps b), then d: it overlaps c but not b, so it leads its own group.
    assert summary(cands) == [
        ("a", 1, False, False),
        ("b", 2, True, False),
        ("c", 2, True, False),
        ("d", 4, False, False),
        ("e", 5, False, False),
    ]


def test_it_ties_a_wide_lower_entry_with_the_leader_even_past_narrower_ones() -> None:
    cands = [c("a", 10, 6, 14), c("b", 5, 4.9, 5.1), c("w", 4, 0, 8)]
    # w's interval reaches the leader's although its mean is below b's: it shares rank 1, b is ranked 3.
    assert summary(cands) == [("a", 1, True, False), ("w", 1, True, False), ("b", 3, False, False)]


def test_it_flags_provisional_entries_and_leaves_them_unranked() -> None:
    cands = [c("a", 5, 4, 6), c("p", 50, 50, 50, n=1), c("b", 2, 1, 3)]
    assert summary(cands) == [("a", 1, False, False), ("b", 2, False, False), ("p", None, False, True)]


def test_it_handles_a_board_of_only_provisional_entries() -> None:
    cands = [c("p", 1, 1, 1, n=1), c("q", 2, 2, 2, n=2)]
    assert summary(cands) == [("q", None, False, True), ("p", None, False, True)]


def test_it_breaks_equal_means_by_the_narrower_interval() -> None:
    cands = [c("wide", 5, 0, 10), c("narrow", 5, 4, 6)]
    assert [r.key for r in rank(cands)] == ["narrow", "wide"]
    assert {r.rank for r in rank(cands)} == {1}


@st.composite
def candidates(draw: st.DrawFn) -> list[Candidate]:
    out = []
    for i in range(draw(st.integers(0, 12))):
        mean = draw(st.floats(-100, 100, allow_nan=False))
        half = draw(st.floats(0, 30, allow_nan=False))
        out.append(c(f"k{i}", mean, mean - half, mean + half, n=draw(st.integers(1, 5))))
    return out


@given(candidates())
@settings(max_examples=200, deadline=None)
def test_it_keeps_its_invariants(cands: list[Candidate]) -> None:
    ranked = rank(cands)
    by_key = {x.key: x for x in cands}
    assert sorted(r.key for r in ranked) == sorted(x.key for x in cands)
    numbered = [r for r in ranked if r.rank is not None]
    assert all(r.provisional == (r.rank is None) for r in ranked)
    assert [r.rank for r in numbered] == sorted(r.rank for r in numbered)  # display order follows rank
    assert numbered == ranked[: len(numbered)]  # provisional entries come last
    for position, r in enumerate(numbered, start=1):
        assert r.rank <= position  # competition ranking: a rank never exceeds the position
        group = [g for g in numbered if g.rank == r.rank]
        leader = by_key[group[0].key]
        assert r.tied == (len(group) > 1)
        assert overlaps(by_key[r.key], leader)
        assert all(by_key[g.key].mean <= leader.mean for g in group)


def test_equal_means_and_widths_are_led_by_the_smaller_id_as_a_number() -> None:
    """Ids compared as text put 10 before 9: 10 led the group, and 11, overlapping 9's interval only, lost its tie."""
    ranked = rank([Candidate(9, 5.0, 3.5, 5.5, 3), Candidate(10, 5.0, 4.5, 6.5, 3), Candidate(11, 4.4, 4.2, 4.4, 3)])
    assert [(r.key, r.rank) for r in ranked] == [(9, 1), (10, 1), (11, 1)]
