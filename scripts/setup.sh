#!/usr/bin/env bash
# Prepare a machine for certfleet: the .venv with pinned requirements, and a Pulumi CLI (built once and
# cached outside the clone; see bootstrap-pulumi.sh). Idempotent and quiet when there is nothing to do.
# Prints the Pulumi bin directory as the last line of stdout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '[setup] %s\n' "$*" >&2; }

PYTHON="${CERTFLEET_PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
    log "ERROR: certfleet needs Python >= 3.10 ('$PYTHON' is $("$PYTHON" --version 2>&1 || echo missing))"
    exit 1
fi
want="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
if [ -L .venv ] && [ "$(cat .venv/.certfleet-requirements 2>/dev/null)" != "$want" ]; then
    rm .venv   # linked to the shared environment of other requirements: link the one of these instead
fi
if [ ! -e .venv ] && [ ! -L .venv ]; then
    # A fresh clone (CI, a second checkout) links .venv to one environment per Python version and requirements,
    # made once per machine outside the clone like the Pulumi CLI: it saves each clone a minute of installing.
    # Made in place under a lock (console scripts name their environment's path); the stamp, written last,
    # says it is complete.
    version="$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
    cache="${CERTFLEET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/certfleet}"   # as bootstrap-pulumi.sh
    shared="$cache/venv-py$version-${want:0:16}"
    mkdir -p "$cache"
    (
        flock 9
        if [ "$(cat "$shared/.certfleet-requirements" 2>/dev/null)" != "$want" ]; then
            log "creating the shared environment $shared with $("$PYTHON" --version)"
            rm -rf "$shared"
            "$PYTHON" -m venv "$shared"
            "$shared/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt >&2
            echo "$want" > "$shared/.certfleet-requirements"
        fi
    ) 9> "$shared.lock"
    ln -s "$shared" .venv
fi
if [ ! -x .venv/bin/python ]; then
    log "creating .venv with $("$PYTHON" --version)"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.certfleet-requirements
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing pinned requirements into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt >&2
    echo "$want" > "$stamp"
fi
bash scripts/bootstrap-pulumi.sh
