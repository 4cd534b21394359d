"""Money safety, proven by a crash-and-fault campaign against local servers (docs/campaign.md).

    .venv/bin/python -m scripts.campaign [--kills 20] [--fault-rate 0.2] [--seed N] [--short] [--json FILE]
        [--keep DIR] [--ref REF] [--list-lag S] [--tag-lag-reads N] [--max-converge-runs N] [--pulumi-bin DIR]
        [--cas-listing primary|all] [--renewal/--no-renewal] [--renewal-kills N]

On its own servers (moto behind scripts/fault_proxy.py, the CAS and SCM emulators; free loopback ports) and
its own temp project and file backend, it:

1. runs two `pulumi up` of a fresh stack at once: the second must fail on the stack lock and buy nothing;
2. kill phase: `pulumi up` killed with SIGKILL (the whole process tree) at a random moment, --kills times,
   with faults at --fault-rate of all cloud calls (lost answers after the server acted, 5xx, throttling) and
   lagging listings; after each kill `pulumi cancel` (the dead run's lock). A run that finished before its
   kill time leaves nothing to interrupt, so the stack is then destroyed and the next generation of the
   config (the same entries under new names) is created by the next, killed, run;
3. converge: faults off, `pulumi refresh --clear-pending-creates` (v3.259 keeps a killed run's pending
   creates otherwise), then `pulumi up` until it exits 0 and `pulumi preview --expect-no-changes` exits 0;
4. with --renewal (default; --short: off): the CAS and SCM entries issued, given renewBefore, the clocks moved
   into the window, kills over the renewal, convergence, and one successor per entry (renewal.py);
5. counts at the servers (control APIs and SDK list calls): orders/certificates per config entry
   (exactly 1 each), objects absent from the exported state (orphans: 0), and plaintext private keys or
   test secrets in the state backend, the captured pulumi output and the server logs (0).

Prints a short block ending with `duplicates N, orphans N`; exits 1 if a figure breaks its bound, 2 if the
campaign itself could not run. Leaves no process or server behind (also on Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from scripts.campaign.campaign import Campaign
from scripts.campaign.counts import Figures, report, violations
from scripts.campaign.processes import MARKER, ROOT, kill_marked


def pulumi_bin_dir(explicit: str | None) -> str:
    if explicit:
        return explicit
    if os.environ.get("CERTFLEET_PULUMI_BIN"):
        return os.environ["CERTFLEET_PULUMI_BIN"]
    result = subprocess.run(["bash", str(ROOT / "scripts" / "setup.sh")], check=True, capture_output=True, text=True)
    return result.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.campaign", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=None, help="kills of `pulumi up` (default 20; --short: 4)")
    parser.add_argument("--fault-rate", type=float, default=0.2, help="share of cloud calls hit by a fault")
    parser.add_argument("--seed", type=int, default=None, help="seed of the kill moments (default: random, printed)")
    parser.add_argument("--short", action="store_true", help="CI size: 4 kills, two entries per cloud")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON to this file")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this (new) directory and keep it: project, state, logs")
    parser.add_argument("--ref", default=None,
                        help="run the project as committed at this git ref (e.g. HEAD) instead of the work tree")
    parser.add_argument("--pulumi-bin", default=None, help="directory of the pulumi CLI (default: scripts/setup.sh)")
    parser.add_argument("--list-lag", type=float, default=None,
                        help="seconds a new CAS order / ACM certificate is missing from the CAS order list / AWS "
                             "tag index in the kill phase (default 10; --short: 5)")
    parser.add_argument("--tag-lag-reads", type=int, default=2,
                        help="SCM tag searches a new certificate is missing from in the kill phase")
    parser.add_argument("--max-converge-runs", type=int, default=6, help="give up converging after this many ups")
    parser.add_argument("--cas-listing", choices=("primary", "all"), default="primary",
                        help="the CAS emulator's ListUserCertificateOrder Domain: the primary name only (default, "
                             "as every published sample) or every name, CN first")
    parser.add_argument("--v2-steps", action=argparse.BooleanOptionalAction, default=True,
                        help="kill `pulumi up` at every step of an SCM v2 purchase first (default: on)")
    parser.add_argument("--renewal", action=argparse.BooleanOptionalAction, default=None,
                        help="after converging, kill `pulumi up` over a renewal of the CAS and SCM entries and count "
                             "their successors (default: on; --short: off)")
    parser.add_argument("--renewal-kills", type=int, default=None,
                        help="kills in the renewal phase (default 4; --short: 2)")
    args = parser.parse_args(argv)
    if args.renewal is None:
        args.renewal = not args.short
    if args.renewal_kills is None:
        args.renewal_kills = 2 if args.short else 4
    if args.kills is None:
        args.kills = 4 if args.short else 20
    if args.list_lag is None:
        args.list_lag = 5.0 if args.short else 10.0
    # The stacks's `listingLagSeconds` (CAS and SCM): twice the injected lag.
    args.listing_lag_seconds = max(1, round(2 * args.list_lag))
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 10 ** 6)
    if not 0 <= args.fault_rate <= 1:
        parser.error("--fault-rate must be in [0, 1]")
    print(f"campaign seed {args.seed} (rerun with --seed {args.seed})", flush=True)
    for name in [k for k in os.environ if k.lower() in ("http_proxy", "https_proxy", "all_proxy")]:
        del os.environ[name]  # the campaign's own SDK calls go to loopback (the Alibaba SDK ignores NO_PROXY)

    pulumi_bin = pulumi_bin_dir(args.pulumi_bin)
    if args.keep:
        args.keep.mkdir(parents=True)
        base = args.keep.resolve()
    else:
        base = Path(tempfile.mkdtemp(prefix="certfleet-campaign-"))

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    # Also SIGINT: a shell starts background jobs with it ignored, and Ctrl-C must still clean up.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)
    campaign = Campaign(args, base, pulumi_bin)
    figures: Figures | None = None
    code = 2
    try:
        figures = campaign.run()
        found = violations(figures, 3)
        print(report(figures, found), flush=True)
        code = 1 if found else 0
        if args.json:
            args.json.write_text(json.dumps({
                **{k: v for k, v in figures.__dict__.items()}, "violations": found, "ok": not found,
                "campaign_id": campaign.campaign_id, "work_dir": str(base) if args.keep else None},
                indent=2, default=str))
    except KeyboardInterrupt:
        print("[campaign] interrupted: stopping every process it started", file=sys.stderr)
        code = 130
    except Exception as err:  # noqa: BLE001 - report, clean up, exit 2
        print(f"[campaign] could not complete: {err}", file=sys.stderr)
        if args.json:
            args.json.write_text(json.dumps({"ok": False, "error": str(err), "seed": args.seed}, indent=2))
        if not args.keep:
            print(f"[campaign] logs kept in {base}", file=sys.stderr)
            args.keep = base  # keep the evidence
        code = 2
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)  # cleaning up: a second Ctrl-C must not cut it short
        for run in (campaign.project.runs if campaign.project else []):
            kill_marked(run.marker, settle_seconds=0.3)
        campaign.servers.stop()
        # Anything else the campaign started (it all carries the campaign's marker).
        left = kill_marked(f"{MARKER}={campaign.campaign_id}", settle_seconds=5, polite=True)
        if left:
            print(f"[campaign] stopped {left} leftover processes", file=sys.stderr)
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
