"""Leaderboard speed benchmark: 10,000 runs of 200 updates in PostgreSQL, served by gunicorn, loaded by wrk.

What it does, in order:

1. creates (or reuses) a separate PostgreSQL database, ``trustboard_bench`` by default, and migrates it;
2. loads ``envs × configs × seeds`` finished runs (default 8 × 250 × 5 = 10,000) with ``updates`` metric rows
   each (default 200, so 2,000,000 RunMetric rows) through ``COPY``; synthetic but realistic learning curves;
3. rebuilds every board with ``leaderboard.services.recompute_all`` (what ``manage.py recompute_leaderboard``
   runs) and reports how long that took;
4. starts gunicorn (production settings, DEBUG off) on 127.0.0.1 and, for each leaderboard page, runs
   ``wrk`` with 32 connections and a Lua script that reports the 50th/95th/99th latency percentiles;
5. prints a Markdown table and writes it, with the command and the machine, into its section of
   ``BENCHMARKS.md`` (other sections are kept).

Usage (from the repository root; needs PostgreSQL on 127.0.0.1:5432 as ``postgres`` and ``wrk``)::

    python benchmarks/leaderboard_load.py                 # load if needed, recompute, measure
    python benchmarks/leaderboard_load.py --fresh         # drop and rebuild the benchmark database first
    python benchmarks/leaderboard_load.py --skip-recompute --duration 10

The target (issue 4): every leaderboard page answers in under 150 ms at the 95th percentile.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from markdown_sections import BENCHMARKS_MD, write_section  # beside this script

ROOT = Path(__file__).resolve().parents[1]
SECTION_HEADING = "## Leaderboard under load"
TARGET_P95_MS = 150.0
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p95_us": %d, '
    .. '"p99_us": %d, "max_us": %d}\\n',
    summary.requests, summary.duration, errors, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""
ENVS = [
    ("cartpole", "CartPole-v1", 9.0, 500.0),
    ("acrobot", "Acrobot-v1", -500.0, -80.0),
    ("pendulum", "Pendulum-v1", -1200.0, -150.0),
    ("mountaincar-cont", "MountainCarContinuous-v0", -30.0, 90.0),
    ("hopper", "Hopper-v4", 18.0, 3000.0),
    ("halfcheetah", "HalfCheetah-v4", -280.0, 2500.0),
    ("walker2d", "Walker2d-v4", 2.0, 3000.0),
    ("swimmer", "Swimmer-v4", 0.0, 120.0),
]


@dataclass(frozen=True)
class Result:
    name: str
    url: str
    target: bool
    requests: int
    rps: float
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="trustboard_bench", help="benchmark database (created if missing)")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the benchmark database")
    parser.add_argument("--envs", type=int, default=8, help=f"environments (at most {len(ENVS)})")
    parser.add_argument("--configs", type=int, default=250, help="configs, each run on every environment")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--updates", type=int, default=200, help="RunMetric rows per run")
    parser.add_argument("--skip-recompute", action="store_true", help="reuse the precomputed boards")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--connections", type=int, default=32, help="concurrent wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--duration", type=int, default=15, help="seconds per page")
    parser.add_argument("--no-write", action="store_true", help="do not write BENCHMARKS.md")
    return parser.parse_args()


def server_env(args: argparse.Namespace, static_root: str) -> dict[str, str]:
    """Production settings, as a deployment runs them, on loopback without TLS."""
    return {
        "DJANGO_SETTINGS_MODULE": "web.settings.production",
        "DATABASE_URL": f"{args.pg}/{args.db}",
        "SECRET_KEY": "benchmark-only-secret-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": static_root,
        "TRUSTBOARD_VAR_DIR": str(Path(static_root).parent / "var"),
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
    }


def ensure_database(args: argparse.Namespace) -> None:
    import psycopg

    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db]).fetchone()
        if exists and args.fresh:
            conn.execute(f'DROP DATABASE "{args.db}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{args.db}"')


def synthetic_curve(rng: np.random.Generator, quality: float, rnd: float, ref: float, steps: np.ndarray,
                    budget: int) -> np.ndarray:  # fmt: skip
    """A saturating learning curve from the random return towards ``quality`` × reference, with noise."""
    progress = 1.0 - np.exp(-4.0 * steps / budget)
    noise = rng.normal(0.0, 0.05, size=steps.shape)
    return rnd + (ref - rnd) * (quality * progress + noise)


def load_data(args: argparse.Namespace) -> None:
    """Bulk-create environments, configs and runs, then COPY the metric rows."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from trainer import TRPOConfig
    from web.catalog.models import Environment, TrainerConfig
    from web.runs.models import Run

    expected = args.envs * args.configs * args.seeds
    if Run.objects.count() == expected:
        print(f"data already loaded: {expected} runs")
        return
    if Run.objects.exists():
        sys.exit(f"{args.db} holds a different dataset; rerun with --fresh")
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    user = get_user_model().objects.create_user("bench", password="bench-password-1234")  # noqa: S106
    budget, batch = 200 * 2048, 2048
    envs = Environment.objects.bulk_create(
        Environment(
            slug=slug,
            gym_id=gym,
            budget_steps=budget,
            random_return=rnd,
            reference_return=ref,
            min_seeds=args.seeds,
            eval_episodes=10,
            counts_overall=True,
        )
        for slug, gym, rnd, ref in ENVS[: args.envs]
    )
    base = TRPOConfig().to_dict()
    configs = TrainerConfig.objects.bulk_create(
        TrainerConfig(
            name=f"trpo-{i:04d}",
            owner=user,
            is_default=(i == 0),
            params={
                **base,
                "max_kl": float(rng.choice([0.005, 0.01, 0.02, 0.05])),
                "gamma": float(rng.choice([0.98, 0.99, 0.995])),
                "gae_lambda": float(rng.choice([0.9, 0.95, 0.97])),
                "hidden_sizes": [int(rng.choice([32, 64, 128]))] * 2,
                "activation": str(rng.choice(["tanh", "relu"])),
            },
        )
        for i in range(args.configs)
    )
    steps = np.arange(1, args.updates + 1) * batch
    runs, curves = [], []
    for env in envs:
        for cfg in configs:
            quality = float(rng.uniform(0.2, 1.1))
            for seed in range(args.seeds):
                curve = synthetic_curve(rng, quality, env.random_return, env.reference_return, steps, budget)
                final = float(curve[-1])
                evals = (final + rng.normal(0, abs(env.reference_return - env.random_return) * 0.02, 10)).round(2)
                runs.append(Run(
                    config=cfg, environment=env, seed=seed, owner=user, status="succeeded",
                    total_steps=budget, steps_done=budget, updates_done=args.updates, progress=1.0,
                    final_return_mean=float(evals.mean()), final_return_std=float(evals.std()),
                    eval_returns=evals.tolist(), eval_lengths=[500] * 10, wall_clock_s=float(rng.uniform(300, 900)),
                    steps_per_s=float(rng.uniform(500, 1500)),
                ))  # fmt: skip
                curves.append(curve)
    with transaction.atomic():
        runs = Run.objects.bulk_create(runs, batch_size=2000)
    print(f"created {len(envs)} environments, {len(configs)} configs, {len(runs)} runs "
          f"in {time.perf_counter() - started:.1f}s")  # fmt: skip
    copy_metrics(connection, runs, curves, steps, rng)
    print(f"loaded {len(runs) * args.updates} metric rows in {time.perf_counter() - started:.1f}s")


