"""Signals other apps listen to, so that ``web.runs`` never imports them.

``run_finished(sender=Run, run=run)`` is sent by the worker after a run reaches a final status (succeeded,
failed or cancelled) and the row is saved; the leaderboard connects to it to recompute its entries.

``run_deleted(sender=Run, run=run)`` is sent for every deleted run, whatever deleted it (the owner's delete button,
the admin, the cascade of a deleted user; ``services.on_run_row_deleted``, a ``post_delete`` receiver); the
instance keeps its ``config_id`` and ``environment_id``, so the leaderboard can recompute the entry it counted in.
A receiver should defer its work to the commit: a cascade sends it once per run, inside the deleting transaction.
"""

from __future__ import annotations

from django.dispatch import Signal

run_finished = Signal()
run_deleted = Signal()
