"""The campaign's figures and how they are counted: at the servers (objects per config entry, orphans
outside the exported state, generated keys lost), plaintext secrets on disk, the bounds they must keep
(violations), and the printed block that ends with `duplicates N, orphans N`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.packing import unpacked
from scripts.campaign.forensics import Forensics
from scripts.campaign.renewal import renewal_report, renewal_violations
from scripts.campaign.servers import ALIBABA_SECRET, AWS_SECRET, HUAWEI_SK, Servers
from scripts.campaign.stack import PASSPHRASE, Project, cas_entry_names, generation_of

ACM_TYPE = "pulumi-python:dynamic/aws:AcmCertificate"
CAS_TYPE = "pulumi-python:dynamic/alicloud:CasOrder"
SCM_TYPE = "pulumi-python:dynamic/huaweicloud:ScmCertificate"
SECRETS = {"aws secret key": AWS_SECRET, "alibaba secret key": ALIBABA_SECRET, "huawei secret key": HUAWEI_SK,
           "state passphrase": PASSPHRASE}
PRIVATE_KEY_NEEDLE = "PRIVATE KEY"


@dataclass
class Figures:
    seed: int
    kills_requested: int
    fault_rate: float
    short: bool
    kills: list[dict] = field(default_factory=list)
    recoveries: dict[str, int] = field(default_factory=dict)
    operator_actions: list[str] = field(default_factory=list)
    destroys: int = 0
    concurrent: dict[str, Any] = field(default_factory=dict)
    runs_to_converge: int | None = None
    converged: bool = False
    per_entry: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    duplicate_details: list[str] = field(default_factory=list)
    orphans: int = 0
    orphan_details: list[str] = field(default_factory=list)
    plaintext: int = 0
    plaintext_details: list[str] = field(default_factory=list)
    faults: dict[str, Any] = field(default_factory=dict)
    pending_operations_seen: int = 0
    pending_operations_cleared: int = 0
    pending_operations_left: int = 0
    destroy_retries: int = 0
    destroy_failures: list[str] = field(default_factory=list)
    kill_window_seconds: float = 0.0
    settings: dict[str, Any] = field(default_factory=dict)
    lost_keys: int = 0
    lost_key_details: list[str] = field(default_factory=list)
    state_origins: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    v2_steps: list[dict] = field(default_factory=list)  # scripts/campaign/v2_steps.py: one kill per step
    renewal: dict[str, Any] = field(default_factory=dict)  # scripts/campaign/renewal.py ({}: not run)

    def recovery(self, what: str) -> None:
        self.recoveries[what] = self.recoveries.get(what, 0) + 1


def state_ids(exported: dict) -> dict[str, str]:
    """id -> resource name of every certfleet resource in the exported state."""
    resources = (exported.get("deployment") or {}).get("resources") or []
    return {r["id"]: r["urn"].rpartition("::")[2] for r in resources
            if r.get("id") and r.get("type") in (ACM_TYPE, CAS_TYPE, SCM_TYPE)}


class ServerCount:
    """What the servers hold for one generation of the config, counted against the exported state."""

    def __init__(self, servers: Servers, config: dict[str, Any], generation: int,
                 predecessors: frozenset[str] = frozenset()) -> None:
        self.servers = servers
        # Ids of certificates a renewal kept outside the state (scripts/campaign/renewal.py): neither a
        # duplicate of their entry nor an orphan; the renewal phase counts them.
        self.predecessors = predecessors
        self.config = config
        self.generation = generation

    def attribute(self, obj: dict, in_state: dict[str, str], request_generations: dict[str, int]) -> tuple[str, int | None]:
        """(entry, generation) of an object at a server."""
        if obj["kind"] == "cas":
            return obj["domain"].split(".")[0], generation_of(obj["domain"])
        generation = generation_of(obj["domain"])
        if generation is None and obj["kind"] == "scm":  # bought, not applied for: no name yet
            generation = request_generations.get(obj["tags"].get("certfleet-request", ""))
            if generation is None and obj["id"] in in_state:
                generation = self.generation
        return obj["entry"], generation

    def entry_counts(self, exported: dict) -> dict[str, int]:
        """Objects at the servers per entry of the current config and generation. ACM and SCM objects carry
        their entry in a tag; CAS orders carry nothing but their names and plan (names include the entry)."""
        in_state = state_ids(exported)
        objects = list(self.servers.inventory().values())
        request_generations = {o["tags"].get("certfleet-request", ""): generation_of(o["domain"])
                               for o in objects if o["kind"] == "scm" and generation_of(o["domain"]) is not None}
        counts = {f"acm/{n}": 0 for n in self.config["aws"]["certificates"]}
        counts.update({f"cas/{n}": 0 for n in self.config["alicloud"]["orders"]})
        counts.update({f"scm/{n}": 0 for n in self.config["huaweicloud"]["certificates"]})
        cas_names = cas_entry_names(self.config)
        for obj in objects:
            entry, generation = self.attribute(obj, in_state, request_generations)
            key = f"{obj['kind']}/{entry}"
            if key not in counts or generation != self.generation or obj["id"] in self.predecessors:
                continue
            if obj["kind"] == "cas":
                product, names = cas_names[entry]
                if obj["product_code"] != product or obj["domains"][:1] != list(names[:1]) \
                        or set(obj["domains"]) != set(names):
                    continue
            counts[key] += 1
        return counts

    def count(self, figures: Figures, project: Project, forensics: Forensics, base: Path) -> None:
        """Every figure counted after converging: per entry, duplicates, orphans, lost keys, plaintext."""
        exported = project.export()
        in_state = state_ids(exported)
        pending = (exported.get("deployment") or {}).get("pending_operations") or []
        figures.pending_operations_left = len(pending)
        figures.per_entry = self.entry_counts(exported)
        objects = self.servers.inventory()
        for entry, n in sorted(figures.per_entry.items()):
            if n != 1:
                figures.duplicates += max(0, n - 1)
                figures.duplicate_details.append(f"{entry} (generation {self.generation}): {n} at the server")
        # Orphans: the servers are the campaign's own, so everything they hold must be in the state.
        for key, obj in sorted(objects.items()):
            if obj["id"] in in_state or obj["id"] in self.predecessors:
                continue
            figures.orphans += 1
            figures.orphan_details.append(forensics.explain_orphan(key, obj, project.runs))
        self.check_keys(exported, figures)
        # Where each object in the state came from (for reading orphans and duplicates against).
        for key, obj in sorted(objects.items()):
            if obj["id"] in in_state:
                first = forensics.known.get(key, {}).get("first_seen_run")
                figures.state_origins.append(f"{obj['kind']}/{in_state[obj['id']]} {obj['id']}: first seen after "
                                             f"{forensics.describe_run(first)}")
        scan_plaintext(figures, base, project.state_dir)

    def check_keys(self, exported: dict, figures: Figures) -> None:
        """Entries whose key certfleet generates (`csr: generate`): the order at the server must be for the CSR
        the state holds, and the state must hold the (encrypted) key. Otherwise the key died with a killed
        run and the paid order can never be used."""
        held = self.servers.requests_held()
        generated = {("cas", n) for n, o in self.config["alicloud"]["orders"].items() if o.get("csr") == "generate"}
        generated |= {("scm", n) for n, c in self.config["huaweicloud"]["certificates"].items()
                      if c.get("csr") == "generate"}
        for resource in (exported.get("deployment") or {}).get("resources") or []:
            kind = {CAS_TYPE: "cas", SCM_TYPE: "scm"}.get(resource.get("type"))
            name = resource["urn"].rpartition("::")[2]
            if (kind, name) not in generated or not resource.get("id"):
                continue
            outputs = unpacked(resource.get("outputs"))
            csr = (outputs.get("csr") if kind == "cas" else outputs.get("csr_pem")) or ""
            key = outputs.get("private_key") if kind == "cas" else outputs.get("private_key_pem")
            at_server = held.get((kind, str(resource["id"])), "")
            comparable = isinstance(csr, str)  # a secret CSR (ciphertext) cannot be compared here
            if not key or (comparable and csr.strip() != at_server):
                figures.lost_keys += 1
                figures.lost_key_details.append(
                    f"{kind}/{name} {resource['id']}: the server holds {'a different CSR' if at_server else 'no CSR'}"
                    f" than the state, or the state has no key (key in state: {bool(key)}): its generated key "
                    f"is lost and the paid {'order' if kind == 'cas' else 'certificate'} cannot be used")


def scan_plaintext(figures: Figures, base: Path, state_dir: Path) -> None:
    """Private keys in plain text and the test credentials, in the state backend, the captured pulumi
    output and the server logs."""
    needles = {"private key": PRIVATE_KEY_NEEDLE, **SECRETS}
    places = [("state", p) for p in state_dir.rglob("*") if p.is_file()]
    places += [("pulumi output", p) for p in (base / "logs").glob("[0-9]*.log")]
    places += [("server log", p) for p in (base / "logs").glob("server-*.log")]
    places += [("pulumi log", p) for p in (base / "pulumi-home").rglob("*.log")] \
        if (base / "pulumi-home").exists() else []
    for where, path in places:
        text = path.read_text(errors="replace")
        for what, needle in needles.items():
            hits = text.count(needle)
            if hits:
                figures.plaintext += hits
                figures.plaintext_details.append(f"{what} x{hits} in {where} {path.relative_to(base)}")


# --- the verdict ----------------------------------------------------------------------------------------

def violations(figures: Figures, max_runs: int) -> list[str]:
    found = []
    if figures.duplicates:
        found.append(f"duplicates {figures.duplicates} (bound 0)")
    if figures.orphans:
        found.append(f"orphans {figures.orphans} (bound 0)")
    missing = sorted(entry for entry, n in figures.per_entry.items() if n < 1)
    if missing:
        found.append(f"nothing at the server for {', '.join(missing)} (bound: exactly 1 per entry)")
    if not figures.converged:
        found.append(f"did not converge within {figures.runs_to_converge} runs")
    elif figures.runs_to_converge is None or figures.runs_to_converge > max_runs:
        found.append(f"runs to converge {figures.runs_to_converge} (bound {max_runs})")
    if figures.pending_operations_left:
        found.append(f"{figures.pending_operations_left} pending operations left in the state (bound 0)")
    if figures.plaintext:
        found.append(f"plaintext {figures.plaintext} (bound 0)")
    if figures.lost_keys:
        found.append(f"lost keys {figures.lost_keys} (bound 0): paid objects whose generated key is gone")
    for step in figures.v2_steps:
        if not step["killed"] or step["at_server"] != 1 or step["up_exit"] != 0:
            found.append(f"v2 step '{step['step']}': killed {step['killed']}, then up exit {step['up_exit']}, "
                         f"{step['at_server']} at the server (bound: killed, exit 0, exactly 1)")
    found += renewal_violations(figures.renewal)
    c = figures.concurrent
    if not c.get("second_failed_on_lock"):
        found.append("the concurrent second up did not fail on the lock")
    if c.get("bought_by_second") or any(n != 1 for n in (c.get("per_entry") or {}).values()):
        found.append(f"the concurrent ups left {c.get('per_entry')} (bound: exactly 1 per entry)")
    return found


def report(figures: Figures, found: list[str]) -> str:
    killed = sum(1 for k in figures.kills if k["killed"])
    c = figures.concurrent
    faults = "; ".join(f"{server} " + ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
                       for server, counts in figures.faults.items())
    lines = [
        f"campaign seed {figures.seed}{' (--short)' if figures.short else ''}: {len(figures.kills)} kills of "
        f"`pulumi up` ({killed} during the run, {len(figures.kills) - killed} after it had finished), "
        f"{figures.destroys} destroys between generations ({figures.destroy_retries} failed under faults and were "
        f"run again), {figures.seconds:g}s",
        f"faults at rate {figures.fault_rate:g} in the kill phase: {faults or 'none'}; listings lag: CAS order list "
        f"and AWS tag index {figures.settings.get('list_lag_seconds'):g}s, SCM tag index "
        f"{figures.settings.get('scm_tag_lag_reads')} searches (listingLagSeconds "
        f"{figures.settings.get('listingLagSeconds')}); kills up to {figures.kill_window_seconds:g}s into a run; "
        f"CAS order list shows {figures.settings.get('cas_listing')} names",
        f"concurrent up: the second exited {c.get('second_exit')}, failed on the lock: "
        f"{c.get('second_failed_on_lock')}; objects before {c.get('objects_before')}, after {c.get('objects_after')} "
        f"for {c.get('entries')} entries (bought by the second: {c.get('bought_by_second')})",
        "recovery: " + (", ".join(f"{k} x{v}" for k, v in sorted(figures.recoveries.items())) or "none")
        + f"; pending operations cleared: {figures.pending_operations_cleared}, left: {figures.pending_operations_left}",
        f"operator actions: {len(figures.operator_actions)}" + "".join(f"\n  {a}" for a in figures.operator_actions),
        "v2 step kills: " + ("; ".join(f"{s['operation']}{'' if s['killed'] else ' (not killed)'} -> "
                                       f"{s['at_server']} at the server{' (adopted)' if s['adopted'] else ''}"
                                       for s in figures.v2_steps) or "none"),
        f"runs to converge: {figures.runs_to_converge} (bound 3; converged: {figures.converged})",
        *renewal_report(figures.renewal),
        "per entry at the servers: " + ", ".join(f"{k} {v}" for k, v in sorted(figures.per_entry.items())),
        f"plaintext: {figures.plaintext}" + "".join(f"\n  {d}" for d in figures.plaintext_details),
        f"lost keys (csr: generate entries whose order is not for the key in state): {figures.lost_keys}"
        + "".join(f"\n  {d}" for d in figures.lost_key_details),
    ]
    if figures.duplicates or figures.orphans:
        lines += [f"duplicate: {d}" for d in figures.duplicate_details]
        lines += [f"orphan: {d}" for d in figures.orphan_details]
        lines += [f"in state: {d}" for d in figures.state_origins]
    lines += [f"note: {n}" for n in figures.notes]
    lines += [f"VIOLATION: {v}" for v in found]
    lines.append(f"duplicates {figures.duplicates}, orphans {figures.orphans}")
    return "\n".join(lines)
