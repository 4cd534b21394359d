"""The campaign's steps, in order (docs/campaign.md): two `pulumi up` at once on a fresh stack, the kill
phase under faults, the recovery and convergence without them, then the count at the servers. Also the
recovery a user does after a killed run (the dead run's lock, pending creates) and the operator's CAS
console steps that certfleet asks for."""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable

from scripts.campaign.counts import Figures, ServerCount
from scripts.campaign.forensics import Forensics
from scripts.campaign.processes import RUN_MARKER, kill_marked
from scripts.campaign.renewal import RenewalPhase
from scripts.campaign.servers import ALIBABA_KEY_ID, ALIBABA_SECRET, HUAWEI_AK, HUAWEI_DOMAIN_ID, HUAWEI_SK, Servers
from scripts.campaign.stack import STACK, Project, Run, stack_config
from scripts.campaign.v2_steps import v2_step_kills

# What the CLI says when the stack is locked by another run (DIY backend) and when it is left with
# operations a killed run never finished.
LOCK_PATTERNS = ("currently locked", "stack is locked", "locked by")
PENDING_PATTERN = "pending operation"
# The cases where certfleet asks the user to cancel and delete a CAS order in the console (the campaign
# plays that operator): a killed run's `csr: generate` order, whose key died with the run (create refuses to
# buy again), an order adopted after an interrupted run, which destroy never cancels, and a PAYED order (bought,
# not applied for) since a killed run's stamp, which stops the purchase until it is deleted.
OPERATOR_PATTERNS = (
    # The refusals of a pending order a killed run placed (candidates.py: a lost generated key, an earlier
    # purchase, listed for other names): every order on the campaign's CAS server is the campaign's own.
    (re.compile(r"Check order (\d+) in the CAS console: if it is yours, cancel and delete it"),
     "pending, placed by a killed run (csr: generate key lost, or uncertain); create refused"),
    (re.compile(r"CAS order (\d+) \([^)]*\) is kept: certfleet adopted it"),
     "adopted after a killed run, so destroy kept it"),
    (re.compile(r"If nobody needs it, delete order (\d+) in the CAS console"),
     "PAYED (bought, not applied for) since a killed run's journal stamp; create refused"),
)

# SCM: destroy keeps a certificate certfleet adopted, also a v2 purchase it took untagged after a killed run
# (docs/scm-v2.md: it cannot prove it placed it), and says so; every certificate on the campaign's SCM server is
# the campaign's, so the operator withdraws its application and refunds it.
SCM_OPERATOR_PATTERNS = (
    (re.compile(r"certificate (scs\d+) \(order [^)]*\) is kept in SCM: certfleet adopted it"),
     "adopted (a v2 purchase taken untagged after a killed run), so destroy kept it"),
)


