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
if [ ! -x .venv/bin/python ]; then
    log "creating .venv with $("$PYTHON" --version)"
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.certfleet-requirements
want="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing pinned requirements into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt >&2
    echo "$want" > "$stamp"
fi
bash scripts/bootstrap-pulumi.sh
