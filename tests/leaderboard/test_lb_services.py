"""Recomputing precomputed rows: entries, reranking, the overall board, the signal and the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.stats
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leaderboard import services, stats, tasks
from leaderboard.models import Board, LeaderboardEntry, OverallEntry
from web.catalog.models import TrainerConfig
from web.runs.models import Run
from web.runs.signals import run_finished

pytestmark = pytest.mark.django_db(transaction=False)


def test_it_aggregates_finished_seeds_into_an_entry(make_env, make_config, make_runs) -> None:
    env, cfg = make_env(budget_steps=1000), make_config()
    make_runs(cfg, env, [10.0, 20.0, 30.0])
    make_runs(cfg, env, [999.0], status="failed", first_seed=10)
    entry = services.refresh_entry(cfg.pk, env.pk)
    assert entry is not None
    assert entry.n_seeds == 3 and entry.seeds == [0, 1, 2]
    assert (entry.score_mean, entry.ci_low, entry.ci_high) == pytest.approx(
        stats.bootstrap_mean([10.0, 20.0, 30.0]).as_tuple()
    )
    episodes = [x for f in (10, 20, 30) for x in (f - 1, f, f, f + 1)]
    assert entry.iqm == pytest.approx(scipy.stats.trim_mean(episodes, 0.25))
    # straight lines from final/4 at 250 steps to final at 1000, held before: mean over seeds of the AUCs
    expected_auc = np.mean([stats.auc_at_budget([250, 500, 750, 1000], [f / 4, f / 2, 3 * f / 4, f], 1000)
                            for f in (10, 20, 30)])  # fmt: skip
    assert entry.auc == pytest.approx(expected_auc)
    assert entry.wall_clock_s == pytest.approx(11.0) and entry.steps_per_s == pytest.approx(100.0)
    assert entry.rank == 1 and not entry.provisional and not entry.tied
    assert entry.curve["mean"][-1] == pytest.approx(20.0) and len(entry.curve["steps"]) == 100


def test_it_is_idempotent(make_env, make_config, make_runs) -> None:
    env, cfg = make_env(), make_config()
    make_runs(cfg, env, [1.0, 2.0, 3.0])
    first = services.refresh_entry(cfg.pk, env.pk)
    second = services.refresh_entry(cfg.pk, env.pk)
    assert LeaderboardEntry.objects.count() == 1
    assert (first.score_mean, first.ci_low, first.ci_high) == (second.score_mean, second.ci_low, second.ci_high)


def test_it_marks_entries_below_min_seeds_provisional(make_env, make_config, make_runs) -> None:
    env = make_env(min_seeds=3)
    full, short = make_config(), make_config()
    make_runs(full, env, [5.0, 6.0, 7.0])
    make_runs(short, env, [50.0, 60.0])
    services.refresh_entry(full.pk, env.pk)
    entry = services.refresh_entry(short.pk, env.pk)
    assert entry.provisional and entry.rank is None
    assert LeaderboardEntry.objects.get(config=full).rank == 1


def test_it_ties_overlapping_entries_on_refresh(make_env, make_config, make_runs) -> None:
    env = make_env(min_seeds=2)
    a, b, c = make_config(), make_config(), make_config()
    make_runs(a, env, [10.0, 14.0, 12.0])
    make_runs(b, env, [9.0, 13.0, 11.0])
    make_runs(c, env, [1.0, 1.5, 2.0])
    services.recompute_all()
    ranks = {e.config_id: (e.rank, e.tied) for e in LeaderboardEntry.objects.all()}
    assert ranks == {a.pk: (1, True), b.pk: (1, True), c.pk: (3, False)}


def test_it_deletes_an_entry_whose_runs_are_gone(make_env, make_config, make_runs) -> None:
    env, cfg = make_env(), make_config()
    runs = make_runs(cfg, env, [1.0])
    services.refresh_entry(cfg.pk, env.pk)
    Run.objects.filter(pk=runs[0].pk).update(status="failed")
    assert services.refresh_entry(cfg.pk, env.pk) is None
    assert not LeaderboardEntry.objects.exists()


def test_it_builds_board_figures(make_env, make_config, make_runs) -> None:
    env = make_env()
    for finals in ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]):
        make_runs(make_config(params={"max_kl": finals[0] / 100, "gae": "x<script>"}), env, finals)
    services.recompute_all()
    board = Board.objects.get(key=f"env-{env.pk}")
    assert set(board.figures) == {"curves", "scores", "sensitivity"}
    assert "<" not in board.figures["sensitivity"]
    fig = json.loads(board.figures["curves"])
    assert len(fig["data"]) == 4  # band + mean line per entry


def test_a_board_of_one_config_has_no_sensitivity_chart_and_says_why(make_env, make_config, make_runs, client) -> None:
    env = make_env()
    make_runs(make_config(), env, [1.0, 2.0, 3.0])
    services.recompute_all()
    assert set(Board.objects.get(key=f"env-{env.pk}").figures) == {"curves", "scores"}
    page = client.get(f"/boards/{env.slug}/").content.decode()
    assert 'id="sensitivity-pending"' in page and 'id="chart-sensitivity"' not in page


def test_it_computes_the_overall_board(make_env, make_config, make_runs) -> None:
    e1, e2 = make_env(random_return=0, reference_return=10), make_env(random_return=-100, reference_return=0)
    default, better = make_config(is_default=True), make_config()
    make_runs(default, e1, [2.0, 3.0, 4.0])
    make_runs(default, e2, [-80.0, -70.0, -60.0])
    make_runs(better, e1, [8.0, 9.0, 10.0])
    make_runs(better, e2, [-20.0, -10.0, -30.0])
    services.recompute_all()
    rows = {r.config_id: r for r in OverallEntry.objects.all()}
    pooled = [0.8, 0.9, 1.0, 0.8, 0.9, 0.7]
    assert rows[better.pk].iqm == pytest.approx(scipy.stats.trim_mean(pooled, 0.25))
    assert rows[better.pk].poi == pytest.approx(1.0) and rows[better.pk].poi_n_envs == 2
    assert rows[default.pk].poi is None
    assert rows[better.pk].rank == 1 and rows[default.pk].rank == 2
    assert rows[better.pk].n_envs == 2 and rows[better.pk].n_runs == 6
    assert "profile" in Board.objects.get(key="overall").figures


def test_it_leaves_configs_missing_an_environment_unranked_overall(make_env, make_config, make_runs) -> None:
    e1, e2 = make_env(), make_env()
    both, one = make_config(), make_config()
    make_runs(both, e1, [50.0, 60.0, 70.0])
    make_runs(both, e2, [50.0, 60.0, 70.0])
    make_runs(one, e1, [90.0, 95.0, 99.0])
    services.recompute_all()
    assert OverallEntry.objects.get(config=one).provisional
    assert OverallEntry.objects.get(config=one).rank is None
    assert OverallEntry.objects.get(config=both).rank == 1


def test_it_refreshes_when_a_run_finishes(make_env, make_config, make_runs, django_capture_on_commit_callbacks):
    env, cfg = make_env(), make_config()
    (run,) = make_runs(cfg, env, [42.0])
    with django_capture_on_commit_callbacks(execute=True):
        run_finished.send(sender=Run, run=run)
    entry = LeaderboardEntry.objects.get(config=cfg, environment=env)
    assert entry.score_mean == 42.0 and entry.provisional
    # A failed or cancelled run cannot change a board: nothing is recomputed (a cancel from the web request
    # rebuilt every board of the pair inside it).
    (failed,) = make_runs(cfg, env, [1.0], first_seed=5)
    Run.objects.filter(pk=failed.pk).update(status="cancelled")
    failed.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run_finished.send(sender=Run, run=failed)
    assert callbacks == []


def test_it_bounds_the_queries_of_a_refresh(make_env, make_config, make_runs) -> None:
    def queries_for(n_configs: int) -> int:
        env = make_env()
        configs = [make_config() for _ in range(n_configs)]
        for cfg in configs:
            make_runs(cfg, env, [1.0, 2.0, 3.0, 4.0])
            services.refresh_entry(cfg.pk, env.pk)
        with CaptureQueriesContext(connection) as ctx:
            services.refresh_entry(configs[0].pk, env.pk)
        return len(ctx)

    small, large = queries_for(2), queries_for(8)
    assert small == large <= 40  # savepoints included; no query per entry or per run


def test_it_recomputes_everything_from_the_command(make_env, make_config, make_runs, capsys) -> None:
    env, cfg = make_env(), make_config()
    make_runs(cfg, env, [1.0, 2.0, 3.0])
    LeaderboardEntry.objects.all().delete()
    call_command("recompute_leaderboard")
    assert LeaderboardEntry.objects.count() == 1
    assert "recomputed 1 entries" in capsys.readouterr().out


def test_it_counts_a_reproduced_seed_once(make_env, make_config, make_runs) -> None:
    env, cfg = make_env(), make_config()
    make_runs(cfg, env, [1.0, 2.0, 3.0])
    make_runs(cfg, env, [50.0], first_seed=1)  # a reproduction of seed 1
    entry = services.refresh_entry(cfg.pk, env.pk)
    assert entry.n_seeds == 3 and entry.seeds == [0, 1, 2] and entry.final_scores == [1.0, 2.0, 3.0]


def test_it_ignores_runs_without_a_finite_final_score(make_env, make_config, make_runs) -> None:
    env, cfg = make_env(), make_config()
    runs = make_runs(cfg, env, [1.0, 2.0, 3.0])
    Run.objects.filter(pk=runs[0].pk).update(final_return_mean=float("nan"))
    entry = services.refresh_entry(cfg.pk, env.pk)
    assert entry.seeds == [1, 2] and entry.score_mean == pytest.approx(2.5)


def test_iqm_and_auc_describe_every_seed_or_fall_back(make_env, make_config, make_runs) -> None:
    """A run without evaluation episodes or metrics (an old row) is not silently left out of the IQM or the AUC."""
    env, cfg = make_env(budget_steps=1000), make_config()
    runs = make_runs(cfg, env, [10.0, 20.0, 30.0])
    Run.objects.filter(pk=runs[2].pk).update(eval_returns=[])
    runs[2].metrics.all().delete()
    entry = services.refresh_entry(cfg.pk, env.pk)
    assert entry.n_seeds == 3
    assert entry.iqm == pytest.approx(scipy.stats.trim_mean([10.0, 20.0, 30.0], 0.25)), "the runs' final means"
    assert entry.iqm != pytest.approx(scipy.stats.trim_mean([9, 10, 10, 11, 19, 20, 20, 21], 0.25)), "not 2 of 3"
    assert entry.auc is None, "an AUC of two seeds would sit beside a score of three"


def test_it_refreshes_when_a_run_is_deleted(make_env, make_config, make_runs, django_capture_on_commit_callbacks):
    env, cfg = make_env(), make_config()
    runs = make_runs(cfg, env, [1.0, 2.0])
    services.refresh_entry(cfg.pk, env.pk)
    with django_capture_on_commit_callbacks(execute=True):
        runs[1].delete()  # post_delete sends run_deleted
    assert LeaderboardEntry.objects.get(config=cfg, environment=env).seeds == [0]


def test_an_entry_curve_counts_the_seeds_it_is_drawn_from(make_env, make_config, make_runs) -> None:
    env, cfg = make_env(budget_steps=1000), make_config()
    make_runs(cfg, env, [10.0, 20.0])
    make_runs(cfg, env, [30.0], curves=False, first_seed=2)  # a run whose metrics were never written
    entry = services.refresh_entry(cfg.pk, env.pk)
    assert (entry.n_seeds, entry.curve["seeds"]) == (3, 2)
    assert entry.auc is None, "an AUC over two of three seeds would describe other seeds than the score"


def test_an_edit_of_an_environment_rebuilds_its_boards(
    make_env, make_config, make_runs, django_capture_on_commit_callbacks, control_queue
) -> None:
    """The edit sends one message to the control queue; what that message runs rebuilds the boards (a real control
    worker doing it is in test_lb_refresh_task.py)."""
    env, cfg = make_env(min_seeds=3, reference_return=100.0), make_config()
    make_runs(cfg, env, [40.0, 50.0])
    services.refresh_entry(cfg.pk, env.pk)
    assert LeaderboardEntry.objects.get(config=cfg, environment=env).provisional
    assert not OverallEntry.objects.filter(config=cfg).exists(), "a provisional entry is not in the overall board"
    # An admin lowers the seeds needed and corrects the reference return; no run changes.
    env.min_seeds, env.reference_return = 2, 50.0
    with django_capture_on_commit_callbacks(execute=True):
        env.save()
    assert LeaderboardEntry.objects.get(config=cfg, environment=env).provisional, "not rebuilt in the request"
    assert control_queue() == [(tasks.TASK_NAME, [env.pk])]
    tasks.refresh_environment_boards(env.pk)
    entry = LeaderboardEntry.objects.get(config=cfg, environment=env)
    assert (entry.provisional, entry.rank) == (False, 1)
    expected = stats.stratified_iqm([stats.normalize([40.0, 50.0], 0.0, 50.0)]).value
    assert OverallEntry.objects.get(config=cfg).iqm == pytest.approx(expected) and expected == pytest.approx(0.9)


def test_a_new_default_config_rebuilds_the_overall_board(
    make_env, make_config, make_runs, django_capture_on_commit_callbacks, control_queue
) -> None:
    """Every P(improvement) on the overall board is against the default: they went stale until a run finished."""
    env = make_env(min_seeds=2)
    first, second = make_config(is_default=True), make_config()
    make_runs(first, env, [40.0, 50.0])
    make_runs(second, env, [60.0, 70.0])
    services.recompute_all()
    assert OverallEntry.objects.get(config=first).poi is None and OverallEntry.objects.get(config=second).poi == 1.0
    with django_capture_on_commit_callbacks(execute=True):
        first.is_default = False
        first.save()
        second.is_default = True
        second.save()
        second.description = "no change of default"
        second.save()
    assert control_queue() == [(tasks.OVERALL_TASK_NAME, []), (tasks.OVERALL_TASK_NAME, [])]
    tasks.refresh_overall_board()
    assert OverallEntry.objects.get(config=second).poi is None and OverallEntry.objects.get(config=first).poi == 0.0


def test_load_catalog_restoring_the_default_rebuilds_the_overall_board(
    make_config, django_capture_on_commit_callbacks, control_queue
) -> None:
    """``load_catalog`` (every start of run.sh and docker/web.sh) puts ``trpo-default`` back as the default; with
    queryset updates no signal fired, and every P(beats default) stayed against the config it replaced."""
    from web.catalog.loader import load_default_config

    restored = load_default_config()
    other = make_config(is_default=False)
    with django_capture_on_commit_callbacks(execute=True):
        restored.is_default, other.is_default = False, True
        restored.save()
        other.save()
    control_queue()  # drop the messages of the admin-style switch above
    with django_capture_on_commit_callbacks(execute=True):
        assert load_default_config().pk == restored.pk
    assert TrainerConfig.objects.get(is_default=True).pk == restored.pk
    assert tasks.OVERALL_TASK_NAME in [name for name, _ in control_queue()]


def test_an_edit_that_no_board_reads_rebuilds_nothing(
    make_env, make_config, make_runs, django_capture_on_commit_callbacks
) -> None:
    """A description or source edit keeps the admin's request cheap: the boards do not read those fields."""
    env, cfg = make_env(), make_config()
    make_runs(cfg, env, [40.0, 50.0])
    env.description, env.reference_source = "A new description.", "rl-zoo, single run"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        env.save()
    assert callbacks == []
    env.random_return += 1.0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        env.save()
    assert len(callbacks) == 1


