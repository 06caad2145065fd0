"""Two requests racing on one object (a double click, two tabs): never a 500, one outcome, a true message.

Each test stands the race up deterministically: the second request arrives after the first passed a check the
second also passed (the form's uniqueness check switched off, as it is when both read before either writes), or
both are held at the point where they used to collide.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from actors import config_form_data, environment_form_data, make_config, make_env, make_run, make_user
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from web.catalog import services as catalog_services
from web.catalog.forms import EnvironmentForm, TrainerConfigForm
from web.catalog.models import Environment, TrainerConfig
from web.runs.models import Run, RunStatus

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_second_save_of_a_new_config_that_lost_the_race_is_a_form_error_or_the_same_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both clicks passed the name check before either inserted: the second insert hit the unique constraint."""
    owner, other = make_user(), make_user()
    data = config_form_data(name="raced")
    first = signed_in(owner).post(reverse("catalog:config_create"), data)
    assert first.status_code == 302
    monkeypatch.setattr(TrainerConfigForm, "clean_name", lambda form: form.cleaned_data["name"])
    again = signed_in(owner).post(reverse("catalog:config_create"), data)  # the same click, a moment later
    assert again.status_code == 302 and again["Location"] == first["Location"]
    theirs = signed_in(other).post(reverse("catalog:config_create"), data)  # someone else, same name
    assert theirs.status_code == 200 and catalog_services.NAME_TAKEN in theirs.content.decode()
    assert TrainerConfig.objects.filter(name="raced").count() == 1


def test_a_second_registration_of_a_slug_that_lost_the_race_is_a_form_error(monkeypatch: pytest.MonkeyPatch) -> None:
    owner = make_user()
    data = environment_form_data(slug="raced-env")
    assert signed_in(owner).post(reverse("catalog:environment_create"), data).status_code == 302
    monkeypatch.setattr(EnvironmentForm, "validate_unique", lambda form: None)
    again = signed_in(owner).post(reverse("catalog:environment_create"), data)
    assert again.status_code == 200 and "An environment with this slug exists" in again.content.decode()
    assert Environment.objects.filter(slug="raced-env").count() == 1


def test_two_sign_ups_of_one_name_in_two_cases_leave_one_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both passed the form's case-insensitive check: a lookalike account (Demo beside demo) was created."""
    from django.contrib.auth.forms import UserCreationForm

    password = "An0ther-secret-pass!"
    data = {"username": "lookalike", "password1": password, "password2": password}
    assert Client().post(reverse("accounts:signup"), data).status_code == 302
    monkeypatch.setattr(UserCreationForm, "clean_username", lambda form: form.cleaned_data.get("username"))
    monkeypatch.setattr(UserCreationForm, "validate_unique", lambda form: None)
    for name in ("lookalike", "LookAlike"):
        response = Client().post(reverse("accounts:signup"), {**data, "username": name})
        assert response.status_code == 200 and "A user with that username already exists" in response.content.decode()
    assert User.objects.filter(username__iexact="lookalike").count() == 1


def test_a_second_delete_of_a_config_says_it_is_gone() -> None:
    owner = make_user()
    config = make_config(owner)
    client = signed_in(owner)
    url = reverse("catalog:config_delete", args=[config.pk])
    catalog_services.delete_config(config)  # the first click, done
    # The second click's view loaded the config before the first deleted it: the service is where it finds out.
    with pytest.raises(catalog_services.ConfigGone):
        catalog_services.delete_config(config)
    with pytest.raises(catalog_services.ConfigGone):
        catalog_services.edit_config(config, "edited", config.params)
    assert client.post(url).status_code == 404  # loaded after the delete: a plain 404


def test_the_pages_say_a_config_deleted_meanwhile_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The views' side of the race: the page loaded the config, another click deleted it before the service ran."""
    from web.catalog import views

    owner = make_user()
    client = signed_in(owner)
    for view_name, service_name, url_name, data in (
        ("config_delete", "delete_config", "catalog:config_delete", {}),
        ("config_edit", "edit_config", "catalog:config_edit", None),
    ):
        config = make_config(owner)
        real = getattr(views, service_name)

        def deleted_first(config: TrainerConfig, *args: Any, real: Any = real) -> Any:
            TrainerConfig.objects.filter(pk=config.pk).delete()  # the other click, just before
            return real(config, *args)

        monkeypatch.setattr(views, service_name, deleted_first)
        form = data if data is not None else config_form_data(name=config.name, description="edited")
        response = client.post(reverse(url_name, args=[config.pk]), form, follow=True)
        assert response.status_code == 200, view_name
        text = response.content.decode()
        assert "was already deleted" in text or "no longer exists" in text, view_name
        assert response.redirect_chain[-1][0] == reverse("catalog:configs"), view_name


def test_a_submission_of_a_config_deleted_meanwhile_is_refused_with_the_reason() -> None:
    from web.runs.services import ConfigDeleted, submit_runs

    owner = make_user()
    config, env = make_config(owner), make_env()
    stale = TrainerConfig.objects.get(pk=config.pk)
    config.delete()
    with pytest.raises(ConfigDeleted, match="was deleted in the meantime"):
        submit_runs(owner, stale, env, 1)
    assert not Run.objects.exists()


def test_a_second_delete_of_a_run_says_it_is_gone_not_that_it_must_be_cancelled() -> None:
    owner = make_user()
    run = make_run(owner, make_config(owner), make_env(), status=RunStatus.SUCCEEDED)
    from web.runs.services import RunAlreadyDeleted, delete_run

    stale = Run.objects.get(pk=run.pk)
    delete_run(run)
    with pytest.raises(RunAlreadyDeleted, match=f"Run {run.pk} was already deleted"):
        delete_run(stale)


def run_at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Each call in its own thread (its own database connection), started together; results or exceptions."""
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # returned to the test, which asserts on it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_edits_of_two_used_versions_of_one_name_at_once_make_two_new_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each edit locked only its own version and numbered the new one max + 1: both took the same number (a 500)."""
    owner = make_user()
    env = make_env()
    v1 = make_config(owner, "twice")
    v2 = make_config(owner, "twice", version=2, parent=v1)
    for version in (v1, v2):
        make_run(owner, version, env)  # used: an edit makes a new version
    slow = TrainerConfig.next_version

    def next_version_slowly(self: TrainerConfig) -> int:
        number = slow(self)
        time.sleep(0.3)  # hold the window where both edits used to read the same maximum
        return number

    monkeypatch.setattr(TrainerConfig, "next_version", next_version_slowly)
    results = run_at_once(
        lambda: catalog_services.edit_config(v1, "from v1", {**v1.params, "max_kl": 0.02}),
        lambda: catalog_services.edit_config(v2, "from v2", {**v2.params, "max_kl": 0.03}),
    )
    assert all(isinstance(r, TrainerConfig) for r in results), results
    assert sorted(r.version for r in results) == [3, 4]
