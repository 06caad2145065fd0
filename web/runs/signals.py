"""Signals other apps listen to, so that ``web.runs`` never imports them.

``run_finished(sender=Run, run=run)`` is sent by the worker after a run reaches a final status (succeeded,
failed or cancelled) and the row is saved; the leaderboard connects to it to recompute its entries.
"""

from __future__ import annotations

from django.dispatch import Signal

run_finished = Signal()
