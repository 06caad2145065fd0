"""One training run (config × environment × seed) and the metrics of each of its updates."""

from __future__ import annotations

import socket
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

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
    versions = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
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
    def checkpoint_filename(self) -> str:
        return f"run-{self.pk}.safetensors"

    # --- state transitions: each one a single filtered UPDATE, so two processes can never both win ----------

    def claim(self, host: str | None = None) -> bool:
        """Take a queued run for this worker. Acts only if exactly one row changed (queued → running)."""
        now = timezone.now()
        host = host or socket.gethostname()
        claimed = Run.objects.filter(pk=self.pk, status=RunStatus.QUEUED, cancel_requested=False).update(
            status=RunStatus.RUNNING, worker_host=host, heartbeat_at=now, started_at=now
        )
        if claimed == 1:
            self.status, self.worker_host, self.heartbeat_at, self.started_at = RunStatus.RUNNING, host, now, now
        return claimed == 1

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

    def record_update(self, update: int, steps: int, metrics: dict[str, Any]) -> None:
        """Store one update's metrics (idempotent on (run, update)) and refresh progress and heartbeat."""
        RunMetric.objects.bulk_create(
            [RunMetric(run=self, update=update, steps=steps, metrics=metrics)], ignore_conflicts=True
        )
        progress = min(1.0, steps / self.total_steps) if self.total_steps else 0.0
        Run.objects.filter(pk=self.pk, status=RunStatus.RUNNING).update(
            steps_done=steps, updates_done=update, progress=progress, heartbeat_at=timezone.now()
        )

    def finish(self, status: RunStatus, **fields: Any) -> None:
        """Final transition from running; the caller sends ``run_finished`` afterwards."""
        fields = {"status": status, "finished_at": timezone.now(), "heartbeat_at": timezone.now(), **fields}
        Run.objects.filter(pk=self.pk, status=RunStatus.RUNNING).update(**fields)
        self.refresh_from_db()

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