def copy_metrics(connection, runs, curves, steps, rng) -> None:  # type: ignore[no-untyped-def]
    """COPY every update's metrics (the trainer's metric names) into runs_runmetric in text format."""
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cur, cur.copy("COPY runs_runmetric (run_id, update, steps, metrics) FROM STDIN") as copy:
        for run, curve in zip(runs, curves, strict=True):
            kl = rng.uniform(0.002, 0.012, size=len(steps))
            buf = io.StringIO()
            for u, (s, ret) in enumerate(zip(steps.tolist(), curve.tolist(), strict=True), start=1):
                metrics = {
                    "rollout/ep_return_mean": round(ret, 3), "rollout/ep_len_mean": 500.0,
                    "train/kl": round(float(kl[u - 1]), 5), "train/surrogate_gain": 0.01,
                    "train/expected_gain": 0.012, "train/line_search_steps": 0, "train/step_accepted": 1,
                    "train/cg_residual": 1e-8, "train/entropy": 1.2, "train/value_loss": 10.0,
                    "train/explained_variance": 0.9, "time/steps": s, "time/steps_per_s": 1000.0,
                    "time/update": u,
                }  # fmt: skip
                text = json.dumps(metrics).replace("\\", "\\\\")
                buf.write(f"{run.pk}\t{u}\t{s}\t{text}\n")
            copy.write(buf.getvalue())
    raw.commit()


