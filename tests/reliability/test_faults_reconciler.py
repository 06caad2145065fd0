"""The reconciler's decisions, the fencing of a worker presumed dead, and reading run ids back from brokers."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from celery import Celery
from django.contrib.auth.models import User
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from fault_support import PrivateRedis

from web.catalog.models import Environment, TrainerConfig
from web.runs import broker
from web.runs.models import LostOwnership, Run, RunMetric, RunStatus
from web.runs.reconcile import reconcile
from web.runs.resume_states import load_resume_state
from web.runs.worker import execute_run

TINY = {"n_steps": 64, "value_minibatch_size": 32, "value_epochs": 1, "hidden_sizes": [8], "device": "cpu"}


@pytest.fixture
def pair(db: None) -> tuple[User, TrainerConfig, Environment]:
    user = User.objects.create_user("ops", password="pw-123456789")
    env = Environment.objects.create(
        slug="cartpole-ops", gym_id="CartPole-v1", budget_steps=256, eval_episodes=1, eval_seed=0,
        random_return=22.0, reference_return=500.0, min_seeds=1,
    )  # fmt: skip
    return user, TrainerConfig.objects.create(name="ops", owner=user, params=TINY), env


def _run(pair: Any, **fields: Any) -> Run:
    user, config, env = pair
    seed = Run.objects.filter(config=config).count()
    return Run.objects.create(config=config, environment=env, seed=seed, owner=user, total_steps=256, **fields)


@override_settings(TRUSTBOARD_HEARTBEAT_TIMEOUT=60, TRUSTBOARD_MAX_ATTEMPTS=3, TRUSTBOARD_REQUEUE_AFTER=10_000)
def test_it_requeues_fails_or_cancels_runs_whose_worker_went_silent(pair: Any) -> None:
    old = timezone.now() - timedelta(minutes=5)
    lost = _run(pair, status=RunStatus.RUNNING, heartbeat_at=old, attempts=1, worker_host="gone:1")
    lost_too_often = _run(pair, status=RunStatus.RUNNING, heartbeat_at=old, attempts=3)
    cancelled = _run(pair, status=RunStatus.RUNNING, heartbeat_at=old, attempts=1, cancel_requested=True)
    healthy = _run(pair, status=RunStatus.RUNNING, heartbeat_at=timezone.now(), attempts=1)

    report = reconcile()

    assert report.requeued_lost == [lost.pk]
    assert report.failed_lost == [lost_too_often.pk]
    assert report.cancelled_lost == [cancelled.pk]
    for run in (lost, lost_too_often, cancelled, healthy):
        run.refresh_from_db()
    assert lost.status == RunStatus.QUEUED and lost.worker_host == "" and lost.enqueued_at is not None
    assert lost_too_often.status == RunStatus.FAILED and "stopped responding" in lost_too_often.error
    assert lost_too_often.system_failure, "a run we lost does not count against its owner's quota"
    assert cancelled.status == RunStatus.CANCELLED
    assert healthy.status == RunStatus.RUNNING
    assert not reconcile(), "a second pass finds nothing more to do"


def test_a_cancel_request_that_meets_a_dead_worker_ends_the_run(pair: Any, settings: Any, tmp_path: Path) -> None:
    """Cancel a running run, then its pool child dies: the redelivered message cancels it instead of putting it
    back on a queue no worker takes it from (``claim`` skips cancel requests), and the reconciler cancels any such
    queued run too. Both free the run's training state. Before, such a run showed "Queued" forever."""
    import socket

    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    dead = _run(pair, status=RunStatus.RUNNING, attempts=1, cancel_requested=True,
                worker_host=f"{socket.gethostname()}:999999999")  # fmt: skip  # no such pid
    dead.resume_state.save("state.bin", ContentFile(b"state"), save=True)
    stored = Path(dead.resume_state.path)
    assert execute_run(dead.pk) is None
    dead.refresh_from_db()
    assert (dead.status, dead.resume_state.name, stored.exists()) == (RunStatus.CANCELLED, "", False)
    stranded = _run(pair, status=RunStatus.QUEUED, cancel_requested=True)
    report = reconcile()
    stranded.refresh_from_db()
    assert report.cancelled_lost == [stranded.pk] and stranded.status == RunStatus.CANCELLED
    assert stranded.finished_at is not None and not reconcile()


def test_a_worker_presumed_dead_can_no_longer_write(pair: Any) -> None:
    run = _run(pair)
    assert run.claim("a:1")
    zombie = Run.objects.get(pk=run.pk)  # the first worker's view of the row
    Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert run.requeue(heartbeat_before=timezone.now())
    assert run.claim("b:2") and run.attempts == 2

    with pytest.raises(LostOwnership):
        zombie.record_update(1, 64, {"train/kl": 0.1})
    zombie.finish(RunStatus.FAILED, error="zombie")
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.error == ""
    assert not RunMetric.objects.filter(run=run).exists()


