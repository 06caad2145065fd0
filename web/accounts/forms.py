"""The log-in and password-change forms, rate limited (see :mod:`web.accounts.ratelimit`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.http import HttpRequest

from web.accounts import ratelimit

RATE_LIMITED = "rate_limited"


class RateLimitedAuthenticationForm(AuthenticationForm):
    """Django's form, refusing attempts for a locked-out username or address before checking the password.

    Checking the lock first matters: otherwise a locked-out guesser could still learn when a guess is right.
    """

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        address = ratelimit.client_address(self.request) if self.request is not None else "unknown"
        lockout = ratelimit.reserve(username, address)
        if lockout is not None:
            raise forms.ValidationError(lockout.message, code=RATE_LIMITED)
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            # Only a wrong password keeps the attempt counted. With the right one the user is known (user_cache)
            # and was refused for another reason: inactive, or not staff at /admin/login/ (Django says
            # "invalid_login" there too, and five such log-ins locked the user out of the whole site).
            if self.user_cache is not None:
                ratelimit.release(username, address)
            raise
        except Exception:  # the check itself failed (the database, a backend): no password was judged wrong
            ratelimit.release(username, address)
            raise
        if self.user_cache is not None:
            ratelimit.record_success(username, address)
        else:  # no password given: nothing was checked
            ratelimit.release(username, address)
        return cleaned

    @property
    def is_rate_limited(self) -> bool:
        return any(e.code == RATE_LIMITED for e in self.non_field_errors().as_data())


class RateLimitedAdminAuthenticationForm(RateLimitedAuthenticationForm, AdminAuthenticationForm):
    """The admin's log-in (staff only), sharing the same counters: otherwise /admin/login/ is an open door for
    guessing the passwords that matter most."""


class RateLimitedPasswordChangeForm(PasswordChangeForm):
    """Guessing the old password is guessing a password: it shares the log-in counters of the user's name.

    Why: otherwise a stolen session could brute-force the account's password through this form and keep the
    account after the session ends.
    """

    def __init__(self, user: Any, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self) -> str:
        username = self.user.get_username()
        address = ratelimit.client_address(self.request) if self.request is not None else "unknown"
        lockout = ratelimit.reserve(username, address)
        if lockout is not None:
            raise forms.ValidationError(lockout.message, code=RATE_LIMITED)
        try:
            old_password = super().clean_old_password()
        except forms.ValidationError:
            raise  # a wrong old password: the attempt stays counted
        except Exception:  # the check itself failed: no password was judged wrong
            ratelimit.release(username, address)
            raise
        ratelimit.release(username, address)
        return old_password

    @property
    def is_rate_limited(self) -> bool:
        return any(e.code == RATE_LIMITED for e in self.errors.as_data().get("old_password", []))
