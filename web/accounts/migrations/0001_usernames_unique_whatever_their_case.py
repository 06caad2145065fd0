"""A unique index on lower(username): sign-up refuses a name that differs from another only in case, but two
sign-ups at the same instant both passed that check (``Demo`` beside ``demo``). The database now decides."""

from __future__ import annotations

from typing import Any

from django.db import migrations

INDEX = "accounts_username_lower_uniq"


def create_index(apps: Any, schema_editor: Any) -> None:
    user = apps.get_model("auth", "User")
    table = schema_editor.quote_name(user._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT LOWER(username) FROM {table} GROUP BY LOWER(username) HAVING COUNT(*) > 1")
        clashes = [row[0] for row in cursor.fetchall()]
    if clashes:
        raise RuntimeError(
            "These usernames exist in more than one case, so a unique index on lower(username) cannot be built; "
            f"rename all but one of each in the admin, then migrate again: {', '.join(sorted(clashes))}"
        )
    schema_editor.execute(f"CREATE UNIQUE INDEX {INDEX} ON {table} (LOWER(username))")


def drop_index(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(f"DROP INDEX {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_index, drop_index)]