def test_resuming_drops_metric_rows_the_training_state_does_not_cover(pair: Any) -> None:
    run = _run(pair)
    for update in (1, 2, 3):
        RunMetric.objects.create(run=run, update=update, steps=64 * update, metrics={})
    assert load_resume_state(run) is None, "no state saved: start over"
    assert not RunMetric.objects.filter(run=run).exists()


def test_it_finds_run_ids_in_a_filesystem_broker(tmp_path: Path) -> None:
    folder = tmp_path / "queue"
    folder.mkdir()
    app = Celery("probe", broker="filesystem://", set_as_current=False)
    app.conf.broker_transport_options = {
        "data_folder_in": str(folder), "data_folder_out": str(folder), "control_folder": str(tmp_path / "control"),
    }  # fmt: skip
    app.send_task("runs.train_run", args=[41], queue="cpu")
    app.send_task("runs.train_run", args=[42], queue="gpu")
    app.send_task("runs.reconcile", queue="cpu")
    assert broker._filesystem_run_ids(folder) == {41, 42}


def test_it_finds_run_ids_in_a_redis_broker(tmp_path: Path) -> None:
    server = PrivateRedis(tmp_path)
    try:
        app = Celery("probe", broker=server.url, set_as_current=False)
        app.send_task("runs.train_run", args=[7], queue="cpu")
        app.send_task("runs.train_run", args=[8], queue="gpu", priority=5)
        assert broker._redis_run_ids(server.url) == {7, 8}
    finally:
        server.stop()


def test_a_message_a_worker_took_long_ago_and_never_started_does_not_hide_a_queued_run(tmp_path: Path) -> None:
    """A worker killed right after it took a message leaves it "unacked" until Redis' visibility timeout (a day):
    counted as held, its queued run sat "Queued" that long with idle workers around."""
    import time

    import redis
    from kombu import Connection

    server = PrivateRedis(tmp_path)
    try:
        app = Celery("probe", broker=server.url, set_as_current=False)
        app.send_task("runs.train_run", args=[7], queue="cpu")
        app.send_task("runs.train_run", args=[8], queue="cpu")
        with Connection(server.url) as conn:
            channel = conn.default_channel
            taken = [channel.basic_get("cpu", no_ack=False) for _ in range(2)]  # delivered, never acknowledged
            assert all(m is not None for m in taken)
            client = redis.Redis.from_url(server.url)
            tags = [tag for tag, _ in client.zrange("unacked_index", 0, -1, withscores=True)]
            assert len(tags) == 2
            client.zadd("unacked_index", {tags[0]: time.time() - 3600})  # one taken an hour ago
            stale = broker._run_id(json.loads(json.dumps(json.loads(client.hget("unacked", tags[0]))[0])))
            assert broker._redis_run_ids(server.url) == {7, 8}, "without an age limit both count as held"
            assert broker._redis_run_ids(server.url, unacked_for_at_most=600) == {7, 8} - {stale}
    finally:
        server.stop()


class _ExplodingEnv(gym.Env):
    """A simulator that starts returning NaN observations: training must fail cleanly."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict | None = None):  # type: ignore[override]
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):  # type: ignore[override]
        self.t += 1
        return np.full(2, np.nan if self.t > 20 else 0.1, np.float32), 1.0, False, self.t >= 100, {}


def test_a_diverging_run_fails_with_its_reason_and_the_worker_carries_on(
    pair: Any, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    user, config, _ = pair
    gym.register("TrustboardExplodes-v0", entry_point=_ExplodingEnv)
    try:
        env = Environment.objects.create(slug="explodes", gym_id="TrustboardExplodes-v0", budget_steps=256,
                                         eval_episodes=1, eval_seed=0, min_seeds=1, random_return=0.0,
                                         reference_return=100.0)  # fmt: skip
        bad = Run.objects.create(config=config, environment=env, seed=0, owner=user, total_steps=256)
        assert execute_run(bad.pk, host="here:1") == RunStatus.FAILED
        bad.refresh_from_db()
        assert "TrainingDiverged" in bad.error and "NaN" in bad.error
        assert not bad.system_failure, "divergence is the run's own doing: it counts against the quota"
        assert not bad.resume_state
    finally:
        gym.registry.pop("TrustboardExplodes-v0")
    good = _run(pair)
    assert execute_run(good.pk, host="here:1") == RunStatus.SUCCEEDED, "the same worker process is healthy"


@pytest.fixture
def empty_queue() -> None:
    """Earlier tests leave messages in the test broker; one naming a reused run id would look like a held run."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("cpu")


