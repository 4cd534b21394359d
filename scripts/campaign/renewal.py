"""The renewal phase (docs/campaign.md, issue 9 item 6: no second purchase under a crash at any step of a
renewal). After convergence: issue every CAS order and SCM certificate (the campaign publishes their
challenges), give them `renewBefore`, move the CAS and SCM emulators' clocks and certfleet's
(CERTFLEET_CLOCK_OFFSET_SECONDS) into the window, kill `pulumi up` a few times under faults over the renewal,
converge (playing the CAS console for renewal orders, placed payed), and count: exactly one successor per
renewing entry, its predecessor kept, every renewing entry at renewal generation 1."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.clock import OFFSET_VARIABLE
from components.packing import unpacked
from emulators.cas.records import PRODUCTS
from scripts.campaign.processes import http_json

if TYPE_CHECKING:
    from scripts.campaign.campaign import Campaign

DAY = 86400
ADVANCE_SECONDS = 340 * DAY        # 25 days before a one-year certificate expires: CAS lists it WILLEXPIRED
RENEW_BEFORE_DAYS = 30
# Only one-year CAS products renew after the advance; a 90-day one (digicert-free) has expired by then and
# CAS renews only WILLEXPIRED orders, so it is left out (no renewBefore).
MIN_LIFETIME_DAYS = 365
KEPT_CAS_STATES = ("certificate",)  # not revoked, refunded, cancelled or deleted
KEPT_SCM_STATUSES = ("ISSUED",)
ISSUE_RUNS = 4
RENEWAL_WORK_SECONDS = 2.5  # about what a renewal `pulumi up` of the --short config spends on its resources


def renewing_entries(config: dict[str, Any]) -> list[str]:
    """`cas/<name>` and `scm/<name>` of the entries the phase renews."""
    cas = [f"cas/{n}" for n, o in config["alicloud"]["orders"].items()
           if PRODUCTS[o["productCode"]].validity_days >= MIN_LIFETIME_DAYS]
    return cas + [f"scm/{n}" for n in config["huaweicloud"]["certificates"]]


def held_objects(exported: dict) -> dict[str, tuple[str, dict]]:
    """`cas/<name>` / `scm/<name>` -> (id, outputs) of the CAS orders and SCM certificates in the state."""
    from scripts.campaign.counts import CAS_TYPE, SCM_TYPE  # counts imports this module
    kinds = {CAS_TYPE: "cas", SCM_TYPE: "scm"}
    return {f"{kinds[r['type']]}/{r['urn'].rpartition('::')[2]}": (str(r["id"]), unpacked(r.get("outputs")))
            for r in (exported.get("deployment") or {}).get("resources") or []
            if r.get("type") in kinds and r.get("id")}


class RenewalPhase:
    def __init__(self, campaign: "Campaign") -> None:
        self.c = campaign
        self.entries = renewing_entries(campaign.config)
        self.predecessors: dict[str, str] = {}   # entry -> id of the certificate it renews
        self.figures: dict[str, Any] = {"entries": self.entries, "advance_seconds": ADVANCE_SECONDS,
                                        "renewBefore": RENEW_BEFORE_DAYS, "kills": [], "console": [],
                                        "converged": False, "runs_to_converge": None}

    # --- the servers, through their control APIs (every object there is the campaign's) ---

    def cas_orders(self) -> dict[str, dict]:
        orders = http_json("GET", self.c.servers.urls["cas"] + "/_emulator/state")["orders"]
        return {str(o["order_id"]): o for o in orders}

    def scm_certificates(self) -> dict[str, dict]:
        return {c["id"]: c for c in
                http_json("GET", self.c.servers.urls["scm"] + "/_emulator/scm/certificates")["certificates"]}

    def object_count(self) -> int:
        return len(self.cas_orders()) + len(self.scm_certificates())

    def play_console(self) -> None:
        """The customer: apply for the CAS renewal orders the stack holds (placed payed; CAS has no API for it, as
        scripts/local_servers.py publish_challenges does) and publish every open challenge. Not for a renewal
        order a killed run placed and the state never recorded: the customer learns of an order from certfleet's
        status message, and certfleet refuses that one (its generated key was lost) and names it for deletion."""
        cas, scm = self.c.servers.urls["cas"], self.c.servers.urls["scm"]
        held = {object_id for object_id, _ in held_objects(self.c.project.export()).values()}
        for order_id, order in self.cas_orders().items():
            try:
                if order["state"] == "payed" and order.get("renewed_from_order_id") and order_id in held:
                    http_json("POST", f"{cas}/_emulator/cas/orders/{order_id}/advance", {"to": "domain_verify"})
                    self.figures["console"].append(f"CAS renewal order {order_id} applied for")
                    order["state"] = "domain_verify"
                if order["state"] == "domain_verify":
                    http_json("POST", f"{cas}/_emulator/cas/orders/{order_id}/publish", {})
            except Exception as err:  # noqa: BLE001 - moved on meanwhile
                self.c.say(f"console, CAS order {order_id}: {err}")
        for cert_id, cert in self.scm_certificates().items():
            if cert.get("status") in ("CHECKING", "CHECKING_ORG"):
                try:
                    http_json("POST", f"{scm}/_emulator/scm/certificates/{cert_id}/publish", {})
                except Exception as err:  # noqa: BLE001 - moved on meanwhile
                    self.c.say(f"console, SCM certificate {cert_id}: {err}")

    def all_issued(self) -> bool:
        held = held_objects(self.c.project.export())
        cas, scm = self.cas_orders(), self.scm_certificates()
        for entry in self.entries:
            object_id = held.get(entry, ("", {}))[0]
            status = (cas.get(object_id) or {}).get("state") if entry.startswith("cas/") \
                else (scm.get(object_id) or {}).get("status")
            if status not in (KEPT_CAS_STATES if entry.startswith("cas/") else KEPT_SCM_STATUSES):
                return False
        return True

    def up_until_issued(self, label: str) -> bool:
        """Console, then `pulumi up --refresh`, until every renewing entry is issued and a preview shows no
        changes. Returns whether it got there; counts the ups."""
        c = self.c
        for attempt in range(1, ISSUE_RUNS + 1):
            self.play_console()
            run = c.pulumi(f"{label}{attempt}", "up", "--yes", "--skip-preview", "--refresh")
            if run.returncode != 0:
                c.say(f"renewal {label} run {attempt}: exit {run.returncode} ({run.log.name}): {run.why_failed()}")
                c.operator_fixes(run)
                continue
            if self.all_issued() and c.pulumi("preview", "preview", "--expect-no-changes").returncode == 0:
                return True
        return False

    # --- the phase ---

    def run(self) -> None:
        c, args = self.c, self.c.args
        c.say(f"renewal: issuing {', '.join(self.entries)}")
        if not self.up_until_issued("issue"):
            raise RuntimeError("renewal phase: the entries could not be issued before the renewal")
        held = held_objects(c.project.export())
        self.predecessors = {e: held[e][0] for e in self.entries}
        for entry in self.entries:
            kind, name = entry.split("/")
            section = c.config["alicloud"]["orders"] if kind == "cas" else c.config["huaweicloud"]["certificates"]
            section[name]["renewBefore"] = RENEW_BEFORE_DAYS
        c.project.write_config(c.config)
        for server in ("cas", "scm"):
            http_json("POST", c.servers.urls[server] + "/_emulator/clock", {"advance_seconds": ADVANCE_SECONDS})
        c.project.env[OFFSET_VARIABLE] = str(ADVANCE_SECONDS)
        self.kill_phase(args.renewal_kills)
        self.converge()
        self.count()

    def kill_phase(self, kills: int) -> None:
        c, args = self.c, self.c.args
        aws_before = c.servers.aws_fault_stats()  # the proxy's counters run on; the emulators' restart here
        c.servers.faults_on(args.fault_rate, args.list_lag, args.tag_lag_reads)
        c.faults_active = True
        # A renewal run's work takes a couple of seconds, and the renewal is over once a run finishes: the first
        # kill waits for a successor to appear at a server (bought, the answer perhaps not yet in the state:
        # the moment a crash could buy twice); the others are random, later after a kill (the create may keep
        # looking for `listingLagSeconds` for what the killed run bought).
        interrupted = False
        try:
            for k in range(kills):
                if k == 0:
                    delay, baseline = None, self.object_count()
                    run = c.up(f"renewal-kill{k + 1:02d}", kill_when=lambda: self.object_count() > baseline)
                else:
                    window = RENEWAL_WORK_SECONDS + (args.listing_lag_seconds if interrupted else 0)
                    delay = round(c.rng.uniform(0.0, window), 2)
                    run = c.up(f"renewal-kill{k + 1:02d}", kill_after=delay)
                when = "once a successor was bought" if delay is None else f"{delay:.2f}s into the work"
                c.say(f"renewal kill {k + 1}/{kills}: {when}: "
                      f"{'killed' if run.killed else f'finished first (exit {run.returncode})'}")
                self.figures["kills"].append({"n": k + 1, "run": run.number, "delay": delay, "killed": run.killed,
                                              "exit": run.returncode})
                interrupted = run.killed
                if run.killed:
                    c.cancel_dead_lock()
                elif run.returncode != 0:
                    c.operator_fixes(run)
        finally:
            faults = c.servers.fault_counters()
            faults["aws"] = {k: v - aws_before.get(k, 0) for k, v in faults["aws"].items()}
            self.figures["faults"] = faults
            c.servers.faults_off()
            c.faults_active = False

    def converge(self) -> None:
        c = self.c
        c.cancel_dead_lock()
        c.clear_pending_creates()
        for attempt in range(1, c.args.max_converge_runs + 1):
            self.figures["runs_to_converge"] = attempt
            if self.up_until_issued_once(attempt):
                self.figures["converged"] = True
                return

    def up_until_issued_once(self, attempt: int) -> bool:
        c = self.c
        self.play_console()
        run = c.pulumi(f"renewal-converge{attempt}", "up", "--yes", "--skip-preview", "--refresh")
        if run.returncode != 0:
            c.say(f"renewal converge run {attempt}: exit {run.returncode} ({run.log.name}): {run.why_failed()}")
            c.operator_fixes(run)
            return False
        generations = self.generations()
        if any(g != 1 for g in generations.values()) or not self.all_issued():
            return False
        return c.pulumi("preview", "preview", "--expect-no-changes").returncode == 0

    def generations(self) -> dict[str, int | None]:
        """entry -> the renewal generation its resource holds (the state's `renewal_held`)."""
        held = held_objects(self.c.project.export())
        return {e: ((held.get(e, ("", {}))[1].get("renewal_held") or {}).get("generation")) for e in self.entries}

    def count(self) -> None:
        """Per renewing entry: successors at the server (exactly 1), predecessor kept."""
        cas, scm = self.cas_orders(), self.scm_certificates()
        held = held_objects(self.c.project.export())
        successors, kept = {}, {}
        for entry, predecessor in self.predecessors.items():
            kind, name = entry.split("/")
            if kind == "cas":
                successors[entry] = sum(1 for o in cas.values()
                                        if str(o.get("renewed_from_order_id") or "") == predecessor)
                kept[entry] = (cas.get(predecessor) or {}).get("state") in KEPT_CAS_STATES
            else:
                # Every certificate of the entry (its resource tag, or in the state) other than the predecessor.
                ids = {i for i, cert in scm.items()
                       if (cert.get("tags") or {}).get("certfleet-resource", "").rpartition("/")[2] == name}
                ids |= {held[entry][0]} if entry in held else set()
                successors[entry] = len(ids - {predecessor})
                kept[entry] = (scm.get(predecessor) or {}).get("status") in KEPT_SCM_STATUSES
        self.figures.update(successors=successors, predecessors_kept=kept, predecessors=self.predecessors,
                            generations=self.generations())


def renewal_violations(renewal: dict[str, Any]) -> list[str]:
    if not renewal:
        return []
    found = []
    for entry, n in sorted((renewal.get("successors") or {}).items()):
        if n != 1:
            found.append(f"renewal {entry}: {n} successors at the server (bound: exactly 1)")
    for entry, ok in sorted((renewal.get("predecessors_kept") or {}).items()):
        if not ok:
            found.append(f"renewal {entry}: predecessor {renewal['predecessors'][entry]} not kept")
    for entry, g in sorted((renewal.get("generations") or {}).items()):
        if g != 1:
            found.append(f"renewal {entry}: renewal generation {g} in the state (bound 1)")
    if not renewal.get("converged"):
        found.append(f"renewal: did not converge within {renewal.get('runs_to_converge')} runs")
    return found


def listed(figures: dict[str, Any] | None) -> str:
    return ", ".join(f"{e} {v}" for e, v in sorted((figures or {}).items()))


def renewal_report(renewal: dict[str, Any]) -> list[str]:
    if not renewal:
        return ["renewal: not run (--renewal)"]
    killed = sum(1 for k in renewal["kills"] if k["killed"])
    faults = "; ".join(f"{s} " + ", ".join(f"{k} {n}" for k, n in sorted(v.items()))
                       for s, v in (renewal.get("faults") or {}).items())
    return [
        f"renewal: clocks +{renewal['advance_seconds'] // DAY} days, renewBefore {renewal['renewBefore']}, "
        f"{len(renewal['kills'])} kills ({killed} during the run), faults: {faults or 'none'}; runs to converge "
        f"{renewal['runs_to_converge']} (converged: {renewal['converged']}); console: "
        f"{len(renewal['console'])} renewal orders applied for",
        "renewal successors at the servers: " + listed(renewal.get("successors"))
        + "; predecessors kept: " + listed(renewal.get("predecessors_kept"))
        + "; generations: " + listed(renewal.get("generations")),
    ]