def vacuum(args: argparse.Namespace) -> None:
    """VACUUM ANALYZE after the bulk load, as autovacuum eventually would: planner statistics and the
    visibility map (index-only counts) otherwise lag the freshly copied tables."""
    import psycopg

    with psycopg.connect(f"{args.pg}/{args.db}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def recompute() -> float:
    from leaderboard.services import recompute_all

    started = time.perf_counter()
    entries, overall = recompute_all()
    elapsed = time.perf_counter() - started
    print(f"recomputed {entries} entries and {overall} overall rows in {elapsed:.1f}s")
    return elapsed


def pages(args: argparse.Namespace) -> list[tuple[str, str, bool]]:
    """(name, path, whether the p95 target applies): every leaderboard page, its exports and its API, plus the
    run list of the API for reference (not a leaderboard page: it pages through every run, uncached)."""
    from leaderboard.models import LeaderboardEntry

    slug = ENVS[0][0]
    top = LeaderboardEntry.objects.filter(environment__slug=slug).order_by("rank", "-score_mean").first()
    if top is None:
        sys.exit("no entries: did the recompute run?")
    return [
        ("home (overall board)", "/", True),
        ("home sorted by P(improvement)", "/?sort=-poi", True),
        ("environment board", f"/boards/{slug}/", True),
        ("environment board, sorted, page 2", f"/boards/{slug}/?sort=-auc&page=2", True),
        ("entry page", f"/boards/{slug}/entries/{top.config_id}/", True),
        ("export CSV", f"/boards/{slug}/export.csv", True),
        ("export JSON (overall)", "/boards/overall.json", True),
        ("API leaderboard", f"/api/leaderboards/{slug}/", True),
        ("API runs list, page 3 (reference)", "/api/runs/?page=3", False),
    ]


def start_gunicorn(args: argparse.Namespace, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "gunicorn", "web.wsgi:application", "--workers", str(args.workers),
        "--bind", f"127.0.0.1:{args.port}", "--worker-class", "sync", "--backlog", "2048",
    ]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/api/", timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
        if proc.poll() is not None:
            break
    proc.terminate()
    sys.exit(f"gunicorn did not start:\n{log.read_text()}")


def run_wrk(args: argparse.Namespace, url: str, duration: int, script: Path) -> dict[str, float]:
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{duration}s",
               "--timeout", "10s", "-s", str(script), url]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    return json.loads(line.removeprefix("WRK_JSON "))


def measure(args: argparse.Namespace, targets: list[tuple[str, str, bool]]) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "percentiles.lua"
        script.write_text(WRK_SCRIPT)
        for name, path, target in targets:
            url = f"http://127.0.0.1:{args.port}{path}"
            run_wrk(args, url, 2, script)  # warm every worker's connection and fragment cache
            data = run_wrk(args, url, args.duration, script)
            results.append(Result(
                name=name, url=path, target=target, requests=int(data["requests"]),
                rps=data["requests"] / (data["duration_us"] / 1e6), errors=int(data["errors"]),
                p50_ms=data["p50_us"] / 1000, p95_ms=data["p95_us"] / 1000, p99_ms=data["p99_us"] / 1000,
            ))  # fmt: skip
            r = results[-1]
            print(f"{name:38s} p50 {r.p50_ms:7.1f} ms  p95 {r.p95_ms:7.1f} ms  p99 {r.p99_ms:7.1f} ms  "
                  f"{r.rps:7.1f} req/s  errors {r.errors}")  # fmt: skip
    return results


