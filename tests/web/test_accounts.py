"""Sign up, log in, log out, change password."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from web_helpers import PASSWORD


def test_it_signs_up_and_logs_the_new_user_in(client: Client, db: None) -> None:
    data = {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD}
    response = client.post(reverse("accounts:signup"), data)
    assert response.status_code == 302
    assert client.get(reverse("runs:mine")).status_code == 200
    assert User.objects.filter(username="newbie").exists()


def test_it_rejects_mismatched_passwords_and_creates_nobody(client: Client, db: None) -> None:
    data = {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD + "x"}
    response = client.post(reverse("accounts:signup"), data)
    assert response.status_code == 200 and "password2" in response.context["form"].errors
    assert not User.objects.exists()


def test_it_logs_in_and_out(client: Client, user: User) -> None:
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("runs:mine")
    assert "Log out" in client.get(reverse("catalog:environments")).content.decode()
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("runs:mine")).status_code == 302


def test_it_changes_the_password(client: Client, user: User) -> None:
    client.force_login(user)
    new = PASSWORD + "-2"
    data = {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    assert client.post(reverse("accounts:password_change"), data).status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
