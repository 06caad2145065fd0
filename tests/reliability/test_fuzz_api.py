"""Fuzz the query strings of every JSON API endpoint and every page: never a server error, never a write.

Each example sends one class of bad value (see ``fuzzing.CLASSES``) in the parameters the endpoint reads
(``page``, ``page_size``, ``sort``, ``format``, filters, ...) and in a random extra one, or a raw query string
of arbitrary printable bytes and percent-escapes. Counts per class go to ``var/reliability/fuzz_api.json``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from actors import make_config, make_env, make_run, make_user, snapshot
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from fuzzing import CLASS_NAMES, FUZZ_SETTINGS, MISSING, QUERY_CLASSES, Tally, per_class
from hypothesis import given
from hypothesis import strategies as st

from leaderboard.services import refresh_entry
from web.runs.models import RunMetric, RunStatus

TALLY = Tally("fuzz_api")
PARAMS = ["page", "page_size", "sort", "format", "environment", "config", "status", "after", "from", "seeds", "q",
          "mine", "owner"]  # fmt: skip
RAW_QUERY = "raw query string"
KINDS = [*CLASS_NAMES, RAW_QUERY]


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: Callable[[dict[str, Any]], str]
    signed_in: bool = False


ENDPOINTS = [
    Endpoint("api index", lambda w: reverse("api:index")),
    Endpoint("api environments", lambda w: reverse("api:environments")),
    Endpoint("api environment", lambda w: reverse("api:environment", args=[w["env"].slug])),
    Endpoint("api configs", lambda w: reverse("api:configs")),
    Endpoint("api config", lambda w: reverse("api:config", args=[w["config"].pk])),
    Endpoint("api runs", lambda w: reverse("api:runs")),
    Endpoint("api run", lambda w: reverse("api:run", args=[w["run"].pk])),
    Endpoint("api leaderboards", lambda w: reverse("api:leaderboards")),
    Endpoint("api leaderboard", lambda w: reverse("api:leaderboard", args=[w["env"].slug])),
    Endpoint("home board", lambda w: reverse("leaderboard:home")),
    Endpoint("environment board", lambda w: reverse("leaderboard:environment", args=[w["env"].slug])),
    Endpoint("entry page", lambda w: reverse("leaderboard:entry", args=[w["env"].slug, w["config"].pk])),
    Endpoint("board export csv", lambda w: reverse("leaderboard:environment_export", args=[w["env"].slug, "csv"])),
    Endpoint("overall export json", lambda w: reverse("leaderboard:overall_export", args=["json"])),
    Endpoint("run status.json", lambda w: reverse("runs:status", args=[w["run"].pk])),
    Endpoint("run page", lambda w: reverse("runs:detail", args=[w["run"].pk])),
    Endpoint("runs list", lambda w: reverse("runs:list")),
    Endpoint("environments page", lambda w: reverse("catalog:environments")),
    Endpoint("configs page", lambda w: reverse("catalog:configs")),
    Endpoint("my configs (signed in)", lambda w: reverse("catalog:configs"), signed_in=True),
    Endpoint("my runs (signed in)", lambda w: reverse("runs:mine"), signed_in=True),
    Endpoint("submit form (signed in)", lambda w: reverse("runs:submit"), signed_in=True),
    Endpoint("config copy form (signed in)", lambda w: reverse("catalog:config_create"), signed_in=True),
]  # fmt: skip

# Printable ASCII plus percent-escapes that decode to NUL, invalid UTF-8 and separators.
_raw = st.lists(
    st.sampled_from(["%00", "%ff", "%fe%ff", "%zz", "%", "&", "=", ";", "+", "%2B", "%C2%B2", "page=", "sort=-"])
    | st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="#"), max_size=8),
    max_size=12,
).map("".join)


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    TALLY.write_report()


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    owner = make_user("owner")
    env, config = make_env("cartpole-api"), make_config(owner, "api-config")
    run = None
    for seed in range(3):
        run = make_run(owner, config, env, seed=seed, status=RunStatus.SUCCEEDED, final_return_mean=10.0 + seed,
                       eval_returns=[10.0, 11.0], started_at=timezone.now(), finished_at=timezone.now())  # fmt: skip
        RunMetric.objects.create(run=run, update=1, steps=1024, metrics={"rollout/ep_return_mean": 5.0})
    refresh_entry(config.pk, env.pk)
    return {"owner": owner, "env": env, "config": config, "run": run}


def _failure(response: Any) -> str:
    exc = getattr(response, "exc_info", None)
    return "".join(traceback.format_exception(*exc))[-3000:] if exc else response.content[:500].decode(errors="replace")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_it_never_answers_500_to_any_query_string(world: dict[str, Any], endpoint: Endpoint) -> None:
    client = Client(raise_request_exception=False)
    if endpoint.signed_in:
        client.force_login(world["owner"])
    url = endpoint.url(world)
    before = snapshot()

    def fuzz_class(kind: str) -> None:
        @per_class(FUZZ_SETTINGS, len(KINDS))
        @given(data=st.data())
        def example(data: st.DataObject) -> None:
            if kind == RAW_QUERY:
                query = data.draw(_raw, label="query")
            elif kind == MISSING:  # empty values, present but blank
                names = data.draw(st.lists(st.sampled_from(PARAMS), min_size=1, max_size=4, unique=True))
                query = urlencode(dict.fromkeys(names, ""))
            else:
                # Several parameters at once; the sweep below covers each one alone.
                names = data.draw(st.lists(st.sampled_from(PARAMS), min_size=1, max_size=len(PARAMS), unique=True))
                extra = data.draw(st.text(min_size=1, max_size=6).filter(lambda s: "\x00" not in s), label="extra")
                values = {n: data.draw(QUERY_CLASSES[kind], label=n) for n in [*names, extra]}
                query = urlencode(values, doseq=True)
            if data.draw(st.booleans(), label="cold cache"):
                cache.clear()
            response = client.get(f"{url}?{query}")
            assert response.status_code < 500, (
                f"{endpoint.name}: {response.status_code} for ?{query[:300]}\n{_failure(response)}"
            )
            TALLY.record(endpoint.name, kind, f"answered {response.status_code}")

        example()

    # One Hypothesis run per class: every class gets its share of the examples, whatever the draws would favour.
    for kind in KINDS:
        fuzz_class(kind)
    assert snapshot() == before, f"{endpoint.name} wrote to the database on a GET"


# Each value is the smallest known trigger of a class of crash (NUL, non-ASCII digits, int() digit limit, ...).
SWEEP_VALUES = ["\x00", "²", "-1", "9" * 30, "9" * 5000, "nan", "-inf", "", "%", "rank\x00", "[]"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_it_survives_every_tricky_value_in_every_parameter(world: dict[str, Any], endpoint: Endpoint) -> None:
    """A sweep, not a sample: each known-awkward value alone in each parameter (no early 400 can mask a crash)."""
    client = Client(raise_request_exception=False)
    if endpoint.signed_in:
        client.force_login(world["owner"])
    url = endpoint.url(world)
    before = snapshot()
    for name in PARAMS:
        for value in SWEEP_VALUES:
            response = client.get(url, {name: value})
            assert response.status_code < 500, f"{endpoint.name}: ?{name}={value!r}\n{_failure(response)}"
            TALLY.record(endpoint.name, "tricky-value sweep", f"answered {response.status_code}")
    assert snapshot() == before
