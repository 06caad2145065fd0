"""Browse and register environments and TRPO configs. Anyone browses; only signed-in users create."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from web.catalog.forms import EnvironmentForm, Sb3ImportForm, TrainerConfigForm
from web.catalog.listing import page_of, pager_query, search_text
from web.catalog.models import Environment, TrainerConfig
from web.catalog.services import (
    ConfigGone,
    ConfigNameTaken,
    ConfigNotDeletable,
    create_config,
    delete_config,
    edit_config,
)
from web.runs.models import Run

if TYPE_CHECKING:
    from trainer.zoo_entry import ZooEntry

RECENT_RUNS = 20


def environment_list(request: HttpRequest) -> HttpResponse:
    """Environments by slug, a page at a time (anyone signed in may register one), searched by slug or gym id."""
    q = search_text(request)
    environments = Environment.objects.annotate(n_runs=Count("runs")).order_by("slug")  # explicit: see config_list
    if q:
        environments = environments.filter(Q(slug__icontains=q) | Q(gym_id__icontains=q))
    page = page_of(request, environments)
    context = {"page": page, "environments": page.object_list, "q": q, "pager_query": pager_query(q=q)}
    return render(request, "catalog/environment_list.html", context)


def environment_detail(request: HttpRequest, slug: str) -> HttpResponse:
    environment = get_object_or_404(Environment.objects.select_related("created_by"), slug=slug)
    runs = Run.objects.for_list().filter(environment=environment)[:RECENT_RUNS]
    return render(request, "catalog/environment_detail.html", {"environment": environment, "runs": runs})


@login_required
def environment_create(request: HttpRequest) -> HttpResponse:
    form = EnvironmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.instance.created_by = request.user
        try:
            with transaction.atomic():
                environment = form.save()
        except IntegrityError:
            # Another request took the slug after the form checked it (a double click on Register: the form builds
            # the environment in between, a wide window).
            form.add_error("slug", "An environment with this slug exists; pick another.")
            return render(request, "catalog/environment_form.html", {"form": form})
        messages.success(request, f"Environment {environment.slug} registered.")
        return redirect(environment)
    return render(request, "catalog/environment_form.html", {"form": form})


def config_list(request: HttpRequest) -> HttpResponse:
    """Every version of every config, by name and newest version first, a page at a time; searched by name or
    owner, or only the signed-in user's own (``?mine=1``)."""
    q = search_text(request)
    mine = request.user.is_authenticated and request.GET.get("mine") == "1"
    # Explicit order: Django leaves Meta.ordering out of a query that groups for a count.
    configs = TrainerConfig.objects.select_related("owner").annotate(n_runs=Count("runs")).order_by("name", "-version")
    configs = configs.matching(q)
    if mine:
        configs = configs.filter(owner=request.user)
    page = page_of(request, configs)
    context = {
        "page": page,
        "configs": page.object_list,
        "q": q,
        "mine": mine,
        "pager_query": pager_query(q=q, mine="1" if mine else ""),
    }
    return render(request, "catalog/config_list.html", context)


def config_detail(request: HttpRequest, pk: int) -> HttpResponse:
    config = get_object_or_404(TrainerConfig.objects.select_related("owner", "parent"), pk=pk)
    versions = TrainerConfig.objects.filter(name=config.name).order_by("-version").only("pk", "name", "version")
    runs = Run.objects.for_list().filter(config=config)[:RECENT_RUNS]
    context = {
        "config": config,
        "params_json": config.params_json,
        "versions": versions,
        "runs": runs,
        # Its leaderboard entries, through the reverse relation (web never imports leaderboard): where a visitor
        # comparing configs looks first.
        "entries": config.lb_entries.select_related("environment")
        .defer("curve", "final_scores", "seeds")
        .order_by("environment__slug"),
        "can_edit": request.user.is_authenticated and config.owner_id == request.user.pk,
    }
    context["can_delete"] = context["can_edit"] and not config.is_default and not runs
    return render(request, "catalog/config_detail.html", context)


