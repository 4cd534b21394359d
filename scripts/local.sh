#!/usr/bin/env bash
# The main job on the local default: the `local` stack (stacks/Pulumi.local.yaml) against servers on
# loopback that stand in for the clouds, with a file state backend in .local/ (ignored by git).
#
#   scripts/local.sh [up]        set up, start the servers, `pulumi up`, print the certificate report
#   scripts/local.sh up --refresh    ... any extra arguments go to pulumi
#   scripts/local.sh preview | refresh | destroy
#   scripts/local.sh publish     publish the FILE challenges (and SCM e-mail approvals) on the emulators; DNS
#                               challenges are written and validated automatically (dns blocks)
#   scripts/local.sh report [--json] [--expiring-within DAYS]   print the report of the last run
#   scripts/local.sh status      are the local servers running?
#   scripts/local.sh clock advance DAYS   move every emulator's clock DAYS forward (into a renewal window); later
#                               commands run certfleet with CERTFLEET_CLOCK_OFFSET_SECONDS to match
#   scripts/local.sh clock show  the emulators' clocks and the offset certfleet runs with
#   scripts/local.sh stop        stop the servers and forget the local state with them
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
command="${1:-up}"; shift || true

case "$command" in
    stop|status) exec python3 scripts/local_servers.py "$command" ;;
    clock) exec python3 scripts/local_servers.py clock "$@" ;;
esac

PULUMI_BIN="$(bash scripts/setup.sh | tail -n 1)"
source scripts/env.sh
# Isolated from the user's own Pulumi login and plugins; the passphrase protects local secrets only.
export PULUMI_HOME="$ROOT/.local/pulumi-home"
export PULUMI_BACKEND_URL="file://$ROOT/.local/state"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-certfleet-local}"
unset AWS_PROFILE AWS_SESSION_TOKEN
eval "$(python scripts/local_servers.py start)"
mkdir -p .local/state
# CERTFLEET_STACK picks another stack file of stacks/ to run against the same servers (README, "Moving to
# certfleet"); the default is the `local` stack.
pulumi stack select "${CERTFLEET_STACK:-local}" --create --non-interactive >/dev/null

case "$command" in
    up)      pulumi up --yes --non-interactive --skip-preview --suppress-outputs "$@"; python scripts/report.py ;;
    preview) pulumi preview --non-interactive --diff "$@" ;;
    refresh) pulumi refresh --yes --non-interactive "$@"; python scripts/report.py ;;
    destroy) pulumi destroy --yes --non-interactive "$@" ;;
    report)  python scripts/report.py "$@" ;;  # --json, --expiring-within DAYS (exits 12/13 for CI alerting)
    publish) pulumi stack output --json | python scripts/local_servers.py publish ;;
    *) echo "unknown command '$command' (up, preview, refresh, destroy, publish, report, status, clock, stop)" >&2; exit 2 ;;
esac
