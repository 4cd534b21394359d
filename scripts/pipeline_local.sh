#!/usr/bin/env bash
# The pipeline end to end on this machine: preview -> summary -> policy check -> up with the state on S3 (the
# local AWS emulator's) -> drift check, then a second, concurrent `up` refused by the lock. Fresh temp dir
# and free ports each run; nothing of .local/ or your own Pulumi login is touched. docs/pipelines.md.
#
#   scripts/pipeline_local.sh [--keep] [--result FILE]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ -z "${CERTFLEET_PULUMI_BIN:-}" ] || [ ! -x .venv/bin/python ]; then
    CERTFLEET_PULUMI_BIN="$(bash scripts/setup.sh | tail -n 1)"   # .venv and the Pulumi CLI, once per machine
fi
export CERTFLEET_PULUMI_BIN
exec .venv/bin/python -m scripts.pipeline_local "$@"
