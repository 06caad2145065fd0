"""Every page prints a quantity the same way (web/numbers.py, docs/LEADERBOARD.md "How numbers are shown"), while
exports and the API keep full precision."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

RETURN = 1234.5678


@pytest.fixture
def precise(make_env, make_config, make_runs) -> dict[str, Any]:
    """Three seeds of one config all ending at 1234.5678 (score, interval and IQM alike), 1,234.6 steps/s and
    3,601.7 s each, on an environment whose reference return is 2000: a normalised score of 0.617…"""
    from leaderboard import services
    from web.runs.models import Run

    env = make_env(slug="precise", random_return=0.0, reference_return=2000.0, budget_steps=1_000_000)
    default = make_config(name="default", is_default=True)
    config = make_config(name="precise")
    make_runs(default, env, [1000.0, 1300.0, 1350.0])
    runs = make_runs(config, env, [RETURN] * 3)
    Run.objects.filter(config=config).update(steps_per_s=1234.6, wall_clock_s=3601.7, final_return_std=12.345)
    services.recompute_all()
    return {"env": env, "config": config, "run": runs[0]}


def test_a_return_reads_1_234_6_on_every_page_that_shows_it(client, precise) -> None:
    env, config, run = precise["env"], precise["config"], precise["run"]
    board = client.get(reverse("leaderboard:environment", args=[env.slug])).content.decode()
    row = board.split(f'/entries/{config.pk}/">precise v1</a>', 1)[1].split("</tr>", 1)[0]
    assert "<td>1,234.6<span" in row and "[1,234.6, 1,234.6]" in row  # the score, its interval on a phone
    assert row.count('<td class="opt">1,234.6</td>') == 3  # CI low, CI high, IQM
    assert '<td class="opt">3,602</td>' in row and '<td class="opt">1,235</td>' in row  # wall-clock, steps/s
    assert "random return 0.0 is 0 and the reference return\n  2,000.0 is 1" in board
    assert "Budget 1,000,000 steps" in board

    entry = client.get(reverse("leaderboard:entry", args=[env.slug, config.pk])).content.decode()
    assert "<dd>1,234.6 [1,234.6, 1,234.6] (95% bootstrap CI" in entry
    assert "<dt>IQM</dt><dd>1,234.6</dd>" in entry and "<dd>3,602 s · 1,235 steps/s</dd>" in entry
    assert entry.count("<td>1,234.6 ± 12.3</td>") == 3

    home = client.get(reverse("leaderboard:home")).content.decode()
    leaders = home.split('id="environment-leaders"', 1)[1]
    assert "<td>1,234.6 [1,234.6, 1,234.6]</td>" in leaders

    assert "<td>1,234.6 [1,234.6, 1,234.6]</td>" in client.get(config.get_absolute_url()).content.decode()
    runs = client.get(reverse("runs:list") + f"?config={config.pk}").content.decode()
    assert runs.count("<td>1,234.6</td>") == 3
    page = client.get(run.get_absolute_url()).content.decode()
    assert '"final_return_mean">1,234.6</span> ± <span data-field="final_return_std">12.3<' in page
    assert 'data-field="wall_clock_s">3,602<' in page and 'data-field="steps_per_s">1,235<' in page
    assert 'data-field="eval_returns">1,233.6; 1,234.6; 1,234.6; 1,235.6<' in page
    envs = client.get(reverse("catalog:environments") + "?q=precise").content.decode()
    assert "<td>1,000,000</td>" in envs and "0.0 → 2,000.0" in envs


def test_normalised_scores_and_probabilities_read_with_two_decimals(client, precise) -> None:
    from leaderboard.models import OverallEntry

    row = OverallEntry.objects.get(config=precise["config"])
    assert round(row.iqm, 4) == 0.6173 and 0 < row.poi < 1
    home = client.get(reverse("leaderboard:home")).content.decode()
    table = home.split('id="overall-board"', 1)[1].split("</table>", 1)[0]
    assert '<td>0.62<span class="phone-only"> [' in table
    assert f'<td class="opt">{row.poi:.2f} [{row.poi_low:.2f}, {row.poi_high:.2f}]</td>' in table
    assert '<td class="opt">0.33 [' in table  # 1234.6 beats 1000 and loses to 1300 and 1350: 3 of 9 pairs


def test_p_a_beats_b_reads_with_two_decimals(client, precise) -> None:
    from web.catalog.models import TrainerConfig

    default = TrainerConfig.objects.get(name="default")
    html = client.get(reverse("leaderboard:compare") + f"?a={precise['config'].pk}&b={default.pk}").content.decode()
    assert "P(A beats B) = 0.33 [" in html  # 1234.6 beats 1000 and loses to 1300 and 1350: 3 of 9 pairs
    assert ">1,234.6</a> [1,234.6, 1,234.6] (" in html


def test_exports_and_the_api_keep_full_precision(client, precise) -> None:
    env = precise["env"]
    rows = json.loads(client.get(reverse("leaderboard:environment_export", args=[env.slug, "json"])).content)
    mine = next(r for r in rows["entries"] if r["config"] == "precise v1")
    assert mine["score_mean"] == pytest.approx(RETURN, abs=1e-9) and mine["steps_per_s"] == pytest.approx(1234.6)
    csv = client.get(reverse("leaderboard:environment_export", args=[env.slug, "csv"])).content.decode()
    assert "1234.5678" in csv


def test_chart_hover_labels_follow_the_same_rules(precise) -> None:
    from leaderboard.models import Board
    from web.runs import charts as run_charts

    figures = Board.objects.get(environment=precise["env"]).figures
    curves = json.loads(figures["curves"])["layout"]
    assert (curves["xaxis"]["hoverformat"], curves["yaxis"]["hoverformat"]) == (",.0f", ",.1f")
    assert json.loads(figures["scores"])["layout"]["yaxis"]["hoverformat"] == ",.1f"
    profile = json.loads(Board.objects.get(key="overall").figures["profile"])["layout"]
    assert (profile["xaxis"]["hoverformat"], profile["yaxis"]["hoverformat"]) == (".2f", ".2f")
    figs = run_charts.run_figures([{"update": 1, "steps": 512, "metrics": {"train/kl": 0.0098123}}], max_kl=0.01)
    assert figs["kl"].layout.yaxis.hoverformat == ".3g" and figs["learning_curve"].layout.yaxis.hoverformat == ",.1f"
