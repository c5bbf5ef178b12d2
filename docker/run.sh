#!/usr/bin/env bash
# Run symbreak in its image with a host folder mounted at /out, as the calling user.
#   docker/run.sh run gas-nve --strategy legendre:2:i --steps 200 --out /out/gas
#   docker/run.sh study --quick --out /out/study
#   OUT=/data/runs docker/run.sh run liquid-nvt --potential toy --steps 100 --out /out/liq
#   docker/run.sh i-pi --help            # any program in the image (i-pi, lmp, python, bash)
# Environment: IMAGE (default symbreak:latest), OUT (host folder for /out, default ./out, created
# if missing), DOCKER_RUN_ARGS (extra `docker run` options, e.g. "--network symbreak -p 31415:31415").
# Relative --out paths land in /out too (the image's working directory).
set -euo pipefail
IMAGE=${IMAGE:-symbreak:latest}
OUT=${OUT:-$PWD/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
tty=()
if [ -t 0 ] && [ -t 1 ]; then tty=(-it); fi
# shellcheck disable=SC2086
exec docker run --rm --init "${tty[@]}" --user "$(id -u):$(id -g)" -v "$OUT:/out" ${DOCKER_RUN_ARGS:-} "$IMAGE" "$@"
