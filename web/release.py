"""Which code is running: the deployed commit, recorded with every run and carried by every rendered-page cache key."""

from __future__ import annotations

import functools
import hashlib
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


# What a release changes in what the site renders: its code, templates and static files.
SOURCE_PACKAGES = ("web", "leaderboard", "trainer")
SOURCE_SUFFIXES = (".py", ".html", ".js", ".css")


def source_digest() -> str:
    """A digest of the source files: a release identity where neither the build nor git names the commit."""
    digest = hashlib.sha256()
    root = Path(settings.BASE_DIR)
    for package in SOURCE_PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.suffix in SOURCE_SUFFIXES and path.is_file():
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return f"src-{digest.hexdigest()[:12]}"


@functools.cache
def running_release() -> str:
    """The commit this process started with (read once: a process runs the code it loaded, whatever HEAD says
    since), or its source files' digest where the commit is unknown (an image built without ``CODE_VERSION``):
    otherwise every such deploy would share one release and serve the previous one's cached pages."""
    version = code_version()
    return version if version != "unknown" else source_digest()
