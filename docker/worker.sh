#!/bin/sh
# A training worker, in a container or on any machine with the project installed.
#
# Queue: WORKER_QUEUES if set; otherwise "gpu" when torch sees CUDA here, else "cpu". Start as many workers, on
# as many machines, as you like: they only need the same DATABASE_URL, CELERY_BROKER_URL and storage.
set -eu
if [ -z "${WORKER_QUEUES:-}" ]; then
    if python -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
        WORKER_QUEUES=gpu
    else
        WORKER_QUEUES=cpu
    fi
fi
# One run at a time per worker (concurrency 1, prefetch 1): a run uses the cores torch_threads asks for, and
# a second queued run must stay free for another idle worker.
exec celery -A web worker \
    --queues "$WORKER_QUEUES" \
    --concurrency "${WORKER_CONCURRENCY:-1}" \
    --loglevel "${LOG_LEVEL:-info}" \
    --hostname "${WORKER_NAME:-$WORKER_QUEUES}@%h"
