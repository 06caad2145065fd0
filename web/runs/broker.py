"""Which runs the broker holds a message for, so the reconciler re-enqueues only the ones it lost.

The database is the source of truth; the broker is a delivery mechanism that can lose messages (Redis restarted
without persistence, a queue deleted). Reading the queues back lets the reconciler tell "waiting its turn" from
"lost": only lost runs get a new message, so a long queue is never flooded with duplicates.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from pathlib import Path
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)
QUEUES = ("cpu", "gpu")
TASK_NAME = "runs.train_run"


def pending_run_ids(unacked_for_at_most: float | None = None) -> set[int] | None:
    """Run ids with a message waiting or unacknowledged in the broker; None when the broker cannot be read.

    With ``unacked_for_at_most`` (seconds), a message delivered longer ago than that and still unacknowledged does
    not count: for a run that is still queued, it is held by a worker that never started it (one killed after it
    took the message, say) and that Redis gives back only after its visibility timeout, a day later.
    """
    url: str = settings.CELERY_BROKER_URL
    try:
        if url.startswith(("redis://", "rediss://")):
            return _redis_run_ids(url, unacked_for_at_most)
        if url.startswith("filesystem://"):
            return _filesystem_run_ids(Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
    except Exception as exc:  # an unreadable broker must not stop the reconciler
        log.warning("could not read the broker's queues: %s", exc)
    return None


def _redis_run_ids(url: str, unacked_for_at_most: float | None = None) -> set[int]:
    import redis

    client = redis.Redis.from_url(url)
    payloads: list[bytes] = []
    for queue in QUEUES:
        # kombu keeps priority levels in sibling lists named queue + separator + level.
        for key in [queue.encode(), *client.scan_iter(match=f"{queue}\x06\x16*")]:
            payloads += client.lrange(key, 0, -1)
    # kombu's "unacked" hash holds delivered messages by delivery tag, "unacked_index" when each was delivered.
    delivered = {tag: when for tag, when in client.zrange("unacked_index", 0, -1, withscores=True)}
    oldest = None if unacked_for_at_most is None else time.time() - unacked_for_at_most
    for tag, raw in client.hgetall("unacked").items():
        if oldest is not None and delivered.get(tag, time.time()) < oldest:
            continue
        payloads.append(json.dumps(json.loads(raw)[0]).encode())
    return {i for p in payloads if (i := _run_id(json.loads(p))) is not None}


def _filesystem_run_ids(folder: Path) -> set[int]:
    ids = set()
    for path in folder.glob("*.msg") if folder.exists() else []:
        try:
            run_id = _run_id(json.loads(path.read_bytes()))
        except (OSError, ValueError):
            continue  # a file being written or consumed right now
        if run_id is not None:
            ids.add(run_id)
    return ids


def _run_id(message: dict[str, Any]) -> int | None:
    """The run id a kombu message carries for ``runs.train_run`` (protocol 2: body is [args, kwargs, embed])."""
    if message.get("headers", {}).get("task") != TASK_NAME:
        return None
    body = message.get("body", "")
    if message.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    args = json.loads(body)[0]
    return int(args[0]) if args else None
