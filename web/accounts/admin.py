"""The admin's user pages, with the site's rule that usernames are unique whatever their case."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm

User = get_user_model()


class CaseInsensitiveUserChangeForm(UserChangeForm):
    """Renaming a user to another's name in another case (``Demo`` beside ``demo``) is a form error: the database's
    unique index on lower(username) refuses it, which without this check was a 500."""

    def clean_username(self) -> str:
        username = self.cleaned_data.get("username")
        if username and User.objects.filter(username__iexact=username).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("A user with that username already exists.")
        return username


class TrustboardUserAdmin(UserAdmin):
    form = CaseInsensitiveUserChangeForm


admin.site.unregister(User)
admin.site.register(User, TrustboardUserAdmin)
