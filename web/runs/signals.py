"""Signals other apps listen to, so that ``web.runs`` never imports them.

``run_finished(sender=Run, run=run)`` is sent by the worker after a run reaches a final status (succeeded,
failed or cancelled) and the row is saved; the leaderboard connects to it to recompute its entries.

``run_deleted(sender=Run, run=run)`` is sent when its owner deletes a finished run (the instance keeps its
``config_id`` and ``environment_id``), so the leaderboard can recompute the entry the run counted in.
"""

from __future__ import annotations

from django.dispatch import Signal

run_finished = Signal()
run_deleted = Signal()
