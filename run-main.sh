#!/usr/bin/env bash
# Install (if needed) and run the main job: the symmetry study on the shipped model, small sizes.
#   bash run-main.sh [symbreak study options, e.g. --out study --potential toy]
set -euo pipefail
cd "$(dirname "$0")"
bash install.sh
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
exec .venv/bin/symbreak study --quick "$@"
