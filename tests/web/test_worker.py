"""The worker adapter, run in-process on a tiny CartPole run (the real trainer, no Celery in between)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage

from trainer import METRIC_NAMES, load_policy, read_metadata
from trainer.__main__ import main as cli_main
from web.catalog.models import TrainerConfig
from web.runs.models import Run, RunStatus
from web.runs.services import queue_for, time_limits, training_device
from web.runs.signals import run_finished
from web.runs.worker import _failed_by_the_pool, execute_run, fail_abandoned_run


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def finished() -> Any:
    seen: list[Run] = []

    def receiver(sender: type[Run], run: Run, **kwargs: Any) -> None:
        seen.append(run)

    run_finished.connect(receiver)
    yield seen
    run_finished.disconnect(receiver)


@pytest.mark.slow
def test_it_trains_evaluates_and_saves_a_loadable_checkpoint(make_run: Any, finished: list[Run], capsys) -> None:
    run = make_run(seed=3)
    assert execute_run(run.pk, host="test-host") == RunStatus.SUCCEEDED
    run.refresh_from_db()
    assert (run.status, run.worker_host, run.steps_done, run.updates_done, run.progress) == (
        RunStatus.SUCCEEDED, "test-host", 2048, 8, 1.0,
    )  # fmt: skip
    rows = list(run.metrics.order_by("update"))
    assert [r.update for r in rows] == list(range(1, 9))
    assert set(rows[-1].metrics) == set(METRIC_NAMES)
    assert len(run.eval_returns) == 2 and run.final_return_mean == pytest.approx(sum(run.eval_returns) / 2)
    assert run.versions["torch"] and run.versions["gymnasium"] and run.versions["code"]
    assert run.wall_clock_s > 0 and run.steps_per_s > 0 and run.started_at <= run.finished_at
    with default_storage.open(run.checkpoint.name) as f:
        path = Path(f.name)
    assert load_policy(path).act([0.0, 0.0, 0.0, 0.0]) in (0, 1)
    assert [r.pk for r in finished] == [run.pk]
    # The checkpoint records the environment's protocol, and the CLI replays it to the board's very numbers.
    env = run.environment
    protocol = {"episodes": env.eval_episodes, "seed": env.eval_seed, "deterministic": env.deterministic_eval}
    assert read_metadata(path)["summary"]["evaluation"] == protocol
    assert cli_main(["evaluate", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["returns"] == run.eval_returns and report["recorded_mean"] == run.final_return_mean


def test_it_fails_the_run_with_a_reason_instead_of_raising(user: Any, make_run: Any, finished: list[Run]) -> None:
    config = TrainerConfig.objects.create(name="too-wide", owner=user, params={"max_kl": 7})
    run = make_run(config=config)
    assert execute_run(run.pk) == RunStatus.FAILED
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "max_kl" in run.error and run.finished_at
    assert [r.pk for r in finished] == [run.pk]


def test_it_does_nothing_for_a_run_that_is_not_queued(make_run: Any, finished: list[Run]) -> None:
    run = make_run(status=RunStatus.RUNNING, worker_host="someone-else")
    assert execute_run(run.pk) is None
    run.refresh_from_db()
    assert run.worker_host == "someone-else" and not run.metrics.exists() and not finished


def test_it_drops_messages_for_runs_that_no_longer_exist(db: None) -> None:
    assert execute_run(123456) is None


def test_it_records_metric_rows_once_per_update(make_run: Any) -> None:
    run = make_run()
    run.claim("w")
    run.record_update(1, 256, {"train/kl": 0.01})
    run.record_update(1, 256, {"train/kl": 0.02})
    assert run.metrics.count() == 1 and run.metrics.get().metrics == {"train/kl": 0.01}


def test_it_derives_time_limits_from_the_budget(tiny_env: Any, settings: Any) -> None:
    settings.TRUSTBOARD_MIN_STEPS_PER_S = 100
    settings.TRUSTBOARD_RUN_OVERHEAD_SECONDS = 600
    tiny_env.budget_steps = 1_000_000
    limits = time_limits(tiny_env)
    assert limits.soft == 10_600 and limits.hard > limits.soft
    tiny_env.budget_steps = 10**9
    capped = time_limits(tiny_env)
    assert capped.hard <= settings.TRUSTBOARD_MAX_RUN_SECONDS
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > capped.hard


def test_it_picks_the_queue_from_the_config_device(settings: Any) -> None:
    settings.TRUSTBOARD_AUTO_QUEUE = "gpu"
    assert (queue_for("cpu"), queue_for("cuda"), queue_for("auto")) == ("cpu", "gpu", "gpu")


def test_auto_trains_where_the_queue_says() -> None:
    # cpu queue: the CPU even on a worker that has a GPU (small updates are slower there); gpu queue: CUDA if any.
    assert [training_device("auto", q) for q in ("cpu", "gpu")] == ["cpu", "auto"]
    assert [training_device(d, "gpu") for d in ("cpu", "cuda")] == ["cpu", "cuda"]


@pytest.mark.slow
def test_an_auto_run_on_the_cpu_queue_trains_with_device_cpu(make_run: Any, tiny_config: TrainerConfig) -> None:
    tiny_config.params = {**tiny_config.params, "device": "auto"}
    tiny_config.save()
    run = make_run(queue="cpu")
    assert execute_run(run.pk) == RunStatus.SUCCEEDED
    run.refresh_from_db()
    with default_storage.open(run.checkpoint.name) as f:
        assert read_metadata(Path(f.name))["config"]["device"] == "cpu", "the config the run trained with"


def test_only_a_claim_failed_by_the_pool_waits_for_its_kill(make_run: Any) -> None:
    """A child waits to be killed (instead of reporting back) only when the pool's main process failed this very
    claim at a hard time limit; a run taken over by another worker, or failed for another reason, returns at once."""
    run = make_run()
    assert run.claim("pool-child")
    first = run.attempts
    assert not _failed_by_the_pool(run.pk, first)  # still running: an ordinary LostOwnership does not come from here
    assert run.requeue() and run.claim("other-worker")  # taken over: the stale claim is not the pool's doing
    assert fail_abandoned_run(run.pk, "TimeLimitExceeded: 3")
    assert not _failed_by_the_pool(run.pk, first) and _failed_by_the_pool(run.pk, run.attempts)
    other = make_run(seed=9)
    assert other.claim("pool-child")
    other.finish(RunStatus.FAILED, error="Time limit exceeded: the run took longer than its budget allows.")
    assert not _failed_by_the_pool(other.pk, other.attempts)


def test_the_pools_hard_limit_fails_only_the_claim_it_killed(make_run: Any, media: Path) -> None:
    """A child frozen past its hard limit had been presumed dead and its run resumed by another worker; at the hard
    limit the pool failed the row, i.e. the healthy resumed run, and charged it to its owner."""
    from django.core.files.base import ContentFile

    run = make_run()
    assert run.claim("frozen-child", task_id="task-of-attempt-1")
    assert run.requeue() and run.claim("healthy-worker", task_id="task-of-attempt-2")
    run.resume_state.save("state.bin", ContentFile(b"state"), save=True)
    assert not fail_abandoned_run(run.pk, "TimeLimitExceeded: 120", task_id="task-of-attempt-1")
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.error == ""
    # The claim that holds it, killed at its limit: failed, and its training state freed.
    stored = media / run.resume_state.name
    assert stored.exists()
    assert fail_abandoned_run(run.pk, "TimeLimitExceeded: 120", task_id="task-of-attempt-2")
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and not run.resume_state and not stored.exists()


def test_a_run_deleted_while_it_evaluates_leaves_no_checkpoint_and_no_error(
    make_run: Any, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its owner's account was deleted during the evaluation: finish() raised DoesNotExist out of the task, and the
    checkpoint saved just before stayed in storage with no row."""
    import web.runs.worker as worker

    run = make_run()
    real = worker._evaluate_and_save

    def evaluate_then_lose_the_row(run: Run, result: Any, timing: dict[str, Any]) -> None:
        monkeypatch.setattr(run, "finish", _deleting(run, run.finish))
        real(run, result, timing)

    monkeypatch.setattr(worker, "_evaluate_and_save", evaluate_then_lose_the_row)
    assert execute_run(run.pk, host="here:1") is None
    assert not Run.objects.filter(pk=run.pk).exists()
    assert not [p for p in media.rglob("*.safetensors")], "no checkpoint without its run"