@override_settings(TRUSTBOARD_REQUEUE_AFTER=60)
def test_it_publishes_queued_runs_whose_message_never_left(pair: Any, empty_queue: None) -> None:
    never_sent = _run(pair)  # the web process died between commit and publishing: enqueued_at stays NULL
    Run.objects.filter(pk=never_sent.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    just_submitted = _run(pair)  # its on-commit hook may still be running: leave it alone

    report = reconcile()

    assert report.reenqueued == [never_sent.pk]
    never_sent.refresh_from_db()
    just_submitted.refresh_from_db()
    assert never_sent.status == RunStatus.QUEUED and never_sent.enqueued_at is not None
    assert just_submitted.enqueued_at is None


def test_a_broker_that_refuses_a_submission_loses_no_run(
    pair: Any,
    client: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    empty_queue: None,
) -> None:
    """Publishing fails for every seed (the broker is down): the request still succeeds, every row stays queued and
    stamped, and the reconciler publishes them once the broker is back."""
    from kombu.exceptions import OperationalError

    from web.runs.tasks import train_run

    user, config, env = pair
    published: list[int] = []

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(train_run, "apply_async", broker_down)
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("runs:submit"), {"config": config.pk, "environment": env.pk, "seeds": 3})
    assert response.status_code == 302
    runs = list(Run.objects.filter(config=config).order_by("seed"))
    assert [r.status for r in runs] == [RunStatus.QUEUED] * 3
    assert all(r.enqueued_at is not None for r in runs), "every seed tried to publish, not just the first"

    monkeypatch.setattr(train_run, "apply_async", lambda args, **kwargs: published.append(args[0]))
    Run.objects.filter(config=config).update(enqueued_at=timezone.now() - timedelta(hours=1))
    with override_settings(TRUSTBOARD_REQUEUE_AFTER=60):
        report = reconcile()
    assert sorted(report.reenqueued) == sorted(published) == [r.pk for r in runs]


def test_it_tells_our_failures_from_the_runs_own() -> None:
    from django.db import OperationalError

    from trainer import ConfigError, TrainingDiverged
    from web.runs.worker import _is_system_failure

    assert _is_system_failure(OperationalError("connection refused"))
    assert _is_system_failure(OSError(28, "No space left on device"))
    assert not _is_system_failure(TrainingDiverged("training diverged: rewards contain NaN or infinity"))
    assert not _is_system_failure(ConfigError("max_kl", "must be in (0, 1], got 5.0"))
    assert not _is_system_failure(ValueError("the environment refused its kwargs"))
    # The catalog accepted the id; a worker whose gymnasium lacks it is installed wrong, not the run's fault.
    from trainer.envs import EnvNotRegistered, validate_env_id

    with pytest.raises(EnvNotRegistered) as missing:
        validate_env_id("TrustboardNowhere-v0")
    assert _is_system_failure(missing.value)


def test_a_training_state_that_parses_but_does_not_fit_starts_the_run_over(
    pair: Any, settings: Any, tmp_path: Path
) -> None:
    """A state missing its NumPy RNG, or with a misshapen weight, failed the run ("KeyError: 'numpy_rng'") and
    charged it to its owner; an unreadable one already started over. Both now cost the progress, not the run."""
    from django.core.files.base import ContentFile

    from trainer import TrainingState, train

    settings.MEDIA_ROOT = tmp_path
    run = _run(pair)
    states: list[TrainingState] = []
    train(run.config.trpo_config(), "CartPole-v1", total_steps=256, seed=run.seed, checkpoint_every=1,
          on_checkpoint=states.append)  # fmt: skip
    state = states[0]
    state.info.pop("numpy_rng")
    run.resume_state.save("damaged.state", ContentFile(state.to_bytes()), save=False)
    Run.objects.filter(pk=run.pk).update(resume_state=run.resume_state.name, resume_update=state.update)
    for update in range(1, state.update + 1):
        RunMetric.objects.create(run=run, update=update, steps=64 * update, metrics={})
    assert execute_run(run.pk, host="here:1") == RunStatus.SUCCEEDED
    run.refresh_from_db()
    assert list(run.metrics.order_by("update").values_list("update", flat=True)) == [1, 2, 3, 4]
    assert run.error == "" and not run.resume_state


def test_the_error_a_user_sees_names_no_server_directories() -> None:
    """The run page is public: traceback tails showed the worker's paths (/srv/..., the virtual environment)."""
    import sys

    from web.runs.worker import _describe

    try:
        import json as stdlib_json

        stdlib_json.loads("{not json")
    except ValueError as exc:
        text = _describe(exc)
    assert text.startswith("JSONDecodeError: ")
    assert sys.base_prefix not in text and sys.prefix not in text and str(Path(__file__).parents[2]) not in text
    assert '"<python>/' in text  # the frames are still there, by name
