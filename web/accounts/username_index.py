"""The unique index on lower(username), kept in place after every ``migrate``.

Migration 0001 builds it with raw SQL, so Django's model state does not know it (``auth.User`` is not ours to give
a constraint). On SQLite, a later migration that alters ``auth_user`` rebuilds the table and silently drops every
index the state does not know; the case-insensitive uniqueness of usernames would then rest on the sign-up form's
check alone, which two simultaneous sign-ups pass. ``post_migrate`` puts the index back, or says loudly why it
cannot.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import connections

INDEX = "accounts_username_lower_uniq"  # the name migration 0001 gave it
log = logging.getLogger(__name__)


def case_clashes(cursor: Any) -> list[str]:
    """Usernames that exist in more than one case (the index cannot be built over them)."""
    cursor.execute("SELECT LOWER(username) FROM auth_user GROUP BY LOWER(username) HAVING COUNT(*) > 1")
    return sorted(row[0] for row in cursor.fetchall())


def ensure_username_index(using: str = "default") -> bool:
    """Create the index when it is missing; True when it exists afterwards.

    Usernames that clash in case leave it missing, logged with their names: refusing the whole ``migrate`` over
    them would stop the deployment, and the admin can rename them.
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        if "auth_user" not in connection.introspection.table_names(cursor):
            return False
        if INDEX in connection.introspection.get_constraints(cursor, "auth_user"):
            return True
        clashes = case_clashes(cursor)
        if clashes:
            log.error("the unique index on lower(username) is missing and cannot be rebuilt: these usernames exist "
                      "in more than one case; rename all but one of each: %s", ", ".join(clashes))  # fmt: skip
            return False
        # IF NOT EXISTS: two processes migrating at once both found it missing.
        cursor.execute("CREATE UNIQUE INDEX IF NOT EXISTS accounts_username_lower_uniq ON auth_user (LOWER(username))")
    log.warning("the unique index on lower(username) was missing (a table rebuild?); recreated")
    return True


def restore_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """``post_migrate`` receiver: only once the accounts migration that first built the index has been applied
    (before it, e.g. while migrating backwards, the index is not meant to exist)."""
    from django.db.migrations.recorder import MigrationRecorder

    if MigrationRecorder(connections[using]).migration_qs.filter(app="accounts", name__startswith="0001").exists():
        ensure_username_index(using)
