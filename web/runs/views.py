"""Submit runs, list them (everyone's, filtered, or mine), watch one live, cancel or delete one, get its checkpoint."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from web.catalog.models import Environment, TrainerConfig
from web.runs import charts
from web.runs.forms import RunFilterForm, SubmitRunForm
from web.runs.jsonsafe import finite
from web.runs.models import Run, RunMetric, RunStatus
from web.runs.quotas import QuotaExceeded, allowance
from web.runs.services import (
    RunAlreadyDeleted,
    RunNotDeletable,
    SubmissionRefused,
    cancel_run,
    delete_run,
    submit_runs,
)

log = logging.getLogger(__name__)

RUNS_PER_PAGE = 50
METRICS_PER_POLL = 2000


@login_required
def submit(request: HttpRequest) -> HttpResponse:
    form = SubmitRunForm(request.POST or None, initial=request.GET.dict() or None, user_id=request.user.pk)
    if request.method == "POST" and form.is_valid():
        from trainer import ConfigError

        data = form.cleaned_data
        try:
            runs = submit_runs(request.user, data["config"], data["environment"], data["seeds"])
        except QuotaExceeded as exc:
            form.add_error(None, str(exc))
            return render(request, "runs/submit.html", submit_context(request, form), status=429)
        except ConfigError as exc:  # params stored under an older trainer that no longer validate
            form.add_error("config", f"This config no longer validates: {exc}")
            return render(request, "runs/submit.html", submit_context(request, form))
        except SubmissionRefused as exc:
            form.add_error("config", str(exc))
            return render(request, "runs/submit.html", submit_context(request, form))
        seeds = ", ".join(str(r.seed) for r in runs)
        summary = f"{len(runs)} run(s) of {data['config']} on {data['environment']} (seeds {seeds})"
        messages.success(request, f"Queued {summary}.")
        return redirect(runs[0] if len(runs) == 1 else "runs:mine")
    return render(request, "runs/submit.html", submit_context(request, form))


def submit_context(request: HttpRequest, form: SubmitRunForm) -> dict[str, object]:
    """The form, the user's allowance, each environment's budget and each config's batch: the page shows what a
    submission costs, each run charged its budget in whole batches (:func:`web.runs.services.planned_steps`)."""
    budgets = {str(pk): steps for pk, steps in Environment.objects.values_list("pk", "budget_steps")}
    batches = batch_sizes(form.fields["config"].queryset)
    return {"form": form, "allowance": allowance(request.user), "budgets": budgets, "batches": batches}


def batch_sizes(configs: Iterable[TrainerConfig]) -> dict[str, int]:
    """Each config's batch (n_envs × n_steps) by pk. A config whose params no longer validate is left out: the
    page cannot say what it costs, and the server says what is wrong with it on submit."""
    from trainer import ConfigError

    sizes = {}
    for config in configs:
        try:
            sizes[str(config.pk)] = config.trpo_config().batch_size
        except ConfigError:
            continue
    return sizes


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    page = Paginator(Run.objects.for_list().filter(owner=request.user), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "runs/mine.html", {"page": page, "runs": page.object_list})


@require_safe
def run_list(request: HttpRequest) -> HttpResponse:
    """Every run, newest first, filtered by the query string; public, as each run's page is.

    Not page-cached, unlike the boards: it shows live statuses and progress, which change without a new run.
    Refused filters list no runs (status 400) rather than every run, which would read as their result.
    """
    form = RunFilterForm(request.GET)
    valid = form.is_valid()
    # Newest first by primary key, as the API lists runs: its index serves the page slice without a sort.
    runs = form.filter(Run.objects.for_list()).order_by("-pk") if valid else Run.objects.none()
    # get_page clamps: a page past the end shows the last one, a page that is not a number the first.
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "runs": page.object_list, "query": form.query_string() if valid else ""}
    return render(request, "runs/list.html", context, status=200 if valid else 400)


def _rows(run: Run, after: int = 0) -> list[dict[str, Any]]:
    qs = RunMetric.objects.filter(run=run, update__gt=after).order_by("update")
    return list(qs.values("update", "steps", "metrics")[:METRICS_PER_POLL])


def timestamp(moment: datetime | None) -> str | None:
    """Seconds are precise enough for people; the same text the template renders."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else None


