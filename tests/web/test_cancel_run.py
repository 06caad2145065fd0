"""Cancelling: only the owner; a queued run ends at once, a running one is asked to stop."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from web.runs.models import RunStatus


def cancel(client: Client, run: Any) -> Any:
    return client.post(reverse("runs:cancel", args=[run.pk]))


def test_it_cancels_a_queued_run_at_once(client: Client, user: User, make_run: Any) -> None:
    run = make_run()
    client.force_login(user)
    response = cancel(client, run)
    run.refresh_from_db()
    assert response.status_code == 302
    assert run.status == RunStatus.CANCELLED and run.finished_at is not None


def test_it_asks_a_running_run_to_stop_at_its_next_update(client: Client, user: User, make_run: Any) -> None:
    run = make_run()
    assert run.claim("worker-1")
    client.force_login(user)
    cancel(client, run)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.cancel_requested
    assert run.cancel_is_requested()


def test_it_leaves_a_finished_run_alone(client: Client, user: User, make_run: Any) -> None:
    run = make_run(status=RunStatus.SUCCEEDED)
    client.force_login(user)
    cancel(client, run)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and not run.cancel_requested


def test_it_forbids_other_users_and_changes_nothing(client: Client, other_user: User, make_run: Any) -> None:
    run = make_run()
    client.force_login(other_user)
    assert cancel(client, run).status_code == 403
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED and not run.cancel_requested


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client, make_run: Any) -> None:
    run = make_run()
    response = cancel(client, run)
    run.refresh_from_db()
    assert response.status_code == 302 and run.status == RunStatus.QUEUED


def test_it_refuses_get(client: Client, user: User, make_run: Any) -> None:
    run = make_run()
    client.force_login(user)
    assert client.get(reverse("runs:cancel", args=[run.pk])).status_code == 405


def test_it_cannot_claim_a_cancelled_run(make_run: Any) -> None:
    run = make_run()
    run.request_cancel()
    assert not run.claim("worker-1")


def test_cancelling_a_requeued_run_frees_its_training_state_and_announces_it(
    client: Client, user: User, make_run: Any, settings: Any, tmp_path: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A run requeued after its worker died holds a training state; cancelled while queued it kept the file (and
    the row's pointer to it), and no run_finished went out."""
    from django.core.files.base import ContentFile

    from web.runs.signals import run_finished

    settings.MEDIA_ROOT = tmp_path
    run = make_run()
    run.resume_state.save("state.bin", ContentFile(b"state"), save=True)
    stored = tmp_path / run.resume_state.name
    seen: list[int] = []

    def receiver(sender: Any, run: Any, **kwargs: Any) -> None:
        seen.append(run.pk)

    run_finished.connect(receiver)
    try:
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            cancel(client, run)
    finally:
        run_finished.disconnect(receiver)
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and not run.resume_state and not stored.exists()
    assert seen == [run.pk]


def test_a_cancel_during_evaluation_says_the_run_will_finish(client: Client, user: User, make_run: Any) -> None:
    """Evaluation cannot be interrupted: the page promised a stop "at its next update" that never came."""
    run = make_run()
    assert run.claim("worker-1")
    # In its last update (nothing polls for a cancel after it), or evaluating.
    batch = run.config.trpo_config().batch_size
    type(run).objects.filter(pk=run.pk).update(steps_done=run.total_steps - batch, progress=0.9)
    client.force_login(user)
    response = client.post(reverse("runs:cancel", args=[run.pk]), follow=True)
    assert "has finished training and is being evaluated; it will finish" in response.content.decode()
