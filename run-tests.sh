#!/usr/bin/env bash
# Install (if needed) and run the test suite: bash run-tests.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")"
bash install.sh
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
exec .venv/bin/python -m pytest "$@"
