"""Log-in attempts are rate limited per username and per client address (web/accounts/ratelimit.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from actors import PASSWORD, make_user
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

URL = reverse("accounts:login")
LIMIT = 5


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> Iterator[None]:
    settings.TRUSTBOARD_LOGIN_MAX_FAILURES = LIMIT
    settings.TRUSTBOARD_LOGIN_MAX_FAILURES_PER_IP = 20
    settings.TRUSTBOARD_LOGIN_WINDOW_SECONDS = 15 * 60
    cache.clear()
    yield
    cache.clear()


def attempt(client: Client, username: str, password: str, address: str = "10.0.0.1") -> Any:
    return client.post(URL, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client: Client, username: str, times: int, address: str = "10.0.0.1") -> None:
    for _ in range(times):
        response = attempt(client, username, "wrong-password", address)
        assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated


def test_it_locks_a_username_out_after_five_failures_even_with_the_right_password(client: Client, db: None) -> None:
    make_user("alice")
    fail(client, "alice", LIMIT)
    response = attempt(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_says_why_and_for_how_long(client: Client, db: None) -> None:
    make_user("alice")
    fail(client, "alice", LIMIT)
    body = attempt(client, "alice", PASSWORD).content.decode()
    assert "Too many failed log-in attempts for this username" in body
    assert "Try again in 15 minutes" in body


def test_it_locks_the_username_from_every_address(client: Client, db: None) -> None:
    make_user("alice")
    for i in range(LIMIT):
        fail(client, "alice", 1, address=f"10.0.1.{i}")
    assert attempt(client, "alice", PASSWORD, address="10.9.9.9").status_code == 429


def test_it_leaves_other_users_alone(client: Client, db: None) -> None:
    make_user("alice"), make_user("bob")
    fail(client, "alice", LIMIT, address="10.0.0.1")
    response = attempt(Client(), "bob", PASSWORD, address="10.0.0.2")
    assert response.status_code == 302 and response.url == reverse("runs:mine")


def test_it_locks_an_address_that_guesses_at_many_usernames(client: Client, db: None) -> None:
    make_user("victim")
    for i in range(20):
        fail(client, f"guess{i}", 1, address="10.6.6.6")
    response = attempt(client, "victim", PASSWORD, address="10.6.6.6")
    assert response.status_code == 429 and "your network address" in response.content.decode()
    # The victim, from their own address, is not punished for the attacker's guesses.
    assert attempt(Client(), "victim", PASSWORD, address="10.0.0.7").status_code == 302


def test_it_resets_the_username_counter_on_success(client: Client, db: None) -> None:
    make_user("alice")
    fail(client, "alice", LIMIT - 1)
    assert attempt(client, "alice", PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    fail(client, "alice", LIMIT - 1)  # a fresh count: four more failures do not lock
    assert attempt(client, "alice", PASSWORD).status_code == 302


def test_it_treats_usernames_case_insensitively_for_counting(client: Client, db: None) -> None:
    make_user("alice")
    for name in ["alice", "ALICE", "Alice", " alice", "aLiCe"]:
        fail(client, name, 1)
    assert attempt(client, "alice", PASSWORD).status_code == 429


def test_it_lets_the_user_in_again_once_the_window_has_passed(client: Client, db: None, settings: Any) -> None:
    settings.TRUSTBOARD_LOGIN_WINDOW_SECONDS = 1
    make_user("alice")
    fail(client, "alice", LIMIT)
    assert attempt(client, "alice", PASSWORD).status_code == 429
    time.sleep(1.2)
    assert attempt(client, "alice", PASSWORD).status_code == 302


def test_it_does_not_count_locked_out_attempts_towards_a_longer_lock(client: Client, db: None, settings: Any) -> None:
    settings.TRUSTBOARD_LOGIN_WINDOW_SECONDS = 1
    make_user("alice")
    fail(client, "alice", LIMIT)
    for _ in range(10):
        assert attempt(client, "alice", "wrong-password").status_code == 429
    time.sleep(1.2)
    assert attempt(client, "alice", PASSWORD).status_code == 302


def change_password(client: Client, old: str, address: str = "10.0.0.1") -> Any:
    new = "An0ther-secret-pass!"
    data = {"old_password": old, "new_password1": new, "new_password2": new}
    return client.post(reverse("accounts:password_change"), data, REMOTE_ADDR=address)


def test_it_rate_limits_guessing_the_old_password_on_the_password_change_form(client: Client, db: None) -> None:
    """A stolen session must not be a way to brute-force the password itself."""
    user = make_user("alice")
    client.force_login(user)
    for _ in range(LIMIT):
        assert change_password(client, "wrong-password").status_code == 200
    response = change_password(client, PASSWORD)
    assert response.status_code == 429 and "Too many failed log-in attempts" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    # The same counters: the log-in form is locked for alice too.
    assert attempt(Client(), "alice", PASSWORD, address="10.0.0.9").status_code == 429


def test_it_locks_the_admin_log_in_too(client: Client, db: None) -> None:
    staff = make_user("root")
    staff.is_staff = True
    staff.save()
    admin_login = reverse("admin:login")
    for _ in range(LIMIT):
        client.post(admin_login, {"username": "root", "password": "wrong-password"}, REMOTE_ADDR="10.0.0.9")
    response = client.post(admin_login, {"username": "root", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
    assert "_auth_user_id" not in client.session
    assert "Too many failed log-in attempts" in response.content.decode()


def test_attempts_still_being_checked_count_so_concurrent_guesses_cannot_pass_the_limit(db: None) -> None:
    """The lock was looked at before the slow password hash and the failure recorded after it: every guess in
    flight when the fifth failure landed passed (12 at once against 4 gunicorn workers: 8 checked). Attempts now
    take their place before the check; here twelve are taken before any of them is checked."""
    from web.accounts import ratelimit

    results = [ratelimit.reserve("alice", f"10.0.2.{i}") for i in range(12)]
    assert [r is None for r in results] == [True] * LIMIT + [False] * (12 - LIMIT)
    assert {r.scope for r in results if r is not None} == {"username"}
    # The five that went ahead turn out right or wrong; a refused one took nothing: one success frees alice.
    ratelimit.record_success("alice", "10.0.2.0")
    assert ratelimit.reserve("alice", "10.0.2.0") is None


def test_a_guesser_hammering_in_parallel_gets_no_more_password_checks_than_the_limit(transactional_db: None) -> None:
    import threading

    from django.db import connection

    make_user("alice")
    barrier, statuses = threading.Barrier(12), []

    def guess() -> None:
        barrier.wait()
        try:
            statuses.append(attempt(Client(), "alice", "wrong-password").status_code)
        finally:
            connection.close()  # each thread's own connection

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * LIMIT + [429] * (12 - LIMIT)


def test_the_right_password_at_the_admin_log_in_of_a_non_staff_user_is_no_failure(client: Client, db: None) -> None:
    """Django refuses a non-staff user at /admin/login/ with the "invalid_login" code: five such log-ins with the
    right password locked the user out of the whole site for the window."""
    make_user("alice")
    admin_login = reverse("admin:login")
    for _ in range(LIMIT + 2):
        response = client.post(admin_login, {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9")
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert attempt(client, "alice", PASSWORD, address="10.0.0.9").status_code == 302


def test_a_correct_old_password_is_no_failure_on_the_password_change_form(client: Client, db: None) -> None:
    user = make_user("alice")
    client.force_login(user)
    fail(Client(), "alice", LIMIT - 1)
    assert change_password(client, PASSWORD).status_code == 302
    assert attempt(Client(), "alice", "An0ther-secret-pass!", address="10.0.0.9").status_code == 302


def test_a_log_in_whose_check_itself_fails_counts_as_no_guess(client: Client, db: None, monkeypatch: Any) -> None:
    """The database or a backend raising inside authenticate() left the attempt counted as a wrong password."""
    import django.contrib.auth.forms as auth_forms

    from web.accounts import ratelimit

    make_user("alice")

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the user table is unreachable")

    monkeypatch.setattr(auth_forms, "authenticate", broken)
    for _ in range(LIMIT + 2):
        with pytest.raises(RuntimeError):
            attempt(client, "alice", PASSWORD)
    assert ratelimit.reserve("alice", "10.0.0.1") is None, "nothing was counted"


def test_a_counter_that_lost_its_expiry_gets_it_back(db: None) -> None:
    """Django's Redis incr is EXISTS then INCRBY: a key expiring in between comes back without an expiry, a lifetime
    tally that would lock an address out for good. A count of 1 is given the window's expiry again."""
    from web.accounts import ratelimit

    key = ratelimit._key("address", "10.0.0.7", "n")
    ratelimit.reserve("bob", "10.0.0.7")
    cache.set(key, 0, None)  # as the race leaves it: no expiry
    ratelimit.reserve("bob", "10.0.0.7")
    assert cache._expire_info[cache.make_and_validate_key(key)] is not None  # LocMemCache in tests
    ratelimit.release("bob", "10.0.0.7")
    assert cache.get(key) is None, "a counter back at 0 is removed"


def test_an_address_opens_a_few_accounts_an_hour_not_unlimited_quotas(client: Client, db: None, settings: Any) -> None:
    """Every account has its own run and step quotas: unlimited sign-ups from one address were unlimited compute."""
    from django.contrib.auth.models import User

    settings.TRUSTBOARD_SIGNUPS_PER_IP_PER_HOUR = 2
    password = "An0ther-secret-pass!"

    def sign_up(name: str, address: str = "10.0.3.1") -> Any:
        data = {"username": name, "password1": password, "password2": password}
        return Client().post(reverse("accounts:signup"), data, REMOTE_ADDR=address)

    assert sign_up("first").status_code == 302 and sign_up("second").status_code == 302
    refused = sign_up("third")
    assert refused.status_code == 429 and "Too many new accounts from your network address" in refused.content.decode()
    assert sign_up("third", address="10.0.3.2").status_code == 302, "another address is not affected"
    assert sorted(User.objects.values_list("username", flat=True)) == ["first", "second", "third"]
