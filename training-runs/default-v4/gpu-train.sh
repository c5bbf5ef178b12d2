#!/usr/bin/env bash
# On a lent GPU machine (the device tool; gpu-carry/ made by gpu-prepare.sh and carried): fine-tune from
# gpu-carry/start.pt with the recipe of attempt 3 (energy weight 300, consistency 1000) for MINUTES minutes;
# best.pt, last.pt and log.tsv come back in $OUT. Runs on CPU too (DEVICE=cpu), which is how it is tested.
#
#   MINUTES=7 bash training-runs/default-v4/gpu-train.sh                  # device: python3 with CUDA torch
#   DEVICE=cpu MINUTES=1 EPOCHS=1 PYTHON=.venv/bin/python OUT=/tmp/g bash training-runs/default-v4/gpu-train.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
CARRY=${CARRY:-gpu-carry}
PYTHON=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
MINUTES=${MINUTES:-7}
EPOCHS=${EPOCHS:-15}
OUT=${OUT:?set OUT (the device tool sets it)}
if ! "$PYTHON" -c "import ase" 2>/dev/null; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$CARRY"/ase-*.whl
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD/driver${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
# ASE reads .xyz.gz, but seeks through the stream frame by frame (minutes for 52 MB): unpack first
DATA=$(mktemp -d)
gzip -dc "$CARRY/train.xyz.gz" > "$DATA/train.xyz"
gzip -dc "$CARRY/valid.xyz.gz" > "$DATA/valid.xyz"
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
"$PYTHON" -m symbreak train --train "$DATA/train.xyz" --valid "$DATA/valid.xyz" --out "$OUT/run" \
    --device "$DEVICE" --max-minutes "$MINUTES" --init "$CARRY/start.pt" --epochs "$EPOCHS" --lr 5e-5 \
    --batch-size 4 --threads 4 --seed 6 --energy-weight 300 --consistency-weight 1000 --refit-baseline 2>&1 \
    | tee "$OUT/train.log"
rm -rf "$DATA"
