"""Shared pieces of the fuzz suites: classes of bad values, a tally of what was tried, and its report.

Each example draws one *class* of bad input (random text, huge, unicode, NaN/inf, nested JSON, wrong type,
missing field, ...) and applies it to some fields or query parameters. The tally counts examples per target and
class, and the outcome of each; ``write_report`` saves it as JSON under ``var/reliability/`` and prints it, so
docs/RELIABILITY.md can quote the numbers of a real run.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

MAX_EXAMPLES = int(os.environ.get("TRUSTBOARD_FUZZ_EXAMPLES", "60"))
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("TRUSTBOARD_FUZZ_RANDOM") != "1",  # reproducible by default; opt into new seeds
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


def per_class(base: settings, n_classes: int) -> settings:
    """Split a target's MAX_EXAMPLES between its classes (rounded up, so a target gets at least that many)."""
    return settings(base, max_examples=max(1, -(-base.max_examples // n_classes)))


REPORT_DIR = Path(__file__).resolve().parents[2] / "var" / "reliability"

TRICKY = [
    "\x00", "a\x00b", "²", "٣", "１２", "𝟗", "\u202e", "\ufeff1", " 7 ", "-0", "0x10", "1_000", "1e3", "+5", "",
    "' OR 1=1 --", "<script>alert(1)</script>", "{{ 7*7 }}", "../../etc/passwd", "%00", "\\", "null", "true", "[]",
]  # fmt: skip
NAN_INF = ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "-Infinity", "1e309", "-1e309", "1e-400", "9" * 400]
HUGE_SIZES = [300, 4_097, 70_000, 3_000_000]  # the last is over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
# A request line is cut far earlier by any front server (gunicorn: 4094 bytes); 70k already exceeds them all.
HUGE_QUERY_SIZES = [300, 4_097, 70_000]

_json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
_json = st.recursive(
    _json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=25,
)  # fmt: skip
_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _huge(sizes: list[int]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(["x", "9", "é", "{", "🙂"]), st.sampled_from(sizes)).map(lambda t: t[0] * t[1])


CLASSES: dict[str, st.SearchStrategy[Any]] = {
    "random text": _text,
    "huge": _huge(HUGE_SIZES),
    "unicode and injection": st.sampled_from(TRICKY) | st.text(alphabet=st.characters(exclude_categories=["Cs"]),
                                                               min_size=1, max_size=12),
    "NaN, inf and overflow": st.sampled_from(NAN_INF) | st.integers().map(str)
    | st.sampled_from([str(2**31), str(2**63), str(-(2**63) - 1), str(10**30)]),
    "nested JSON": _json.map(lambda v: json.dumps(v)) | st.sampled_from([400, 1000, 3000]).map(_deep),
    "wrong type (several values)": st.lists(_text, min_size=2, max_size=3),
}  # fmt: skip
QUERY_CLASSES = {**CLASSES, "huge": _huge(HUGE_QUERY_SIZES)}
MISSING = "missing field"
CLASS_NAMES = [*CLASSES, MISSING]


class Tally:
    """Examples per (target, class), and outcomes per target: accepted, rejected, server errors, partial writes."""

    def __init__(self, suite: str) -> None:
        self.suite = suite
        self.tried: dict[str, Counter[str]] = defaultdict(Counter)
        self.outcomes: dict[str, Counter[str]] = defaultdict(Counter)

    def record(self, target: str, kind: str, outcome: str) -> None:
        self.tried[target][kind] += 1
        self.outcomes[target][outcome] += 1

    def as_dict(self) -> dict[str, Any]:
        by_class: Counter[str] = Counter()
        for per_target in self.tried.values():
            by_class.update(per_target)
        outcomes: Counter[str] = Counter()
        for per_target in self.outcomes.values():
            outcomes.update(per_target)
        return {
            "suite": self.suite,
            "examples": sum(by_class.values()),
            "by_class": dict(sorted(by_class.items())),
            "outcomes": dict(sorted(outcomes.items())),
            "by_target": {
                t: {"tried": dict(sorted(c.items())), "outcomes": dict(sorted(self.outcomes[t].items()))}
                for t, c in sorted(self.tried.items())
            },
        }

    def write_report(self) -> None:
        REPORT_DIR.mkdir(parents=True, exist_ok=True)
        data = self.as_dict()
        (REPORT_DIR / f"{self.suite}.json").write_text(json.dumps(data, indent=1) + "\n")
        print(f"\n{self.suite}: {data['examples']} examples; by class {data['by_class']}; outcomes {data['outcomes']}")