def test_an_environment_off_the_overall_board_neither_scores_nor_unranks_anyone(
    make_env, make_config, make_runs, django_capture_on_commit_callbacks, control_queue
) -> None:
    """Anyone signed in may register an environment: one with a single run must not make every config that
    lacks it provisional on the overall board, nor feed it a score scale staff never looked at."""
    curated, registered = make_env(), make_env(counts_overall=False, min_seeds=1, random_return=0.0)
    both, mine = make_config(), make_config()
    make_runs(both, curated, [50.0, 60.0, 70.0])
    make_runs(mine, registered, [99.0])
    services.recompute_all()
    assert LeaderboardEntry.objects.get(config=mine, environment=registered).rank == 1, "it has its own board"
    assert list(OverallEntry.objects.values_list("config_id", "rank", "n_envs")) == [(both.pk, 1, 1)]
    registered.counts_overall = True  # staff include it: the control worker rebuilds the overall board
    with django_capture_on_commit_callbacks(execute=True):
        registered.save()
    assert control_queue() == [(tasks.TASK_NAME, [registered.pk])]
    tasks.refresh_environment_boards(registered.pk)
    rows = {r.config_id: r for r in OverallEntry.objects.all()}
    assert rows[both.pk].provisional and rows[mine.pk].provisional, "neither is confirmed on both environments now"


