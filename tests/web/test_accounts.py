"""Sign up, log in, log out, change password."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from web_helpers import PASSWORD, TINY_PARAMS

from web.catalog.models import Environment, TrainerConfig


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


def test_the_account_page_gathers_what_is_the_users(
    client: Client, user: User, other_user: User, tiny_env: Environment, tiny_config: TrainerConfig, make_run: Any
) -> None:
    make_run(status="queued", seed=0)
    make_run(status="succeeded", seed=1)
    make_run(status="succeeded", seed=2)
    TrainerConfig.objects.create(name="not-mine", owner=other_user, params=TINY_PARAMS)
    Environment.objects.filter(pk=tiny_env.pk).update(created_by=user)
    client.force_login(user)
    page = client.get(reverse("accounts:account"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Queued: 1 · Running: 0 · Succeeded: 2 · Failed: 0 · Cancelled: 0" in html
    assert f"Runs queued or running: 1 of {page.context['allowance'].max_active_runs}" in html
    assert f'<a href="{tiny_config.get_absolute_url()}">{tiny_config}</a></td><td>3</td>' in html
    assert "not-mine" not in html
    assert f'<a href="{tiny_env.get_absolute_url()}">cartpole-tiny</a> (CartPole-v1)' in html
    assert reverse("accounts:password_change") in html
    # What one does next, whatever one already has: submit, a new or imported config, an environment.
    for url in ("runs:submit", "catalog:config_create", "catalog:config_import", "catalog:environment_create"):
        assert f'href="{reverse(url)}"' in html, url


def test_a_new_account_is_pointed_at_its_first_steps(client: Client, user: User) -> None:
    client.force_login(user)
    html = client.get(reverse("accounts:account")).content.decode()
    assert "No runs yet." in html and reverse("runs:submit") in html
    assert "No configs yet." in html and reverse("catalog:config_import") in html
    assert reverse("accounts:account") in html, "the username in the menu leads here"


def test_the_account_page_needs_a_signed_in_user(client: Client, db: None) -> None:
    response = client.get(reverse("accounts:account"))
    assert response.status_code == 302 and reverse("accounts:login") in response.url
