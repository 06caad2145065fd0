"""Writes one benchmark's section into ``BENCHMARKS.md`` and keeps every other section as it is.

Why: each benchmark script owns a ``## ...`` section of the same file; rerunning one must not erase the others.
"""

from __future__ import annotations

from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def write_section(path: Path, heading: str, section: str) -> None:
    """Put ``section`` (which starts with the line ``heading``) into ``path`` in place of an older copy of it."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == heading), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(("## ", "# "))), len(lines))
        new = "".join(lines[:start]) + section + ("\n" + "".join(lines[end:]) if end < len(lines) else "")
    path.write_text(new)
