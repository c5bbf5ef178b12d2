#!/usr/bin/env bash
# CI step: build the symbreak image and run short cases in it.
#   bash docker/ci.sh
# 1. makes sure a Docker daemon answers (as root: installs docker.io with apt-get if missing and
#    starts `dockerd` in the background with default flags; waits at most DOCKERD_WAIT s, default 60)
# 2. builds the image (docker/build.sh; cached: a few seconds when nothing changed)
# 3. runs gas-nve (toy, 2i, 20 steps) as a non-root user (--user) and checks i-PI's outputs and
#    their owner
# 4. runs `study $STUDY_ARGS --out /out/study` (HOST_UID/HOST_GID path) and checks summary.json
# 5. runs i-PI and two `symbreak serve` containers connected over TCP on a user-defined network
# Outputs stay in docker/.ci-out/ (ignored by git; emptied at the start of each run); the
# containers and the network it starts are removed on exit, the daemon is left running.
# Exit codes: 0 passed; 1 a step failed (the message names it); 3 Docker cannot run on this
# machine (no docker command or no daemon can be started): the caller may skip this step.
# Environment: IMAGE (default symbreak:latest), SYMBREAK_CI_UID/SYMBREAK_CI_GID (the user the
# containers run as when this script runs as root; default 1000, so that the non-root path is
# tested), STEP_TIMEOUT (seconds per container step, default 600), STUDY_ARGS (the study's
# options, default "--potential toy --parts gas --scale 0.004").
set -uo pipefail
cd "$(dirname "$0")/.."
export IMAGE=${IMAGE:-symbreak:latest}
STEP_TIMEOUT=${STEP_TIMEOUT:-600}
STUDY_ARGS=${STUDY_ARGS:---potential toy --parts gas --scale 0.004}
DOCKERD_WAIT=${DOCKERD_WAIT:-60}
RUN_ID="ci$$"
NET="symbreak-ci-$RUN_ID"
OUT="$PWD/docker/.ci-out"
T0=$(date +%s)

say() { echo "docker/ci.sh [$(( $(date +%s) - T0 ))s]: $*"; }
fail() { echo "docker/ci.sh: FAILED: $*" >&2; exit 1; }
unavailable() { echo "docker/ci.sh: DOCKER UNAVAILABLE on this machine: $* (exit 3)" >&2; exit 3; }

cleanup() {
    local ids
    ids=$(docker ps -aq --filter "label=symbreak.ci=$RUN_ID" 2>/dev/null)
    if [ -n "$ids" ]; then
        say "removing containers $(echo $ids)"
        docker rm -f $ids >/dev/null 2>&1 || true
    fi
    docker network rm "$NET" >/dev/null 2>&1 || true
    # networks left by earlier runs that were killed (unused ones only)
    docker network prune -f --filter label=symbreak.ci >/dev/null 2>&1 || true
    # dangling images left by earlier builds of this image (ours only: they carry the label)
    docker image prune -f --filter label=org.symbreak.image=1 >/dev/null 2>&1 || true
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
    else return 126
    fi
}

# 1. Docker daemon ---------------------------------------------------------------------
if { ! command -v docker >/dev/null || ! command -v dockerd >/dev/null; } && ! docker info >/dev/null 2>&1; then
    command -v apt-get >/dev/null || unavailable "no docker command and no apt-get to install docker.io"
    say "installing docker.io with apt-get"
    { as_root apt-get install -y --no-install-recommends docker.io >/tmp/symbreak-ci-apt.log 2>&1 \
      || { as_root apt-get update >>/tmp/symbreak-ci-apt.log 2>&1 \
           && as_root apt-get install -y --no-install-recommends docker.io >>/tmp/symbreak-ci-apt.log 2>&1; }; } \
      || unavailable "cannot install docker.io (not root, or apt-get failed: /tmp/symbreak-ci-apt.log)"
fi
if docker info >/dev/null 2>&1; then
    say "Docker daemon is running ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
else
    command -v dockerd >/dev/null || unavailable "a docker client but no dockerd and no daemon answers"
    say "no Docker daemon answers: starting dockerd (log /tmp/symbreak-dockerd.log)"
    as_root sh -c 'nohup dockerd >/tmp/symbreak-dockerd.log 2>&1 &' \
        || unavailable "no daemon answers and starting dockerd needs root (or passwordless sudo)"
    waited=0
    until docker info >/dev/null 2>&1; do
        if [ "$waited" -ge "$DOCKERD_WAIT" ]; then
            tail -n 15 /tmp/symbreak-dockerd.log >&2 2>/dev/null
            unavailable "dockerd did not answer within ${DOCKERD_WAIT}s (see /tmp/symbreak-dockerd.log)"
        fi
        sleep 1; waited=$((waited + 1))
    done
    say "dockerd is up after ${waited}s"
fi
trap cleanup EXIT
cleanup

# 2. image -------------------------------------------------------------------------------
say "building $IMAGE"
t=$(date +%s)
docker/build.sh >/tmp/symbreak-ci-build.log 2>&1 || { tail -n 40 /tmp/symbreak-ci-build.log >&2; fail "image build (docker/build.sh; log /tmp/symbreak-ci-build.log)"; }
grep '^docker/build.sh:' /tmp/symbreak-ci-build.log | sed 's/^/    /'
say "image $IMAGE ready in $(( $(date +%s) - t ))s"

# the user the containers run as, and a clean output folder that user owns
if [ "$(id -u)" = 0 ]; then
    CUID=${SYMBREAK_CI_UID:-1000}; CGID=${SYMBREAK_CI_GID:-$CUID}
else
    CUID=$(id -u); CGID=$(id -g)