def state(run: Run) -> dict[str, Any]:
    """Everything the run page shows that changes while it trains (JSON-safe: a non-finite number is null)."""
    return finite(
        {
            "id": run.pk,
            "status": run.status,
            "status_label": RunStatus(run.status).label,
            "is_active": run.is_active,
            "cancel_requested": run.cancel_requested,
            "progress": run.progress,
            "steps_done": run.steps_done,
            "total_steps": run.total_steps,
            "updates_done": run.updates_done,
            "worker_host": run.worker_host,
            "heartbeat_at": timestamp(run.heartbeat_at),
            "started_at": timestamp(run.started_at),
            "finished_at": timestamp(run.finished_at),
            "final_return_mean": run.final_return_mean,
            "final_return_std": run.final_return_std,
            "eval_returns": run.eval_returns,
            "wall_clock_s": run.wall_clock_s,
            "steps_per_s": run.steps_per_s,
            "error": run.error,
            "has_checkpoint": bool(run.checkpoint),
            "no_updates_note": charts.no_updates_note(run.status),
        }
    )


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(Run.objects.select_related("config", "environment", "owner"), pk=pk)
    rows = _rows(run)
    trust_region = charts.trust_region_of(run.config.params)
    figures = charts.page_figures(rows, live=run.is_active, **trust_region)
    # A long run may have more updates than one response carries; the page fetches the rest at once. Without any,
    # the page shows the state's no_updates_note in place of its charts.
    seen = {"last_update": rows[-1]["update"] if rows else 0, "more": len(rows) >= METRICS_PER_POLL,
            "has_updates": bool(rows)}  # fmt: skip
    context = {
        "run": run,
        "state": state(run) | seen,
        "figures": {key: charts.to_data(fig) for key, fig in figures.items()},
        "is_owner": request.user.is_authenticated and run.owner_id == request.user.pk,
        "versions": sorted(run.versions.items()),
    }
    return render(request, "runs/detail.html", context)


@require_safe
def status_json(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by the run page every ~2 s: the run's state and the updates after ``?after=N``."""
    run = get_object_or_404(Run.objects.defer("eval_lengths", "versions"), pk=pk)
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    return JsonResponse(state(run) | {"metrics": _rows(run, after)})


@require_POST
@login_required
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(Run, pk=pk)
    if run.owner_id != request.user.pk:
        raise PermissionDenied("Only the owner can cancel this run.")
    outcome = cancel_run(run)
    if outcome == RunStatus.CANCELLED:
        messages.success(request, f"Run {run.pk} cancelled.")
    elif outcome == RunStatus.RUNNING and run.total_steps and run.steps_done + _batch(run) >= run.total_steps:
        # Its training is over and evaluation, which cannot be interrupted, is under way: it ends as it is.
        messages.warning(request, f"Run {run.pk} has finished training and is being evaluated; it will finish.")
    elif outcome == RunStatus.RUNNING:
        messages.info(request, f"Run {run.pk} will stop at its next update.")
    else:
        messages.warning(request, f"Run {run.pk} had already finished.")
    return redirect(run)


def _batch(run: Run) -> int:
    """Steps per update of the run's config (0 when its params no longer validate): a cancel during the last
    update cannot stop it either (nothing polls for a cancel after it)."""
    from trainer import ConfigError

    try:
        return run.config.trpo_config().batch_size
    except ConfigError:
        return 0


@require_POST
@login_required
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one of my finished runs; its leaderboard entry is recomputed without it."""
    run = get_object_or_404(Run, pk=pk)
    if run.owner_id != request.user.pk:
        raise PermissionDenied("Only the owner can delete this run.")
    try:
        with transaction.atomic():
            delete_run(run)
    except RunAlreadyDeleted as exc:
        messages.info(request, str(exc))
        return redirect("runs:mine")
    except RunNotDeletable as exc:
        messages.warning(request, str(exc))
        return redirect(run)
    messages.success(request, f"Run {pk} deleted.")
    return redirect("runs:mine")


def _no_checkpoint(message: str) -> HttpResponse:
    """A 404 that says why, in plain text: the link is followed by download managers and scripts (curl, wget), and
    Http404's message is shown only with DEBUG (production answered every case with a bare "Not Found")."""
    return HttpResponseNotFound(f"{message}\n", content_type="text/plain; charset=utf-8")


@require_safe
def checkpoint(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(Run.objects.only("pk", "status", "checkpoint"), pk=pk)
    if not run.checkpoint:
        if run.status == RunStatus.SUCCEEDED:
            return _no_checkpoint(f"Run {run.pk} has no checkpoint.")
        status = RunStatus(run.status).label.lower()
        return _no_checkpoint(f"Run {run.pk} has no checkpoint: it is {status}, and only a run that succeeded has one.")
    try:
        content = run.checkpoint.open("rb")
    except (FileNotFoundError, OSError) as exc:  # storage lost the file (a volume not shared, a lifecycle rule)
        log.error("run %s: checkpoint %s cannot be read from storage: %s", run.pk, run.checkpoint.name, exc)
        return _no_checkpoint(f"Run {run.pk}'s checkpoint file is missing from storage.")
    return FileResponse(
        content,
        as_attachment=True,
        filename=run.checkpoint_filename,
        content_type="application/octet-stream",
    )
