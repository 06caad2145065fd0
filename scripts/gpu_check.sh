#!/usr/bin/env bash
# The checks that need a CUDA GPU, in one script for a machine that has one (CI never does; there they skip).
#
#   bash scripts/gpu_check.sh                 # in a checkout with the dev extras installed (not the docker image,
#                                             # which holds neither tests/ nor pytest)
#   WHEELS=.whl bash scripts/gpu_check.sh     # on a bare GPU machine: install carried wheels into /tmp/site first
#       (WHEELS: wheels for that machine's Python of what its image lacks, made elsewhere with `pip download
#       --no-deps --only-binary=:all: --python-version 3.12 ...`: gymnasium, mujoco, Django, Celery, pytest-django, ...)
#
# 1. the GPU tests (pytest -m gpu): the trainer on CUDA with a checkpoint that loads on CPU, `device="auto"` picking
#    the GPU, and the product end to end on its embedded defaults with a `cuda` config routed to a `gpu`-queue worker;
#    a skipped GPU test counts as a failure here, since this script exists to run them;
# 2. benchmarks/device_throughput.py: CPU vs GPU seconds per update, written to $OUT/BENCHMARKS-gpu.md.
# Logs go to $OUT (default var/gpu-check). Every step runs even if an earlier one failed; the exit status says
# whether all passed.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-var/gpu-check}"
PY="${PYTHON:-python3}"
mkdir -p "$OUT"
status=0

if [ -n "${WHEELS:-}" ]; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl \
        || { echo "installing the wheels in $WHEELS failed"; exit 1; }
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi

nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1 || echo "nvidia-smi failed (see $OUT/nvidia-smi.txt)"
"$PY" - <<'EOF' 2>&1 | tee "$OUT/versions.txt"
import platform, torch, gymnasium, numpy
cuda = torch.cuda.is_available()
print(f"python {platform.python_version()} torch {torch.__version__} gymnasium {gymnasium.__version__} numpy {numpy.__version__}")
print(f"cuda available: {cuda}" + (f"; device: {torch.cuda.get_device_name(0)}; CUDA {torch.version.cuda}" if cuda else ""))
EOF
"$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" || { echo "FAIL: torch sees no CUDA device"; status=1; }

echo "== GPU tests"
timeout 420 "$PY" -m pytest -p no:cacheprovider -q -rA -m gpu tests/trainer/test_gpu.py tests/web/test_e2e_embedded.py \
    2>&1 | tee "$OUT/pytest-gpu.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "FAIL: GPU tests"; status=1; }
if grep -q "^SKIPPED" "$OUT/pytest-gpu.log"; then echo "FAIL: a GPU test was skipped"; status=1; fi

echo "== CPU vs GPU throughput"
timeout 480 "$PY" benchmarks/device_throughput.py ${THROUGHPUT_ARGS:---cpu-threads 1 8} --out "$OUT/BENCHMARKS-gpu.md" \
    2>&1 | tee "$OUT/throughput.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "FAIL: throughput benchmark"; status=1; }

echo "gpu_check: $([ $status -eq 0 ] && echo all passed || echo FAILED)"
exit $status