def _deleting(run: Run, finish: Any) -> Any:
    def delete_then_finish(status: RunStatus, **fields: Any) -> bool:
        Run.objects.filter(pk=run.pk).delete()
        return finish(status, **fields)

    return delete_then_finish


def test_a_storage_that_refuses_to_delete_a_training_state_does_not_break_the_task(
    make_run: Any, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On read-only storage the deletion raised OSError out of the task after the run was failed: run_finished
    was never sent and the row kept pointing at the file."""
    from django.core.files.base import ContentFile

    from web.runs.resume_states import discard_resume_state

    run = make_run()
    run.resume_state.save("state.bin", ContentFile(b"state"), save=True)

    def read_only(name: str) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(run.resume_state.storage, "delete", read_only)
    discard_resume_state(run)
    run.refresh_from_db()
    assert not run.resume_state


def test_a_training_state_that_did_not_fit_on_the_disk_leaves_no_partial_file(
    make_run: Any, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.files.storage import FileSystemStorage

    from web.runs.resume_states import save_resume_state

    run = make_run()
    assert run.claim("here:1")
    real_save = FileSystemStorage._save

    def disk_full(self: FileSystemStorage, name: str, content: Any) -> str:
        real_save(self, name, ContentFile(b"half a state"))  # what was written before the disk filled up
        raise OSError(28, "No space left on device")

    from django.core.files.base import ContentFile

    monkeypatch.setattr(FileSystemStorage, "_save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_resume_state(run, 2, b"the whole state")
    assert not [p for p in media.rglob("*") if p.is_file()], "no partial file left behind"
    run.refresh_from_db()
    assert not run.resume_state


def test_a_failure_of_ours_is_off_the_quota_and_the_public_page_gets_no_paths(
    make_run: Any, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.files.storage import FileSystemStorage

    def disk_full(self: FileSystemStorage, name: str, content: Any) -> str:
        raise OSError(28, "No space left on device", f"{media}/checkpoints/{name}")

    monkeypatch.setattr(FileSystemStorage, "_save", disk_full)
    run = make_run()
    assert execute_run(run.pk, host="here:1") == RunStatus.FAILED
    run.refresh_from_db()
    assert run.system_failure and run.error.startswith("The platform failed this run (OSError")
    assert str(media) not in run.error


def test_the_error_of_a_runs_own_failure_names_no_server_directory(settings: Any, media: Path) -> None:
    from web.runs.worker import _describe

    try:
        raise ValueError(f"the environment could not read '{media}/kwargs.json'")
    except ValueError as exc:
        text = _describe(exc)
    assert "'<media>/kwargs.json'" in text and str(media) not in text
    assert str(Path(__file__).resolve().parents[2]) not in text, "the project's own frames are named <trustboard>"


def test_a_run_keeps_its_heartbeat_while_it_evaluates(transactional_db: None, make_run: Any) -> None:
    """Evaluation and the checkpoint upload send no updates: a thread beats meanwhile, and stops once the run is
    no longer this claim's (before, a long evaluation let the reconciler hand the run to a second worker)."""
    import time
    from datetime import timedelta

    from django.utils import timezone

    from web.runs.worker import _heartbeat_in_background

    run = make_run()
    assert run.claim("evaluating-worker")
    stale = timezone.now() - timedelta(hours=1)
    Run.objects.filter(pk=run.pk).update(heartbeat_at=stale)
    with _heartbeat_in_background(run, every=0.05):
        time.sleep(0.5)
    run.refresh_from_db()
    assert run.heartbeat_at > stale
    Run.objects.filter(pk=run.pk).update(attempts=run.attempts + 1, heartbeat_at=stale)  # taken over
    with _heartbeat_in_background(run, every=0.05):
        time.sleep(0.3)
    assert Run.objects.get(pk=run.pk).heartbeat_at == stale, "a stale claim writes nothing"
    # While training, the thread beats only while updates keep coming: a hung loop must still go silent.
    Run.objects.filter(pk=run.pk).update(attempts=run.attempts)
    with _heartbeat_in_background(run, every=0.05, while_=lambda: False):
        time.sleep(0.3)
    assert Run.objects.get(pk=run.pk).heartbeat_at == stale, "no progress, no heartbeat"


def test_a_run_keeps_its_heartbeat_through_an_update_longer_than_the_timeout(
    transactional_db: None, make_run: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only updates beat while it trained: one update of a large batch with many critic epochs outlasted the
    timeout, and the reconciler gave the live run to a second worker, a third, then failed it as lost."""
    import time

    import trainer

    settings.TRUSTBOARD_HEARTBEAT_TIMEOUT = 0.4  # beats every 0.1 s
    run = make_run()
    real_train, beats = trainer.train, []

    def one_long_update(*args: Any, **kwargs: Any) -> Any:
        before = Run.objects.get(pk=run.pk).heartbeat_at
        time.sleep(1.0)  # no update reported for 2.5 timeouts
        beats.append(Run.objects.get(pk=run.pk).heartbeat_at > before)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(trainer, "train", one_long_update)
    assert execute_run(run.pk, host="here:1") == RunStatus.SUCCEEDED
    assert beats == [True]


def test_a_finish_by_a_stale_claim_writes_nothing_and_says_so(make_run: Any) -> None:
    run = make_run()
    assert run.claim("first")
    stale = Run.objects.get(pk=run.pk)
    assert run.requeue() and run.claim("second")
    assert not stale.finish(RunStatus.SUCCEEDED, final_return_mean=1.0)
    assert stale.status == RunStatus.RUNNING and stale.final_return_mean is None
    assert run.finish(RunStatus.FAILED, error="x") and run.status == RunStatus.FAILED
