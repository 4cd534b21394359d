#!/usr/bin/env bash
# Run every test: unit, provider (against moto server and the CAS/SCM emulators on loopback) and end to
# end (the real pulumi CLI). Sets up .venv and the Pulumi CLI first; the tests start their own servers.
# Extra arguments go to pytest, e.g. `scripts/test.sh tests/unit -k names`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PULUMI_BIN="$(bash scripts/setup.sh | tail -n 1)"
source scripts/env.sh
export CERTFLEET_PULUMI_BIN="$PULUMI_BIN"
exec python -m pytest "$@"
