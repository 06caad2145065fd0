"""Sign-up; log in/out and password change are Django's own views (see urls.py)."""

from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.generic import FormView


class SignUpView(FormView):
    template_name = "registration/signup.html"
    form_class = UserCreationForm

    def form_valid(self, form: UserCreationForm) -> HttpResponse:
        user = form.save()
        login(self.request, user)
        return redirect("runs:mine")