@login_required
def config_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    source_id = request.GET.get("from", "")
    # ?from= is typed by anyone: only plain ASCII digits reach the query (int("²") and int("abc") would raise).
    if source_id.isascii() and source_id.isdigit() and len(source_id) < 19:
        source = TrainerConfig.objects.filter(pk=int(source_id)).first()
    else:
        source = None
    if source is not None:
        initial = {**source.params, "description": source.description}
    form = TrainerConfigForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            config = create_config(request.user, data["name"], data["description"], data["params"])
        except ConfigNameTaken as exc:
            form.add_error("name", str(exc))
            return render(request, "catalog/config_form.html", {"form": form, "source": source})
        messages.success(request, f"Config {config} saved.")
        return redirect(config)
    return render(request, "catalog/config_form.html", {"form": form, "source": source})


def import_notes(entry: ZooEntry, env: Environment) -> list[str]:
    """What the translation could not carry over from the entry, said where the user reviews the result."""
    notes = []
    if entry.env_id and entry.env_id != env.gym_id:
        notes.append(f"The entry was written for {entry.env_id}; this environment is {env.gym_id}.")
    steps = entry.hyperparams.get("n_timesteps")
    if isinstance(steps, int | float) and not isinstance(steps, bool) and steps != env.budget_steps:
        notes.append(
            f"The entry's n_timesteps ({int(steps):,}) is a training budget, which belongs to an environment here: "
            f"runs on {env.slug} train for {env.budget_steps:,} steps."
        )
    return notes


@login_required
def config_import(request: HttpRequest) -> HttpResponse:
    """Translate an sb3-contrib / rl-zoo entry; a valid one prefills the new-config form (saving is still a review)."""
    form = Sb3ImportForm(request.POST or None, initial={"environment": request.GET.get("env", "")})
    if request.method == "POST" and form.is_valid():
        env, k, entry = (form.cleaned_data[key] for key in ("environment", "action_dims", "entry"))
        source = f"the rl-zoo entry for {entry.env_id}" if entry.env_id else "sb3-contrib / rl-zoo settings"
        note = (
            f"Translated from {source} for {env.slug} ({env.gym_id}): target_kl and cg_damping "
            f"× {k} action dimension{'s' if k != 1 else ''}, sb3-contrib's defaults for keys not given."
        )
        config_form = TrainerConfigForm(initial={**form.cleaned_data["params"], "description": note})
        context = {
            "form": config_form,
            "imported_for": env,
            "imported_notes": import_notes(entry, env),
            "action": reverse("catalog:config_create"),
        }
        return render(request, "catalog/config_form.html", context)
    return render(request, "catalog/config_import.html", {"form": form})


@login_required
def config_edit(request: HttpRequest, pk: int) -> HttpResponse:
    config = get_object_or_404(TrainerConfig, pk=pk, owner=request.user)
    form = TrainerConfigForm(request.POST or None, instance=config)
    if request.method == "POST" and form.is_valid():
        try:
            saved = edit_config(config, form.cleaned_data["description"], form.cleaned_data["params"])
        except ConfigGone as exc:
            messages.warning(request, str(exc))
            return redirect("catalog:configs")
        if saved.pk == config.pk:
            messages.success(request, f"Config {saved} updated.")
        else:
            messages.info(request, f"{config} has runs, so your edit was saved as {saved}.")
        return redirect(saved)
    return render(request, "catalog/config_form.html", {"form": form, "config": config})


@require_POST
@login_required
def config_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete my config version while no run uses it (another user's config is a 404, as for editing)."""
    config = get_object_or_404(TrainerConfig, pk=pk, owner=request.user)
    try:
        delete_config(config)
    except ConfigGone:  # a double click: the first click deleted it
        messages.info(request, f"Config {config} was already deleted.")
        return redirect("catalog:configs")
    except ConfigNotDeletable as exc:
        messages.warning(request, str(exc))
        return redirect(config)
    messages.success(request, f"Config {config} deleted.")
    return redirect("catalog:configs")
