#!/usr/bin/env bash
# certfleet's pipeline for any CI system. The GitHub workflows in .github/workflows run the same steps;
# scripts/pipeline_local.sh runs them against the local servers with state on (local) S3. docs/pipelines.md.
#
#   scripts/pipeline.sh STEP [--stack NAME]
#
#   preview  pulumi preview (JSON digest + event log, with the policy pack) -> markdown summary -> policy check
#   up       pulumi up with the policy pack, then the report; refused fast when another update holds the lock
#   drift    pulumi preview --refresh --expect-no-changes, then the expiry check
#   expiry   the expiry check only: no certificate in the stack outputs may expire within EXPIRY_DAYS
#   all      preview -> summary -> policy check -> up -> drift check
#
# Environment (the backend comes from `pulumi login` or PULUMI_BACKEND_URL, as for any pulumi command):
#   CERTFLEET_STACK              the stack (or --stack)
#   CERTFLEET_EXPIRY_DAYS        fail drift/expiry when a certificate expires within this many days (30)
#   CERTFLEET_POLICY_PACK        the policy pack directory (policy); its config is <pack>/config/<stack>.json
#   CERTFLEET_SECRETS_PROVIDER   used only when preview/up creates the stack, e.g. awskms://alias/certfleet-state
#   CERTFLEET_LOCK_RETRIES       up: how often to retry when another update holds the stack's lock (0), waiting
#   CERTFLEET_LOCK_WAIT_SECONDS  this long plus up to half as long again (jitter) before each retry (60); each
#                                retry runs the preview step (summary, policy check) again before its up
#   CERTFLEET_PIPELINE_OUT       where the step files go (.local/pipeline/<stack>): preview.json, events.jsonl,
#                                summary.md, up.log, drift.log, outputs.json
#   PULUMI_CONFIG_PASSPHRASE     for stacks under the passphrase secrets provider
#   GITHUB_STEP_SUMMARY          when set (GitHub Actions), the summary and results are appended to it
#
# Exit codes: 0 ok, 1 failed (preview/config error, mandatory policy violation, up failed), 2 usage,
# 7 drift (pulumi's own code for --expect-no-changes), 12 a certificate expires within EXPIRY_DAYS,
# 13 a certificate's expiry could not be read (not a date, or hidden as [secret]),
# 75 the stack is locked by another update: nothing was changed, retry later.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

EXIT_LOCKED=75
step="${1:-}"; shift || true
STACK="${CERTFLEET_STACK:-}"
while [ $# -gt 0 ]; do
    case "$1" in
        --stack) if [ $# -lt 2 ]; then echo "pipeline: --stack needs a name" >&2; exit 2; fi
                 STACK="$2"; shift 2 ;;
        --stack=*) STACK="${1#--stack=}"; shift ;;
        *) echo "pipeline: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
case "$step" in preview|up|drift|expiry|all) ;; *)
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
if [ -z "$STACK" ]; then echo "pipeline: no stack: pass --stack NAME or set CERTFLEET_STACK" >&2; exit 2; fi

if [ -n "${CERTFLEET_PULUMI_BIN:-}" ]; then export PATH="$CERTFLEET_PULUMI_BIN:$PATH"; fi
PYTHON="$ROOT/.venv/bin/python"; [ -x "$PYTHON" ] || PYTHON=python3
export PATH="$(dirname "$PYTHON"):$PATH" PULUMI_SKIP_UPDATE_CHECK=true PYTHONDONTWRITEBYTECODE=1
EXPIRY_DAYS="${CERTFLEET_EXPIRY_DAYS:-30}"
PACK="${CERTFLEET_POLICY_PACK:-policy}"
LOCK_RETRIES="${CERTFLEET_LOCK_RETRIES:-0}"
LOCK_WAIT="${CERTFLEET_LOCK_WAIT_SECONDS:-60}"
for number in "$LOCK_RETRIES" "$LOCK_WAIT"; do
    case "$number" in ''|*[!0-9]*)
        echo "pipeline: CERTFLEET_LOCK_RETRIES and CERTFLEET_LOCK_WAIT_SECONDS take whole numbers ('$number')" >&2
        exit 2 ;;
    esac
