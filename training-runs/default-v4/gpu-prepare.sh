#!/usr/bin/env bash
# Here, before a lent GPU machine is used: put what the device needs into gpu-carry/ (ignored by git; < 64 MiB).
#
#   DATA=/work/data4 START=training-runs/default-v4/run4/best.pt bash training-runs/default-v4/gpu-prepare.sh
#
# gpu-carry/ then holds train.xyz.gz (with DATA/minima.xyz when present) and valid.xyz.gz (the data made by
# train.sh, gzipped: ASE reads .gz),
# start.pt (the checkpoint the GPU run starts from) and the ASE wheel (the device's python3 has torch, numpy,
# scipy and matplotlib, not ASE). The device command is printed at the end; gpu-train.sh is what it runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-data4}
START=${START:-training-runs/default-v4/run4/best.pt}
CARRY=gpu-carry
for f in "$DATA/train.xyz" "$DATA/valid.xyz" "$START"; do
    [ -f "$f" ] || { echo "gpu-prepare: missing $f (make the data with train.sh first)" >&2; exit 2; }
done
mkdir -p "$CARRY"
# the polymorphs' 0 K structures join the training data when they exist (symbreak dataset -o DATA --minima):
# relaxed cells are where the polymorph ranking is asked, and MD frames do not pin the surface down there
# (and the same cells relaxed on a model's surface, symbreak dataset -o DATA --minima --minima-model M, when present)
extra=()
[ -f "$DATA/minima.xyz" ] && extra=("$DATA/minima.xyz") || echo "gpu-prepare: no $DATA/minima.xyz: MD frames only" >&2
[ -f "$DATA/model-minima.xyz" ] && extra+=("$DATA/model-minima.xyz")
cat "$DATA/train.xyz" "${extra[@]}" | gzip -c > "$CARRY/train.xyz.gz"
gzip -c "$DATA/valid.xyz" > "$CARRY/valid.xyz.gz"
cp "$START" "$CARRY/start.pt"
ase_version=$(.venv/bin/python -c "import ase; print(ase.__version__)")
rm -f "$CARRY"/*.whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_17_x86_64 -d "$CARRY" "ase==$ase_version"
du -sh "$CARRY"
echo "device command (run tool, carry [\"$CARRY\"], timeout_s 600):"
echo "  MINUTES=7 bash training-runs/default-v4/gpu-train.sh"