class Campaign:
    def __init__(self, args: argparse.Namespace, base: Path, pulumi_bin: str) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.base = base
        self.campaign_id = f"cf{os.getpid()}x{args.seed}"
        (base / "logs").mkdir()
        self.servers = Servers(self.campaign_id, base / "logs", args.seed, args.cas_listing)
        self.pulumi_bin = pulumi_bin
        self.project: Project | None = None
        self.figures = Figures(args.seed, args.kills, args.fault_rate, args.short)
        self.figures.settings = {"list_lag_seconds": args.list_lag, "scm_tag_lag_reads": args.tag_lag_reads,
                                 "listingLagSeconds": args.listing_lag_seconds, "ref": args.ref or "work tree",
                                 "cas_listing": args.cas_listing}
        self.generation = 0
        self.config: dict[str, Any] = {}
        self.first_up_work_seconds = 0.0
        self.faults_active = False
        self.renewal_predecessors: set[str] = set()  # kept outside the state by the renewal phase
        # Forensics: which run first showed each object at the servers, and what hit each run.
        self.forensics = Forensics(self.servers)

    def say(self, message: str) -> None:
        print(f"[campaign {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    # --- running pulumi, with a trace of what each run bought and which faults hit it ---

    def pulumi(self, label: str, *args: str, kill_after: float | None = None,
               kill_when: Callable[[], bool] | None = None) -> Run:
        before = self.servers.fault_counters() if self.faults_active else None
        run = self.project.run(label, *args, kill_after=kill_after, kill_when=kill_when)
        self.forensics.after_run(run, self.generation, before)
        return run

    def server_count(self) -> ServerCount:
        """Counting at the servers for the current config and generation."""
        return ServerCount(self.servers, self.config, self.generation, frozenset(self.renewal_predecessors))

    # --- steps ---

    def setup(self) -> None:
        self.servers.start()
        self.project = Project(self.base, self.pulumi_bin, self.servers, self.campaign_id, self.args.ref)
        init = self.project.run("init", "stack", "init", STACK, stack=False)
        if init.returncode != 0:
            raise RuntimeError(f"pulumi stack init failed:\n{init.output}")
        self.new_generation()

    def new_generation(self) -> None:
        self.config = stack_config(self.generation, self.args.short, self.args.listing_lag_seconds)
        self.project.write_config(self.config)

    def cancel_dead_lock(self) -> None:
        """After a killed `pulumi up`: the DIY backend still holds the dead run's lock; `pulumi cancel` removes
        it (without it every later command fails with "the stack is currently locked")."""
        if not self.project.lock_files():
            return
        cancel = self.pulumi("cancel", "cancel", "--yes")
        self.figures.recovery(f"pulumi cancel (exit {cancel.returncode})")
        if not self.project.lock_files():
            return
        # The lock outlived `pulumi cancel` (CI, seeds 590549 and 615210): the kill left an empty checkpoint
        # sidecar and cancel could not load the stack. The user's step (docs/pipelines.md): delete it.
        for sidecar in self.project.empty_sidecars():
            self.say(f"`pulumi cancel` failed ({cancel.why_failed()}): deleting the empty {sidecar.name} the kill "
                     f"left, as docs/pipelines.md says")
            sidecar.unlink()
            self.figures.recovery("empty checkpoint sidecar deleted")
        # Otherwise say who holds it (the lock names its pid), end any process of the campaign's runs, cancel again.
        held = self.project.lock_holders()
        self.say(f"the lock is still there after `pulumi cancel` (exit {cancel.returncode}: "
                 f"{cancel.why_failed()}); held by {held}; cancelling again")
        kill_marked(f"{RUN_MARKER}={self.campaign_id}-", settle_seconds=2, prefix=True)
        again = self.pulumi("cancel-again", "cancel", "--yes")
        self.figures.recovery(f"pulumi cancel, a second time (exit {again.returncode})")
        if self.project.lock_files():
            raise RuntimeError(f"the lock of the killed run is still there after `pulumi cancel` twice (exit "
                               f"{again.returncode}: {again.why_failed()}); held by {self.project.lock_holders()}")

    def clear_pending_creates(self) -> None:
        """v3.259 keeps a killed run's unfinished creates as pending operations: `pulumi up` only warns
        (and creates the resources again), and a non-interactive `pulumi refresh` keeps them;
        `pulumi refresh --clear-pending-creates` drops them (certfleet's creates find what they had bought)."""
        pending = (self.project.export().get("deployment") or {}).get("pending_operations") or []
        if pending:
            self.figures.pending_operations_cleared += len(pending)
            refresh = self.pulumi("refresh", "refresh", "--yes", "--skip-preview", "--clear-pending-creates")
            self.figures.recovery(f"pulumi refresh --clear-pending-creates (exit {refresh.returncode})")

    def up(self, label: str, kill_after: float | None = None, kill_when: Callable[[], bool] | None = None) -> Run:
        run = self.pulumi(label, "up", "--yes", "--skip-preview", kill_after=kill_after, kill_when=kill_when)
        if PENDING_PATTERN in run.output:
            self.figures.pending_operations_seen += 1
        return run

    def operator_fixes(self, run: Run) -> bool:
        """The documented manual step: cancel and delete a CAS order when certfleet's message asks the user to
        (OPERATOR_PATTERNS); every order on the campaign's CAS server is the campaign's own."""
        output, done = run.output, set()
        for pattern, why in OPERATOR_PATTERNS:
            for order_id in pattern.findall(output):
                if order_id in done or ("cas", order_id) not in self.servers.inventory():
                    continue
                done.add(order_id)
                self.cas_cancel_and_delete(order_id)
                self.figures.operator_actions.append(
                    f"CAS order {order_id} ({why}) cancelled and deleted, as run {run.number} ({run.log.name}) asks")
        for pattern, why in SCM_OPERATOR_PATTERNS:
            for cert_id in pattern.findall(output):
                if cert_id in done or ("scm", cert_id) not in self.servers.inventory():
                    continue
                done.add(cert_id)
                self.scm_withdraw_and_refund(cert_id)
                self.figures.operator_actions.append(
                    f"SCM certificate {cert_id} ({why}) withdrawn and refunded, as run {run.number} "
                    f"({run.log.name}) says")
        return bool(done)

    def scm_withdraw_and_refund(self, cert_id: str) -> None:
        home = os.environ.get("HOME")
        os.environ["HOME"] = str(self.base / "home")  # the SDK's import writes ~/.huaweicloud: keep it in here
        try:
            from huaweicloudsdkcore.auth.credentials import GlobalCredentials
            from huaweicloudsdkscm.v3 import (CancelCertificateRequestRequest, ScmClient, ShowCertificateRequest,
                                              UnsubscribeCertificateRequest)
        finally:
            if home is not None:
                os.environ["HOME"] = home
        client = ScmClient.new_builder().with_credentials(GlobalCredentials(HUAWEI_AK, HUAWEI_SK, HUAWEI_DOMAIN_ID)) \
            .with_endpoint(self.servers.urls["scm"]).build()
        # In the kill phase the faults hit the operator's calls too: like a person in the console, try again.
        for attempt in range(20):
            try:
                status = client.show_certificate(ShowCertificateRequest(certificate_id=cert_id)).status
                if status in ("CHECKING", "CHECKING_ORG"):
                    client.cancel_certificate_request(CancelCertificateRequestRequest(certificate_id=cert_id))
                elif status == "PAID":
                    client.unsubscribe_certificate(UnsubscribeCertificateRequest(cert_id=cert_id))
            except Exception as err:  # noqa: BLE001 - a fault, or gone already (a lost answer)
                if getattr(err, "error_code", None) == "SCM.0020" or getattr(err, "status_code", None) == 404:
                    return
                self.say(f"SCM certificate {cert_id} (attempt {attempt + 1}): {err}")
            time.sleep(0.25)
        raise RuntimeError(f"SCM certificate {cert_id}: could not withdraw and refund it")

    def cas_cancel_and_delete(self, order_id: str) -> None:
        from alibabacloud_cas20200407 import models
        from alibabacloud_cas20200407.client import Client
        from alibabacloud_tea_openapi.models import Config
        client = Client(Config(access_key_id=ALIBABA_KEY_ID, access_key_secret=ALIBABA_SECRET,
                               endpoint=self.servers.urls["cas"].removeprefix("http://"), protocol="http"))
        # In the kill phase the faults hit the operator's calls too: like a person in the console, try again.
        for attempt in range(10):
            try:
                client.cancel_order_request(models.CancelOrderRequestRequest(order_id=int(order_id)))
            except Exception as err:  # noqa: BLE001 - already cancelled (or gone) is fine; the delete decides
                self.say(f"cancel of CAS order {order_id}: {err}")
            try:
                client.delete_certificate_request(models.DeleteCertificateRequestRequest(order_id=int(order_id)))
                return
            except Exception as err:  # noqa: BLE001 - a fault, or deleted already by a lost answer
                if "NotFound" in str(err):
                    return
                if attempt == 9:
                    raise
                self.say(f"delete of CAS order {order_id} (attempt {attempt + 1}): {err}")
                time.sleep(0.5)

    def concurrent_ups(self) -> None:
        """Two `pulumi up` of the same (new, empty) stack at once: the second must fail on the lock and buy
        nothing: afterwards every entry has exactly one object, bought by the first."""
        before = self.servers.inventory()
        first_process, first = self.project.start("concurrent-first", "up", "--yes", "--skip-preview")
        deadline = time.monotonic() + 60
        while not self.project.lock_files() and first_process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        locked = bool(self.project.lock_files())
        second = self.project.run("concurrent-second", "up", "--yes", "--skip-preview")
        first = self.project.finish(first_process, first)
        self.forensics.after_run(second, self.generation, None)
        self.forensics.after_run(first, self.generation, None)
        after = self.servers.inventory()
        output = second.output.lower()
        failed_on_lock = second.returncode != 0 and any(p in output for p in LOCK_PATTERNS)
        entries = self.server_count().entry_counts(self.project.export())
        self.figures.concurrent = {
            "first_held_lock_when_second_started": locked,
            "first_exit": first.returncode, "first_seconds": round(first.seconds, 1),
            "second_exit": second.returncode, "second_seconds": round(second.seconds, 1),
            "second_failed_on_lock": failed_on_lock,
            "objects_before": len(before), "objects_after": len(after), "entries": len(entries),
            "per_entry": entries, "bought_by_second": max(0, len(after) - len(before) - len(entries)),
            "second_output_tail": second.output.strip().splitlines()[-3:],
        }
        self.first_up_work_seconds = first.seconds - (first.work_start or 0.0)
        if first.returncode != 0:
            self.say(f"the first of the concurrent ups failed ({first.returncode}); see {first.log}")

    def kill_phase(self) -> None:
        figures, args = self.figures, self.args
        self.servers.faults_on(args.fault_rate, args.list_lag, args.tag_lag_reads)
        self.faults_active = True
        # Kill moments, counted from each run's first resource step, uniform over what the run can take (a
        # quarter more, so that some runs finish first): the time the first up spent on its resources; after
        # a kill, plus the `listingLagSeconds` a create may keep looking for what the killed run bought.
        fresh_window = max(1.0, self.first_up_work_seconds * 1.25)
        after_kill_window = max(1.0, (self.first_up_work_seconds + self.args.listing_lag_seconds) * 1.25)
        figures.kill_window_seconds = round(after_kill_window, 2)
        converged = self.figures.concurrent.get("first_exit") == 0
        interrupted = False
        for k in range(args.kills):
            if converged:  # nothing left to interrupt: destroy, and let the next generation be created
                self.destroy()
                self.generation += 1
                self.new_generation()
                interrupted = False
            delay = round(self.rng.uniform(0.0, after_kill_window if interrupted else fresh_window), 2)
            run = self.up(f"kill{k + 1:02d}", kill_after=delay)
            outcome = "killed" if run.killed else f"finished first (exit {run.returncode})"
            self.say(f"kill {k + 1}/{args.kills}: generation {self.generation}, {delay:.2f}s into the work: {outcome}")
            figures.kills.append({"n": k + 1, "run": run.number, "generation": self.generation, "delay": delay,
                                  "killed": run.killed, "exit": run.returncode})
            if run.killed:
                self.cancel_dead_lock()
                interrupted = True
            elif run.returncode != 0:
                self.operator_fixes(run)
            converged = not run.killed and run.returncode == 0
        figures.faults = self.servers.fault_counters()
        self.servers.faults_off()
        self.faults_active = False

    def destroy(self) -> None:
        for attempt in range(5):
            run = self.pulumi("destroy", "destroy", "--yes", "--skip-preview")
            self.operator_fixes(run)
            if run.returncode == 0:
                self.figures.destroys += 1
                return
            self.figures.destroy_retries += 1
            self.figures.destroy_failures.extend(
                sorted({line.strip()[:300] for line in run.output.splitlines() if "deleting failed" in line}))
        raise RuntimeError(f"pulumi destroy failed 5 times (see {run.log})")

    def converge(self) -> None:
        """Faults off. The recovery a user does after the last kill, then `pulumi up` until it exits 0 and a
        preview shows no changes. Runs to converge = the number of `pulumi up` runs."""
        self.cancel_dead_lock()
        self.clear_pending_creates()
        for attempt in range(1, self.args.max_converge_runs + 1):
            run = self.up(f"converge{attempt}")
            self.figures.runs_to_converge = attempt
            if run.returncode == 0:
                preview = self.pulumi("preview", "preview", "--expect-no-changes")
                if preview.returncode == 0:
                    self.figures.converged = True
                    return
                self.say(f"converge run {attempt}: up exited 0 but the preview shows changes ({preview.log.name})")
            else:
                self.say(f"converge run {attempt}: exit {run.returncode} ({run.log.name}): {run.why_failed()}")
                self.operator_fixes(run)

    def count(self) -> None:
        self.server_count().count(self.figures, self.project, self.forensics, self.base)

    # --- all of it ---

    def run(self) -> Figures:
        started = time.monotonic()
        self.setup()
        self.say(f"seed {self.args.seed}; servers {self.servers.urls}; work dir {self.base}")
        self.concurrent_ups()
        if self.args.v2_steps:
            v2_step_kills(self)  # SCM v2: a kill at every step of its purchase (scripts/campaign/v2_steps.py)
        c = self.figures.concurrent
        self.say(f"concurrent ups: first exit {c['first_exit']} ({c['first_seconds']}s), second exit "
                 f"{c['second_exit']} (failed on the lock: {c['second_failed_on_lock']})")
        self.kill_phase()
        self.converge()
        if self.args.renewal:  # scripts/campaign/renewal.py: kills over a renewal, then its own count
            phase = RenewalPhase(self)
            try:
                phase.run()
            finally:
                self.figures.renewal = phase.figures
            self.renewal_predecessors = set(phase.predecessors.values())
        self.count()
        self.figures.seconds = round(time.monotonic() - started, 1)
        return self.figures