done
OUT="${CERTFLEET_PIPELINE_OUT:-$ROOT/.local/pipeline/$STACK}"
mkdir -p "$OUT"

say() { printf '[pipeline] %s\n' "$*"; }
banner() { printf '\n== %s (stack %s) ==\n' "$1" "$STACK"; }
to_summary() { if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat >> "$GITHUB_STEP_SUMMARY"; else cat > /dev/null; fi; }
pulumi_() { pulumi "$@" --stack "$STACK" --non-interactive; }

select_stack() {  # $1 = "create" to create a missing stack (preview, up); drift needs an existing one
    if [ "${1:-}" = create ]; then
        pulumi_ stack select --create ${CERTFLEET_SECRETS_PROVIDER:+--secrets-provider "$CERTFLEET_SECRETS_PROVIDER"} >/dev/null
    else
        pulumi_ stack select >/dev/null
    fi
}

POLICY_ARGS=()
policy_args() {  # the pack and its per-stack config, when this checkout has them
    POLICY_ARGS=()
    if [ ! -f "$PACK/PulumiPolicy.yaml" ]; then
        say "policy: SKIPPED - no policy pack at $PACK/ (PulumiPolicy.yaml) in this checkout"
        return
    fi
    POLICY_ARGS=(--policy-pack "$PACK")
    if [ -f "$PACK/config/$STACK.json" ]; then
        POLICY_ARGS+=(--policy-pack-config "$PACK/config/$STACK.json")
        say "policy: $PACK with $PACK/config/$STACK.json"
    else
        say "policy: $PACK with its default enforcement levels (no $PACK/config/$STACK.json)"
    fi
}

