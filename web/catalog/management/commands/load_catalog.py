"""``manage.py load_catalog [--demo-password PW]``: shipped environments, default config, optional demo user."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from web.catalog.loader import ensure_demo_user, load_default_config, load_environments
from web.catalog.shipped import DEMO_USERNAME


class Command(BaseCommand):
    help = "Load the shipped environment catalog and the default TRPO config (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--demo-password",
            default="",
            help=f"Also create (or reset) the '{DEMO_USERNAME}' account with this password.",
        )
        parser.add_argument(
            "--reset-edits",
            action="store_true",
            help="Write the shipped values over shipped environments edited here (kept by default); an "
            "environment registered here under a shipped slug, and the protocol of one with runs, stay as they are.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        load = load_environments(reset_edits=options["reset_edits"])
        config = load_default_config()
        self.stdout.write(f"catalog: {len(load.environments)} environments; default config: {config}")
        if load.kept_edits:
            kept = ", ".join(load.kept_edits)
            self.stdout.write(f"kept local edits of {kept} (shipped values not applied; --reset-edits applies them)")
        if load.kept_protocols:
            kept = ", ".join(load.kept_protocols)
            self.stdout.write(f"kept the protocol of {kept}: their runs were trained under it (other values updated)")
        if options["demo_password"]:
            ensure_demo_user(options["demo_password"])
            self.stdout.write(f"demo account: {DEMO_USERNAME}")
