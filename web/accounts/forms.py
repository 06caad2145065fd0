"""The log-in form with rate limiting (see :mod:`web.accounts.ratelimit`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from web.accounts import ratelimit

RATE_LIMITED = "rate_limited"


class RateLimitedAuthenticationForm(AuthenticationForm):
    """Django's form, refusing attempts for a locked-out username or address before checking the password.

    Checking the lock first matters: otherwise a locked-out guesser could still learn when a guess is right.
    """

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        address = ratelimit.client_address(self.request) if self.request is not None else "unknown"
        lockout = ratelimit.check(username, address)
        if lockout is not None:
            raise forms.ValidationError(lockout.message, code=RATE_LIMITED)
        try:
            cleaned = super().clean()
        except forms.ValidationError as exc:
            if any(e.code == "invalid_login" for e in exc.error_list):
                ratelimit.record_failure(username, address)
            raise
        if self.user_cache is not None:
            ratelimit.record_success(username)
        return cleaned

    @property
    def is_rate_limited(self) -> bool:
        return any(e.code == RATE_LIMITED for e in self.non_field_errors().as_data())
