"""The unique index on lower(username) survives a table rebuild: every ``migrate`` puts it back."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from web.accounts.username_index import INDEX, ensure_username_index

pytestmark = pytest.mark.django_db


def _has_index() -> bool:
    with connection.cursor() as cursor:
        return INDEX in connection.introspection.get_constraints(cursor, "auth_user")


def _drop_index() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {INDEX}")
    assert not _has_index()


def test_it_exists_after_the_migrations() -> None:
    assert _has_index()
    User.objects.create_user("demo")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("Demo")


def test_migrate_puts_a_dropped_index_back() -> None:
    _drop_index()
    call_command("migrate", verbosity=0)
    assert _has_index()


def test_it_names_the_clashing_usernames_and_leaves_them_alone(caplog: pytest.LogCaptureFixture) -> None:
    _drop_index()
    User.objects.create_user("demo")
    User.objects.create_user("DEMO")
    with caplog.at_level(logging.ERROR, logger="web.accounts.username_index"):
        assert ensure_username_index() is False
    assert "demo" in caplog.text and "rename" in caplog.text
    assert not _has_index()
    assert User.objects.filter(username__iexact="demo").count() == 2, "nothing deleted or renamed"
