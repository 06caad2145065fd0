"""Sign-up, and rate-limited log-in and password change; log out is Django's own view (see urls.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.generic import FormView

from web.accounts.forms import RateLimitedAuthenticationForm, RateLimitedPasswordChangeForm


class SignUpView(FormView):
    template_name = "registration/signup.html"
    form_class = UserCreationForm

    def form_valid(self, form: UserCreationForm) -> HttpResponse:
        user = form.save()
        login(self.request, user)
        return redirect("runs:mine")


class LoginView(auth_views.LoginView):
    """Django's log-in view with :class:`RateLimitedAuthenticationForm`; a refused attempt answers 429."""

    form_class = RateLimitedAuthenticationForm

    def form_invalid(self, form: RateLimitedAuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.is_rate_limited:
            response.status_code = 429
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's view with :class:`RateLimitedPasswordChangeForm`; a refused attempt answers 429."""

    form_class = RateLimitedPasswordChangeForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form: RateLimitedPasswordChangeForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.is_rate_limited:
            response.status_code = 429
        return response
