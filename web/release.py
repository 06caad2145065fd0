"""Which code is running: the deployed commit, recorded with every run and carried by every rendered-page cache key."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from django.conf import settings


def code_version() -> str:
    """The deployed commit: TRUSTBOARD_CODE_VERSION (set by the image build) or the checkout's git HEAD."""
    if version := os.environ.get("TRUSTBOARD_CODE_VERSION"):
        return version
    git = Path(settings.BASE_DIR) / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            ref_file = git / ref
            if ref_file.exists():
                return ref_file.read_text().strip()[:12]
            packed = (git / "packed-refs").read_text().splitlines() if (git / "packed-refs").exists() else []
            return next((line.split()[0][:12] for line in packed if line.endswith(ref)), "unknown")
        return head[:12]
    except OSError:
        return "unknown"


@functools.cache
def running_release() -> str:
    """The commit this process started with (read once: a process runs the code it loaded, whatever HEAD says
    since)."""
    return code_version()
