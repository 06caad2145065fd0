#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what it needs, starts PostgreSQL and Redis if they are
# down, installs headless Chromium for the browser tests, lints, then runs pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
source scripts/services.sh

ruff check .
mypy trainer
python -m pytest "$@"
