#!/usr/bin/env bash
# Run Trustboard on this machine: one command, nothing but python3 needed.
#
#   scripts/run.sh
#
# Creates .venv (first time), installs the project (again only when pyproject.toml changes), migrates, loads the
# environment catalog and a demo account, starts a Celery training worker and a small control worker (reconciler,
# board rebuilds) in the background and the web server on http://127.0.0.1:8000. Ctrl-C stops all three.
#
# Embedded default: SQLite at var/trustboard.sqlite3 and kombu's filesystem broker under var/broker (no server).
# Set DATABASE_URL (postgres://...) and CELERY_BROKER_URL (redis://...) to use PostgreSQL and Redis instead.
# Other knobs: PORT (8000), HOST (127.0.0.1), DEMO_PASSWORD (trustboard-demo), WORKER_QUEUES (cpu, plus gpu when CUDA is available),
# PYTHON (python3), TORCH_SPEC (torch==2.13.0, the CPU build; set TORCH_SPEC="" where a GPU build is installed).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
DEMO_PASSWORD="${DEMO_PASSWORD:-trustboard-demo}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-web.settings.local}"

log() { printf '\033[1m[trustboard]\033[0m %s\n' "$*"; }

# --- 1. virtual environment and install (shared with scripts/test.sh; skipped when pyproject.toml is unchanged) ----
log "preparing .venv (the first run installs everything; later runs skip it)"
source scripts/bootstrap.sh
PY="$ROOT/.venv/bin/python"

# --- 2. database and catalog ---------------------------------------------------------------------------------------
log "migrating the database (${DATABASE_URL:-SQLite at var/trustboard.sqlite3})"
"$PY" manage.py migrate --noinput
"$PY" manage.py load_catalog --demo-password "$DEMO_PASSWORD"

# --- 3. worker in the background, stopped whenever this script exits -----------------------------------------------
mkdir -p var/log
if [ -z "${WORKER_QUEUES:-}" ]; then
    # On a CUDA machine the one local worker also takes the gpu queue, where configs with device "cuda" go.
    if "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
        WORKER_QUEUES="cpu,gpu"
    else
        WORKER_QUEUES="cpu"
    fi
fi
# Without a worker on the gpu queue, the site refuses runs routed there instead of queueing them forever.
case ",$WORKER_QUEUES," in
    *,gpu,*) export TRUSTBOARD_GPU_WORKERS="${TRUSTBOARD_GPU_WORKERS:-true}" ;;
    *) export TRUSTBOARD_GPU_WORKERS="${TRUSTBOARD_GPU_WORKERS:-false}" ;;
esac
log "starting a Celery worker on queue(s) $WORKER_QUEUES (${CELERY_BROKER_URL:-filesystem broker under var/broker}); log: var/log/worker.log"
"$PY" -m celery -A web worker -Q "$WORKER_QUEUES" -c 1 -l info -n "local-$$@%h" >var/log/worker.log 2>&1 &
WORKER_PID=$!
# The scheduler and the reconciler (docs/RELIABILITY.md) in a small worker of their own, on the control queue:
# behind a training run they would wait until it ends.
"$PY" -m celery -A web worker -B -Q control -c 1 -l info -n "control-$$@%h" >var/log/control.log 2>&1 &
CONTROL_PID=$!
WEB_PID=""
stop_all() {
    for pid in $WEB_PID $WORKER_PID $CONTROL_PID; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    log "stopped the web server and the workers"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# --- 4. web server; the script waits on all three and stops them all when one ends --------------------------------------------------------------------------------
cat <<EOF

  Trustboard is running:  http://$HOST:$PORT/
  Demo login:             demo / $DEMO_PASSWORD
  Worker log:             var/log/worker.log
  Stop with Ctrl-C.

EOF
"$PY" manage.py runserver --noreload "$HOST:$PORT" &
WEB_PID=$!
# Background children and `wait -n` let a signal to this script interrupt at once (bash defers traps while a
# foreground child runs); if any of the three dies, the others are stopped too.
wait -n "$WORKER_PID" "$CONTROL_PID" "$WEB_PID" || true
