#!/usr/bin/env bash
# Creates .venv and installs Trustboard with its dev extras, once per pyproject.toml version.
# Sourced by scripts/run.sh and scripts/test.sh; needs only python3 (3.11+) on the machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "Trustboard needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version))" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp="$(sha256sum pyproject.toml | cut -c1-16)"
if [ "$(cat .venv/.installed 2>/dev/null)" != "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  # The CPU build of torch is pinned; a GPU image installs its own torch first and sets TORCH_SPEC="".
  if [ -n "${TORCH_SPEC-torch==2.13.0}" ]; then
    .venv/bin/python -m pip install -q "${TORCH_SPEC-torch==2.13.0}"
  fi
  .venv/bin/python -m pip install -q -e ".[dev]"
  echo "$stamp" > .venv/.installed
fi
export PATH="$PWD/.venv/bin:$PATH"
