"""``manage.py recompute_leaderboard``: rebuild every precomputed leaderboard row from the runs."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from leaderboard.services import recompute_all


class Command(BaseCommand):
    help = "Rebuild every leaderboard entry, every board's figures and the overall board from finished runs."

    def handle(self, *args: Any, **options: Any) -> None:
        start = time.perf_counter()
        entries, overall = recompute_all()
        elapsed = time.perf_counter() - start
        self.stdout.write(
            self.style.SUCCESS(f"recomputed {entries} entries and {overall} overall rows in {elapsed:.1f}s")
        )
