"""Login rate limiting: count failed attempts per username and per client address in Django's cache.

Why: a password guesser must not get unlimited tries, against one account (many addresses) or many accounts
(one address). After ``max_failures`` failures within ``window`` seconds, every further attempt for that
username, or from that address, is refused, even with the right password, until the window that began with
the first counted attempt has passed. Attempts are counted before the password is checked (:func:`reserve`), so
concurrent guesses cannot pass the limit while earlier ones are still being checked. A successful log-in clears
the username's counter (not the address's, so an attacker holding one account cannot reset the count of its
guesses at others).

The counters live in the ``default`` cache. locmem (Django's default) is per process: enough for one
process and for tests, but with several gunicorn workers or machines production must point ``CACHES`` at a
shared cache (Redis, ``django.core.cache.backends.redis.RedisCache``), or each process counts on its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

PREFIX = "login-fail"


@dataclass(frozen=True)
class Limits:
    """The thresholds in force; read from settings on every call so tests and deployments can change them."""

    per_username: int
    per_address: int
    window: int

    @classmethod
    def current(cls) -> Limits:
        return cls(
            per_username=settings.TRUSTBOARD_LOGIN_MAX_FAILURES,
            per_address=settings.TRUSTBOARD_LOGIN_MAX_FAILURES_PER_IP,
            window=settings.TRUSTBOARD_LOGIN_WINDOW_SECONDS,
        )


@dataclass(frozen=True)
class Lockout:
    """Why an attempt is refused and when it may be made again (for the message the user sees)."""

    scope: str  # "username", "address" or "signup"
    retry_after: int  # seconds

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        later = f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        if self.scope == "signup":
            return f"Too many new accounts from your network address. {later}"
        whom = "this username" if self.scope == "username" else "your network address"
        return f"Too many failed log-in attempts for {whom}. {later}"


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the proxy-appended X-Forwarded-For entry behind trusted proxies.

    Only the entries our own proxies appended can be trusted (a client can send any X-Forwarded-For), so with
    ``TRUSTBOARD_TRUSTED_PROXIES = n`` the n-th address from the right is the client.
    """
    proxies = settings.TRUSTBOARD_TRUSTED_PROXIES
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies][:64]
    return str(request.META.get("REMOTE_ADDR") or "unknown")[:64]


def _key(scope: str, value: str, suffix: str) -> str:
    # Hashed: usernames may hold characters memcached keys refuse, and their length is the client's choice.
    digest = hashlib.sha256(value.strip().casefold().encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{PREFIX}:{scope}:{digest}:{suffix}"


def _scopes(username: str, address: str, limits: Limits) -> list[tuple[str, str, int]]:
    return [("username", username, limits.per_username), ("address", address, limits.per_address)]


def _count_up(scope: str, value: str, window: int) -> int:
    """One more attempt on this counter, atomically (the cache's incr); the window starts with its first attempt."""
    count_key = _key(scope, value, "n")
    # add() only sets a missing key, so the first attempt fixes the window and later ones only count.
    cache.add(_key(scope, value, "t"), time.time() + window, window)
    cache.add(count_key, 0, window)
    try:
        count = int(cache.incr(count_key))
    except ValueError:  # expired between add() and incr(): this attempt opens a new window
        cache.set(count_key, 1, window)
        return 1
    if count == 1:
        # Redis' incr is EXISTS then INCRBY in Django: a key expiring in between is created again without an
        # expiry, and a counter that never expires locks its username or address out for good. A count of 1 is a
        # new window either way: give it its expiry.
        cache.touch(count_key, window)
    return count


def _count_down(scope: str, value: str) -> None:
    key = _key(scope, value, "n")
    with contextlib.suppress(ValueError):  # the window has passed meanwhile: nothing left to give back
        if cache.decr(key) <= 0:
            cache.delete(key)  # nothing counted (and no expiry-less key left by the same race as in _count_up)


def reserve(username: str, address: str) -> Lockout | None:
    """Take one attempt from the username's and the address's allowances before the password is checked; the
    lockout that refuses it, or None when it may proceed.

    Counted up front (an atomic increment), not after the check: the check costs a slow password hash, and every
    request already in flight when the fifth failure landed had passed a look at the counters, so concurrent
    guesses got past the limit (12 at once: 8 checked). A refused attempt gives its place back, and so does one
    that turns out not to be a wrong password (:func:`release`, :func:`record_success`): the counters count wrong
    passwords, and attempts still being checked.
    """
    limits = Limits.current()
    taken: list[tuple[str, str]] = []
    for scope, value, limit in _scopes(username, address, limits):
        count = _count_up(scope, value, limits.window)
        taken.append((scope, value))
        if count > limit:
            for held_scope, held_value in taken:
                _count_down(held_scope, held_value)
            reset_at = cache.get(_key(scope, value, "t"), time.time() + limits.window)
            return Lockout(scope, max(1, int(reset_at - time.time())))
    return None


def release(username: str, address: str) -> None:
    """Give back an attempt :func:`reserve` took that was not a wrong password (the right one for an account that
    may not log in here, a form with no password)."""
    for scope, value, _ in _scopes(username, address, Limits.current()):
        _count_down(scope, value)


def record_success(username: str, address: str) -> None:
    """A correct password clears the username's failures; the address gives back this attempt and keeps the
    rest (so an attacker holding one account cannot reset the count of its guesses at others)."""
    cache.delete_many([_key("username", username, "n"), _key("username", username, "t")])
    _count_down("address", address)


SIGNUP_WINDOW = 3600


def reserve_signup(address: str) -> Lockout | None:
    """Take one of the address's sign-ups for this hour (``TRUSTBOARD_SIGNUPS_PER_IP_PER_HOUR``), or the lockout
    that refuses it. Why: every account brings its own quotas, so unlimited sign-ups were unlimited compute."""
    count = _count_up("signup", address, SIGNUP_WINDOW)
    if count > settings.TRUSTBOARD_SIGNUPS_PER_IP_PER_HOUR:
        _count_down("signup", address)
        reset_at = cache.get(_key("signup", address, "t"), time.time() + SIGNUP_WINDOW)
        return Lockout("signup", max(1, int(reset_at - time.time())))
    return None


def release_signup(address: str) -> None:
    """Give back a sign-up that did not create an account (the name was taken meanwhile)."""
    _count_down("signup", address)
