"""Riding out a short database outage: retry an operation on a fresh connection until a deadline.

A worker that loses PostgreSQL for a few seconds (a restart, a failover, a dropped connection) must not throw
away hours of training. Every database call the worker makes during a run goes through :func:`retrying`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)
T = TypeVar("T")


def retrying(operation: Callable[[], T], *, seconds: float | None = None) -> T:
    """Run ``operation``; on a connection error, reconnect and try again with backoff until ``seconds`` pass.

    Only connection-level errors are retried (``OperationalError``, ``InterfaceError``): a constraint violation
    or a bug fails at once. The operation must be safe to repeat, which every worker write is (filtered updates
    and inserts that ignore conflicts).
    """
    budget = settings.TRUSTBOARD_DB_RETRY_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + budget
    delay = 0.2
    while True:
        try:
            return operation()
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database unavailable (%s); retrying in %.1fs", str(exc).strip()[:200], delay)
            connection.close()  # the broken connection is dropped; the next query opens a new one
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
