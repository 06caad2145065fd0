"""One training run (config × environment × seed) and the metrics of each of its updates."""

from __future__ import annotations

import socket
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from web import numbers
from web.catalog.models import Environment, TrainerConfig


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)
FINAL_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class Queue(models.TextChoices):
    CPU = "cpu", "CPU"
    GPU = "gpu", "GPU"


def checkpoint_path(run: Run, filename: str) -> str:
    return f"checkpoints/{run.environment.slug}/run-{run.pk}.safetensors"


def resume_state_path(run: Run, filename: str) -> str:
    """Internal training states live apart from the public checkpoints and are never served."""
    return f"resume/run-{run.pk}/{filename}"


class LostOwnership(RuntimeError):
    """The run was handed to another worker (this one was presumed dead); stop without writing anything."""


class RunQuerySet(models.QuerySet["Run"]):
    def for_list(self) -> RunQuerySet:
        """What a list page shows, in one query."""
        return self.select_related("config", "environment", "owner").defer("eval_returns", "eval_lengths")


class Run(models.Model):
    """The database row is the source of truth for a run; the Celery message only carries its primary key."""

    config = models.ForeignKey(TrainerConfig, on_delete=models.PROTECT, related_name="runs")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="runs")
    seed = models.PositiveIntegerField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    queue = models.CharField(max_length=16, choices=Queue.choices, default=Queue.CPU)
    total_steps = models.PositiveBigIntegerField(default=0, help_text="Steps the trainer will take (whole batches).")
    worker_host = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    progress = models.FloatField(default=0.0)
    steps_done = models.PositiveBigIntegerField(default=0)
    updates_done = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    final_return_mean = models.FloatField(null=True, blank=True)
    final_return_std = models.FloatField(null=True, blank=True)
    eval_returns = models.JSONField(default=list, blank=True)
    eval_lengths = models.JSONField(default=list, blank=True)
    checkpoint = models.FileField(upload_to=checkpoint_path, max_length=255, blank=True)
    # Fault tolerance: the latest resumable training state, how many workers have taken the run, and when it was
    # last put on the broker (the reconciler re-enqueues queued runs that no broker message carries).
    resume_state = models.FileField(upload_to=resume_state_path, max_length=255, blank=True)
    resume_update = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The Celery task id of the message the current claim came from: the pool's hard-time-limit handler fails a run
    # only while the claim it killed still holds it, never a later claim that resumed the run on another worker.
    claim_task = models.CharField(max_length=64, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    versions = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # True when the failure was ours (worker lost too often, database or storage down), not the run's own doing
    # (divergence, time limit): such runs do not count against the owner's quota (web.runs.quotas).
    system_failure = models.BooleanField(default=False)
    wall_clock_s = models.FloatField(null=True, blank=True)
    steps_per_s = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    Status = RunStatus  # so callers can write Run.Status.SUCCEEDED without a second import

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["config", "environment", "status"]),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.config} on {self.environment}, seed {self.seed})"

    def get_absolute_url(self) -> str:
        return reverse("runs:detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def eval_returns_display(self) -> str:
        """Each evaluation episode's return as the site prints returns (web/numbers.py), as run.js writes them."""
        return numbers.returns_list(self.eval_returns)

    @property
    def checkpoint_filename(self) -> str:
        return f"run-{self.pk}.safetensors"

    # --- state transitions: each one a single filtered UPDATE, so two processes can never both win ----------

    def claim(self, host: str | None = None, task_id: str = "") -> bool:
        """Take a queued run for this worker. Acts only if exactly one row changed (queued → running)."""
        now = timezone.now()
        host = host or socket.gethostname()
        claimed = Run.objects.filter(pk=self.pk, status=RunStatus.QUEUED, cancel_requested=False).update(
            status=RunStatus.RUNNING,
            worker_host=host,
            claim_task=task_id[:64],
            heartbeat_at=now,
            started_at=Coalesce(F("started_at"), Value(now)),  # a resumed run keeps its first start
            attempts=F("attempts") + 1,
        )
        if claimed == 1:
            self.refresh_from_db()
        return claimed == 1

    def requeue(self, *, heartbeat_before: Any = None) -> bool:
        """Put a running run whose worker was lost back on the queue, to resume from its latest training state.

        A filtered UPDATE again: only one process can move it, and with ``heartbeat_before`` only while the
        heartbeat is still that old (a worker that comes back to life and beats wins the race).
        """
        rows = Run.objects.filter(pk=self.pk, status=RunStatus.RUNNING)
        if heartbeat_before is not None:
            rows = rows.filter(heartbeat_at__lt=heartbeat_before)
        changed = rows.update(status=RunStatus.QUEUED, worker_host="")
        if changed:
            self.refresh_from_db()
        return changed == 1

    def request_cancel(self) -> RunStatus | None:
        """Cancel: a queued run ends at once; a running one is asked to stop at its next update.

        Returns the resulting status (``None`` when the run had already finished).
        """
        now = timezone.now()
        if Run.objects.filter(pk=self.pk, status=RunStatus.QUEUED).update(
            status=RunStatus.CANCELLED, cancel_requested=True, finished_at=now
        ):
            self.refresh_from_db()
            return RunStatus.CANCELLED
        if Run.objects.filter(pk=self.pk, status=RunStatus.RUNNING).update(cancel_requested=True):
            self.refresh_from_db()
            return RunStatus.RUNNING
        return None

    def cancel_is_requested(self) -> bool:
        """Re-read from the database: the web process sets it while the worker trains."""
        return bool(Run.objects.filter(pk=self.pk).values_list("cancel_requested", flat=True).first())

    def _owned(self) -> models.QuerySet[Run]:
        """This run, only while this worker still owns it.

        ``attempts`` is a fencing token: every claim increments it, so a worker that was presumed lost and whose
        run went to another worker matches no row any more, and nothing it writes lands.
        """
        return Run.objects.filter(pk=self.pk, status=RunStatus.RUNNING, attempts=self.attempts)

    def record_update(self, update: int, steps: int, metrics: dict[str, Any]) -> None:
        """Store one update's metrics (idempotent on (run, update)) and refresh progress and heartbeat.

        Raises :class:`LostOwnership` when another worker has taken the run over.
        """
        progress = min(1.0, steps / self.total_steps) if self.total_steps else 0.0
        if not self._owned().update(
            steps_done=steps, updates_done=update, progress=progress, heartbeat_at=timezone.now()
        ):
            raise LostOwnership(f"run {self.pk} is no longer owned by this worker")
        RunMetric.objects.bulk_create(
            [RunMetric(run=self, update=update, steps=steps, metrics=metrics)], ignore_conflicts=True
        )

    def finish(self, status: RunStatus, **fields: Any) -> bool:
        """Final transition from running; the caller sends ``run_finished`` afterwards.

        Returns False when this claim no longer owns the run (nothing was written): another worker took it over,
        or the pool's main process failed it.
        """
        fields = {"status": status, "finished_at": timezone.now(), "heartbeat_at": timezone.now(), **fields}
        written = bool(self._owned().update(**fields))
        try:
            self.refresh_from_db()
        except Run.DoesNotExist:  # deleted meanwhile (its owner's account, say): not ours either, nothing written
            return False
        return written

    def beat(self) -> bool:
        """Refresh the heartbeat while this claim owns the run; False once it does not."""
        return bool(self._owned().update(heartbeat_at=timezone.now()))

    @classmethod
    def next_seed(cls, config: TrainerConfig, environment: Environment) -> int:
        """Seeds continue where the pair's earlier runs stopped, so new runs add evidence, not duplicates."""
        latest = cls.objects.filter(config=config, environment=environment).aggregate(models.Max("seed"))
        return 0 if latest["seed__max"] is None else latest["seed__max"] + 1


class RunMetric(models.Model):
    """The metrics of one update, under the trainer's names (``rollout/ep_return_mean``, ``train/kl``, ...)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metrics")
    update = models.PositiveIntegerField()
    steps = models.PositiveBigIntegerField()
    metrics = models.JSONField()

    class Meta:
        ordering = ["run", "update"]
        constraints = [models.UniqueConstraint(fields=["run", "update"], name="unique_run_update")]

    def __str__(self) -> str:
        return f"run {self.run_id} update {self.update}"


class DeletedRunCharge(models.Model):
    """The steps a run its owner deleted still counts against their daily quota.

    The quota sums the steps of the owner's runs of the last 24 hours; deleting a finished run removed them, so a
    user could train up to the limit, delete the runs and train again. The charge keeps the run's submission time,
    so it ages out of the window exactly as the run would have.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deleted_run_charges")
    created_at = models.DateTimeField(db_index=True, help_text="When the deleted run was submitted.")
    steps = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return f"{self.steps:,} steps of a deleted run of user {self.owner_id}"
