"""Sign-up, and rate-limited log-in and password change; log out is Django's own view (see urls.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.generic import FormView

from web.accounts import ratelimit
from web.accounts.forms import RateLimitedAuthenticationForm, RateLimitedPasswordChangeForm
from web.catalog.models import Environment, TrainerConfig
from web.runs.models import Run, RunStatus
from web.runs.quotas import allowance


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """One page for what is the user's: allowance, runs by status, their configs and environments, password."""
    user = request.user
    counts = dict(Run.objects.filter(owner=user).values_list("status").annotate(n=Count("id")).order_by())
    context = {
        "allowance": allowance(user),
        "run_counts": [(label, counts.get(value, 0)) for value, label in RunStatus.choices],
        "n_runs": sum(counts.values()),
        "configs": TrainerConfig.objects.filter(owner=user).annotate(n_runs=Count("runs")).order_by("name", "version"),
        "environments": Environment.objects.filter(created_by=user).order_by("slug"),
    }
    return render(request, "registration/account.html", context)


class SignUpView(FormView):
    template_name = "registration/signup.html"
    form_class = UserCreationForm

    def form_valid(self, form: UserCreationForm) -> HttpResponse:
        address = ratelimit.client_address(self.request)
        lockout = ratelimit.reserve_signup(address)
        if lockout is not None:
            form.add_error(None, lockout.message)
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        try:
            with transaction.atomic():
                user = form.save()
        except IntegrityError:
            # Two sign-ups of one name (or of one name in two cases) at the same instant both passed the form's
            # check; the unique indexes decide, and the loser hears what the form would have said.
            ratelimit.release_signup(address)
            form.add_error("username", "A user with that username already exists.")
            return self.form_invalid(form)
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
