#!/usr/bin/env bash
# Run every test: unit, provider (against moto server and the CAS/SCM emulators on loopback) and end to
# end (the real pulumi CLI). Sets up .venv and the Pulumi CLI first; the tests start their own servers.
# Extra arguments go to pytest, e.g. `scripts/test.sh tests/unit -k names`. Tests run in parallel
# (pytest-xdist; CERTFLEET_TEST_WORKERS, default 4: most of a test's time is spent waiting on servers and the
# CLI; on 2 cores 3 workers kept the CPUs 58% busy, 14.7 min, and 4 took 12.2 min); `-n 0` runs them in one
# process. Each worker starts with its share of the tests marked `long` (tests/conftest.py). Tests that measure time
# (`@pytest.mark.serial`) run afterwards on their own, so that the others' load cannot make them fail.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PULUMI_BIN="$(bash scripts/setup.sh | tail -n 1)"
source scripts/env.sh
export CERTFLEET_PULUMI_BIN="$PULUMI_BIN"
# Phase 1: everything but the few tests that measure time (marked `serial`), in parallel.
# Phase 2: the `serial` tests alone, on a quiet machine. Exit 5 is pytest's "no test selected": fine for one
# phase (the arguments chose tests of the other), an error for both.
status=0
python -m pytest -n "${CERTFLEET_TEST_WORKERS:-4}" --dist worksteal -m "not serial" "$@" || status=$?
serial=0
python -m pytest -n 0 -m serial "$@" || serial=$?
if [ "$status" -eq 5 ] && [ "$serial" -eq 5 ]; then exit 5; fi
[ "$status" -eq 5 ] && status=0
[ "$serial" -eq 5 ] && serial=0
[ "$status" -ne 0 ] && exit "$status"
exit "$serial"