@pytest.mark.django_db(transaction=True)
def test_concurrent_overall_refreshes_take_turns(make_env, make_config, make_runs) -> None:
    """refresh_overall reads, computes and writes under the overall board's row lock. Here one transaction holds
    that lock while a second config's entry lands; a refresh started meanwhile must wait and then count it (without
    the lock it read the scores at once and wrote a board missing that entry)."""
    import threading
    import time

    from django.db import connections, transaction

    env, first, second = make_env(min_seeds=3), make_config(), make_config()
    make_runs(first, env, [50.0, 60.0, 70.0])
    services.recompute_all()
    locked = threading.Event()

    def land_an_entry_under_the_lock() -> None:
        try:
            with transaction.atomic():
                Board.objects.select_for_update().get(key="overall")
                locked.set()
                time.sleep(0.5)  # the refresh starts meanwhile
                make_runs(second, env, [80.0, 90.0, 95.0], first_seed=10)
                services.refresh_entry(second.pk, env.pk, overall=False)
        finally:
            connections.close_all()

    def refresh() -> None:
        try:
            locked.wait(10)
            services.refresh_overall()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=land_an_entry_under_the_lock), threading.Thread(target=refresh)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert set(OverallEntry.objects.values_list("config_id", flat=True)) == {first.pk, second.pk}


def test_any_deletion_of_runs_updates_the_boards(
    make_env, make_config, make_runs, owner, django_capture_on_commit_callbacks
) -> None:
    """The admin deletes a run, or a user with all their runs goes: the boards stop counting them (before, only the
    site's delete button told the leaderboard)."""
    env, cfg, other = make_env(min_seeds=2), make_config(), make_config()
    runs = make_runs(cfg, env, [40.0, 50.0, 60.0])
    make_runs(other, env, [10.0, 20.0])
    services.recompute_all()
    with django_capture_on_commit_callbacks(execute=True):
        runs[2].delete()  # what the admin's delete does
    assert LeaderboardEntry.objects.get(config=cfg, environment=env).seeds == [0, 1]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        owner.delete()  # every run of theirs goes by cascade: one signal per run, one refresh of all four pairs
    assert len(callbacks) == 1
    assert not LeaderboardEntry.objects.exists() and not OverallEntry.objects.exists()