step_preview() {
    banner preview
    select_stack create
    policy_args
    rm -f "$OUT/preview.json" "$OUT/events.jsonl" "$OUT/summary.md"
    local rc=0
    # --event-log is a debug flag on this CLI (PULUMI_DEBUG_COMMANDS); the digest lacks policy results.
    PULUMI_DEBUG_COMMANDS=true pulumi_ preview --json --event-log "$OUT/events.jsonl" "${POLICY_ARGS[@]}" \
        >"$OUT/preview.json" 2>"$OUT/preview.err" || rc=$?
    grep -v 'Response has no supported checksum' "$OUT/preview.err" >&2 || true
    say "preview: exit $rc; digest $OUT/preview.json, events $OUT/events.jsonl"

    banner summary
    if [ -f scripts/pr_summary.py ]; then
        local summary_rc=0
        "$PYTHON" -m scripts.pr_summary "$OUT/preview.json" --events "$OUT/events.jsonl" \
            --output "$OUT/summary.md" || summary_rc=$?
        if [ "$summary_rc" -eq 0 ]; then
            cat "$OUT/summary.md"
            to_summary < "$OUT/summary.md"
        else
            say "summary: FAILED - scripts.pr_summary exit $summary_rc (preview output unreadable?)"
            rc=$(( rc == 0 ? 1 : rc ))
        fi
    else
        say "summary: SKIPPED - scripts/pr_summary.py is not in this checkout"
    fi

    banner "policy check"
    local policy_rc=0
    if [ ${#POLICY_ARGS[@]} -gt 0 ]; then
        "$PYTHON" -m scripts.pipeline_policy "$OUT/events.jsonl" || policy_rc=$?
    else
        say "policy: SKIPPED - no policy pack (see above)"
    fi
    if [ "$rc" -ne 0 ] || [ "$policy_rc" -ne 0 ]; then
        say "preview: FAILED - config errors or mandatory policy violations (the summary above lists them)"
        return 1
    fi
    say "preview: OK"
}

step_up() {
    banner up
    select_stack create
    policy_args
    local rc attempt=0
    # This run's own log, moved to up.log at the end: another run on the same checkout (the one holding the
    # lock, say) writes its own, and must not be read as this one's.
    local log="$OUT/up.$$.log"
    while :; do
        rc=0
        pulumi_ up --yes --skip-preview --suppress-outputs "${POLICY_ARGS[@]}" 2>&1 \
            | grep --line-buffered -v 'Response has no supported checksum' | tee "$log" || rc=${PIPESTATUS[0]}
        if [ "$rc" -eq 0 ] || ! grep -q 'the stack is currently locked' "$log" \
           || [ "$attempt" -ge "$LOCK_RETRIES" ]; then
            break
        fi
        attempt=$((attempt + 1))
        # Jitter: runners refused by one lock must not come back in step (and collide on the lock again).
        local pause=$(( LOCK_WAIT + RANDOM % (LOCK_WAIT / 2 + 1) ))
        say "up: the stack is locked by another update; retry $attempt of $LOCK_RETRIES in ${pause}s," \
            "after a new preview and policy check"
        sleep "$pause"
        # The other update changed the stack: preview again, so that the summary and the policy check are of
        # what this up will now do (set -e: a failing preview ends the run with exit 1, nothing applied).
        step_preview
        banner "up (retry $attempt)"
    done
    mv -f "$log" "$OUT/up.log"
    if [ "$rc" -ne 0 ] && grep -q 'the stack is currently locked' "$OUT/up.log"; then
        say "up: REFUSED - another update of stack '$STACK' holds its lock (the lines above say who, where and" \
            "since when). Nothing was changed and nothing bought. Retry when it has ended; if its runner died," \
            "run 'pulumi cancel --stack $STACK --yes', then 'pulumi refresh --stack $STACK --yes" \
            "--clear-pending-creates' (docs/pipelines.md, \"Stale locks\")."
        printf '### pulumi up (%s): refused, the stack is locked by another update\n' "$STACK" | to_summary
        return $EXIT_LOCKED
    fi
    if [ "$rc" -ne 0 ]; then
        say "up: FAILED (exit $rc); the log is in $OUT/up.log"
        return 1
    fi
    "$PYTHON" scripts/report.py --stack "$STACK" | tee "$OUT/report.txt"
    { printf '### pulumi up (%s)\n\n```\n' "$STACK"; cat "$OUT/report.txt"; printf '```\n'; } | to_summary
    say "up: OK"
}

step_expiry() {
    banner "expiry check"
    pulumi_ stack output --json >"$OUT/outputs.json"
    "$PYTHON" -m scripts.pipeline_expiry --days "$EXPIRY_DAYS" --outputs "$OUT/outputs.json" \
        ${GITHUB_STEP_SUMMARY:+--markdown "$GITHUB_STEP_SUMMARY"}
}

step_drift() {
    banner "drift check"
    select_stack
    local rc=0 expiry_rc=0
    pulumi_ preview --refresh --expect-no-changes --diff >"$OUT/drift.log" 2>&1 || rc=$?
    case "$rc" in
        0) grep -A20 '^Resources:' "$OUT/drift.log" || true
           say "drift: OK - the clouds, the state and the configuration agree" ;;
        7) # the changes and the summary; the stack outputs (long, unchanged or unknown in preview) stay in the file
           grep -v 'Response has no supported checksum' "$OUT/drift.log" | awk '/^Outputs:/{skip=1} /^Resources:/{skip=0} !skip'
           say "drift: FAILED - the refreshed state differs from the configuration (the diff above)" ;;
        *) grep -v 'Response has no supported checksum' "$OUT/drift.log"
           say "drift: ERROR - pulumi preview --refresh exit $rc" ;;
    esac
    printf '### Drift check (%s): %s\n' "$STACK" "$([ "$rc" -eq 0 ] && echo clean || echo "FAILED, exit $rc")" \
        | to_summary
    step_expiry || expiry_rc=$?
    if [ "$rc" -ne 0 ]; then return "$rc"; fi
    return "$expiry_rc"
}

case "$step" in
    preview) step_preview ;;
    up)      step_up ;;
    drift)   step_drift ;;
    expiry)  step_expiry ;;
    all)     step_preview; step_up; step_drift ;;  # set -e: the first failing step ends the run with its code
esac