def table(results: list[Result]) -> str:
    lines = [
        "| page | URL | requests | req/s | p50 (ms) | p95 (ms) | p99 (ms) | errors | p95 < 150 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
    ]
    for r in results:
        ok = "yes" if r.p95_ms < TARGET_P95_MS and r.errors == 0 else "**no**"
        if not r.target:
            ok += " (reference)"
        lines.append(f"| {r.name} | `{r.url}` | {r.requests} | {r.rps:.0f} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | "
                     f"{r.p99_ms:.1f} | {r.errors} | {ok} |")  # fmt: skip
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPU cores ({cpu}), Python {platform.python_version()}"


def write_results(args: argparse.Namespace, results: list[Result], recompute_s: float | None, load: float) -> str:
    n_runs = args.envs * args.configs * args.seeds
    script = Path(sys.argv[0])
    script_name = str(script.relative_to(ROOT)) if script.is_absolute() else sys.argv[0]
    command = " ".join(["python", script_name, *sys.argv[1:]])
    recompute_line = f"{recompute_s:.1f} s" if recompute_s is not None else "not rerun (--skip-recompute)"
    text = f"""{SECTION_HEADING}

Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; PostgreSQL, wrk and gunicorn share the machine
(1-minute load average when the measurements started: {load:.2f}; other work on the machine adds to it).

- Data: {n_runs:,} finished runs ({args.envs} environments × {args.configs} configs × {args.seeds} seeds) with
  {args.updates} updates each ({n_runs * args.updates:,} `RunMetric` rows), database `{args.db}`.
- Full recompute (`recompute_all`, as `manage.py recompute_leaderboard`): {recompute_line}.
- Server: gunicorn, {args.workers} sync workers, `web.settings.production` (DEBUG off) on 127.0.0.1.
- Load: wrk, {args.connections} connections, {args.threads} threads, {args.duration} s per page after a 2 s warm-up;
  percentiles from wrk's latency histogram (Lua `done` hook). Target: p95 < {TARGET_P95_MS:.0f} ms.

Command (from the repository root):

```
{command}
```

{table(results)}
"""
    if not args.no_write:
        write_section(BENCHMARKS_MD, SECTION_HEADING, text)
        print(f"wrote its section of {BENCHMARKS_MD.relative_to(ROOT)}")
    return text


def main() -> None:
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    if not 1 <= args.envs <= len(ENVS):
        sys.exit(f"--envs must be between 1 and {len(ENVS)}")
    ensure_database(args)
    with tempfile.TemporaryDirectory(prefix="lb-bench-") as tmp:
        env = server_env(args, str(Path(tmp) / "static"))
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        load_data(args)
        vacuum(args)
        recompute_s = None if args.skip_recompute else recompute()
        vacuum(args)
        targets = pages(args)
        from django.db import connections

        connections.close_all()
        log = Path(tmp) / "gunicorn.log"
        server = start_gunicorn(args, env, log)
        load = os.getloadavg()[0]
        try:
            results = measure(args, targets)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print()
    print(table(results))
    write_results(args, results, recompute_s, load)
    judged = [r for r in results if r.target]
    worst = max(r.p95_ms for r in judged)
    print(f"\nworst p95 of the leaderboard pages: {worst:.1f} ms (target < {TARGET_P95_MS:.0f} ms)")
    if not math.isfinite(worst) or worst >= TARGET_P95_MS or any(r.errors for r in judged):
        sys.exit(1)


if __name__ == "__main__":
    main()