fi
rm -rf "$OUT" 2>/dev/null || as_root rm -rf "$OUT" || fail "cannot empty $OUT"
mkdir -p "$OUT" && { [ "$(id -u)" != 0 ] || chown "$CUID:$CGID" "$OUT"; } || fail "cannot create $OUT"
say "containers run as uid:gid $CUID:$CGID; outputs in $OUT"

crun() {  # crun NAME [docker run options] -- IMAGE ARGS: labelled, bounded, removed afterwards
    local name=$1; shift
    timeout "$STEP_TIMEOUT" docker run --rm --init --label "symbreak.ci=$RUN_ID" --name "symbreak-$RUN_ID-$name" "$@"
}
check_owner() {
    local bad
    bad=$(find "$1" \( ! -user "$CUID" -o ! -group "$CGID" \) -print | head -n 5)
    [ -z "$bad" ] || fail "files not owned by $CUID:$CGID: $bad"
}

# 3. one case ------------------------------------------------------------------------------
say "run gas-nve --potential toy --strategy 2i --steps 20 (docker run --user $CUID:$CGID)"
crun gas --user "$CUID:$CGID" -v "$OUT:/out" "$IMAGE" \
    run gas-nve --potential toy --strategy 2i --steps 20 --out /out/gas --quiet \
    || fail "symbreak run gas-nve in the container (exit $?)"
for f in input.xml manifest.json simulation.out simulation.positions_0.xyz simulation.forces_0.xyz simulation.extras_c0; do
    [ -s "$OUT/gas/$f" ] || fail "gas-nve: i-PI output $f missing or empty"
done
last=$(awk '!/^#/ && NF {s = $1} END {print s + 0}' "$OUT/gas/simulation.out")
[ "$last" = 20 ] || fail "gas-nve: simulation.out ends at step $last, not 20"
check_owner "$OUT/gas"
say "gas-nve ok: 20 steps, i-PI outputs present and owned by $CUID:$CGID"

# 4. the study (analysis) --------------------------------------------------------------------
say "study $STUDY_ARGS (docker run -e HOST_UID=$CUID -e HOST_GID=$CGID)"
crun study -e HOST_UID="$CUID" -e HOST_GID="$CGID" -v "$OUT:/out" "$IMAGE" \
    study $STUDY_ARGS --out /out/study \
    > "$OUT/study.log" 2>&1 || { tail -n 20 "$OUT/study.log" >&2; fail "symbreak study in the container"; }
[ -s "$OUT/study/summary.json" ] || fail "study: summary.json missing"
crun check -v "$OUT:/out:ro" "$IMAGE" python -c "import json; d = json.load(open('/out/study/summary.json')); assert d, 'empty'" \
    || fail "study: summary.json does not parse"
check_owner "$OUT/study"
say "study ok: summary.json written and owned by $CUID:$CGID"

# 5. i-PI and two servers in separate containers over TCP --------------------------------------
say "i-PI and 2 servers in 3 containers on network $NET over TCP"
docker network create --label "symbreak.ci=$RUN_ID" "$NET" >/dev/null || fail "docker network create $NET"
crun template --user "$CUID:$CGID" -v "$OUT:/out" "$IMAGE" \
    run gas-nve --potential toy --strategy 2i --steps 2 --transport inet --host 0.0.0.0 --no-reference --out /out/tcp-template --quiet \
    || fail "writing an inet input (symbreak run --transport inet)"
mkdir -p "$OUT/tcp" && cp "$OUT/tcp-template/input.xml" "$OUT/tcp-template/init.xyz" "$OUT/tcp/" || fail "copying the inet input"
sed -i -e 's|<port>[0-9]*</port>|<port>31415</port>|' -e 's|<total_steps>[0-9]*</total_steps>|<total_steps>40</total_steps>|' "$OUT/tcp/input.xml"
[ "$(id -u)" != 0 ] || chown -R "$CUID:$CGID" "$OUT/tcp"
docker run -d --rm --init --label "symbreak.ci=$RUN_ID" --name "symbreak-$RUN_ID-ipi" --network "$NET" --network-alias ipi \
    --user "$CUID:$CGID" -v "$OUT/tcp:/out" "$IMAGE" sh -c 'exec i-pi input.xml > ipi.log 2>&1' >/dev/null \
    || fail "starting the i-PI container"
pids=()
for k in 1 2; do
    crun "server$k" --network "$NET" --user "$CUID:$CGID" -v "$OUT/tcp:/out:ro" "$IMAGE" \
        serve --potential toy --strategy 2i --host ipi --port 31415 --structure /out/init.xyz --vacuum --quiet \
        > "$OUT/tcp-server$k.log" 2>&1 &
    pids+=($!)
done
status=$(timeout "$STEP_TIMEOUT" docker wait "symbreak-$RUN_ID-ipi") || fail "i-PI container did not finish in ${STEP_TIMEOUT}s"
for p in "${pids[@]}"; do wait "$p" || { cat "$OUT"/tcp-server*.log >&2; fail "a TCP server container failed"; }; done
[ "$status" = 0 ] || { tail -n 20 "$OUT/tcp/ipi.log" >&2; fail "i-PI container exited with $status"; }
last=$(awk '!/^#/ && NF {s = $1} END {print s + 0}' "$OUT/tcp/simulation.out" 2>/dev/null)
[ "$last" = 40 ] || fail "TCP run: simulation.out ends at step ${last:-?}, not 40"
check_owner "$OUT/tcp"
say "TCP ok: 40 steps served by 2 server containers"

say "PASSED in $(( $(date +%s) - T0 ))s (outputs in $OUT)"
