#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what it needs, starts PostgreSQL and Redis if they are
# down, installs headless Chromium for the browser tests, lints, then runs pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
source scripts/services.sh

export TRUSTBOARD_REQUIRE_BROWSER=1  # browser tests fail, not skip, without Chromium

ruff check .
mypy trainer
status=0
python -m pytest "$@" || status=$?
# pytest exits 5 when it collected nothing (a typo in a path or -k): never let that pass for a green run.
[ "$status" != 5 ] || echo "pytest ran no tests (exit 5): check the arguments; this counts as a failure" >&2
exit "$status"
