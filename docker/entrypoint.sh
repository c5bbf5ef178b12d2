#!/bin/sh
# Entry point of the symbreak image.
#   docker run IMAGE run gas-nve ...         -> symbreak run gas-nve ...   (any symbreak subcommand or option)
#   docker run IMAGE i-pi input.xml          -> runs that program (i-pi, lmp, python, bash, ...)
# Outputs owned by the calling user, either way:
#   docker run --user "$(id -u):$(id -g)" ...               (never runs as root), or
#   docker run -e HOST_UID="$(id -u)" -e HOST_GID="$(id -g)" ...  (starts as root, drops to that user)
set -e
if [ "$(id -u)" = 0 ] && [ -n "${HOST_UID:-}" ] && [ "${HOST_UID}" != 0 ]; then
    uid=$HOST_UID gid=${HOST_GID:-$HOST_UID}
    unset HOST_UID HOST_GID
    export HOME="/tmp/home-$uid"
    mkdir -p "$HOME" && chown "$uid:$gid" "$HOME"
    # a host folder that docker created for -v (root-owned and empty) is handed to that user
    if [ -d /out ] && [ "$(stat -c %u /out)" = 0 ] && [ -z "$(ls -A /out)" ]; then chown "$uid:$gid" /out; fi
    exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$0" "$@"
fi
# an arbitrary --user has no passwd entry and HOME=/: give it a writable home and caches
if [ -z "${HOME:-}" ] || [ "$HOME" = / ] || ! [ -w "$HOME" ]; then
    export HOME="/tmp/home-$(id -u)"
    mkdir -p "$HOME"
fi
if [ -z "${USER:-}" ]; then USER=$(id -un 2>/dev/null) || USER="user$(id -u)"; fi
LOGNAME="${LOGNAME:-$USER}"
export USER LOGNAME
export MPLCONFIGDIR="${MPLCONFIGDIR:-$HOME/.config/matplotlib}" XDG_CACHE_HOME="${XDG_CACHE_HOME:-$HOME/.cache}"
case "${1:-}" in
    ""|-*|run|serve|reference|study|label|build|dataset|train|evaluate) exec symbreak "$@" ;;
    *) exec "$@" ;;
esac
