"""``manage.py reconcile_runs [--every SECONDS]``: the reconciler once, or in a loop (for deployments without beat)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from web.runs.reconcile import reconcile


class Command(BaseCommand):
    help = "Requeue runs whose worker was lost or whose broker message vanished; fail runs lost too often."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, help="repeat every SECONDS (0: run once)")

    def handle(self, *args: Any, every: float, **options: Any) -> None:
        while True:
            report = reconcile()
            self.stdout.write(
                f"requeued {report.requeued_lost} failed {report.failed_lost} cancelled {report.cancelled_lost} "
                f"re-enqueued {report.reenqueued}"
            )
            if every <= 0:
                return
            time.sleep(every)
