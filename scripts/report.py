"""Print the certificate report from the current stack's outputs (`pulumi stack output --json`).

    python scripts/report.py [--json] [--stack NAME] [--expiring-within DAYS]

Like CloudFront Extensions' job record (reference/aws-cloudfront-extensions.md §6.1: stages and counters), but
derived from the resources' real state as the last `pulumi up`/`refresh` saw it, never from a counter: per ACM
certificate (requested or imported), per aggregated entry and per CloudFront distribution its stage, then the
totals per stage. `--json` prints the same as one JSON document: {"schemaVersion": 1, "resources": [{kind, name,
stage, ...}], "totals": {stage: count}, "validation_records": [...]} plus the other clouds' outputs as they are
(schema/outputs.v1.schema.json, $defs/report; docs/outputs.md).

Stages, in the order a resource goes through them:
  requested                ACM has the request but has not published its DNS validation records yet
  pending validation       the records are published (shown): put them in DNS
  issued                   the certificate can be used; no distribution of the stack serves it yet
  waiting for certificate  a distribution exists (its *.cloudfront.net name works) but has no aliases and
                           certificate yet: the first `pulumi up --refresh` after validation binds it
  bound                    a certificate that a distribution of the stack serves
  deploying                a bound distribution CloudFront is still deploying (InProgress)
  deployed                 a bound distribution CloudFront reports Deployed
  failed                   can never complete as it is (the status message says why; the next `up` replaces it)

Then the expiry of every certificate in every cloud: days left and who renews it, in what state
(scripts/report_expiry.py); `--expiring-within DAYS` exits 12 when one expires within DAYS, 13 when an expiry
cannot be read (scripts/pipeline_expiry.py's gate, for CI alerting).

Secrets stay masked: `pulumi stack output` prints them as "[secret]" unless --show-secrets is given,
and this script never passes it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

# The project on the path: certfleet's "now" (components/clock.py) and the expiry gate's days left.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from components import clock  # noqa: E402
from scripts import report_expiry  # noqa: E402

# The --json document follows schema/outputs.v1.schema.json ($defs/report; docs/outputs.md).
SCHEMA_VERSION = 1
STAGES = ("requested", "pending validation", "issued", "waiting for certificate", "bound", "deploying", "deployed",
          "failed")
# ACM statuses after which a certificate can never be issued (components/aws/acm.py's DEAD_STATUSES; this
# script runs without the project's packages on its path).
DEAD_STATUSES = ("FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE")


# --- stages ------------------------------------------------------------------------------------------------

def certificate_stage(cert: dict[str, Any], records: list[dict[str, Any]], served: bool) -> str:
    status = cert.get("status")
    if status in DEAD_STATUSES:
        return "failed"
    if status == "ISSUED":
        return "bound" if served else "issued"
    return "pending validation" if records else "requested"


def distribution_stage(dist: dict[str, Any]) -> str:
    if dist.get("stage") in ("failed", "waiting for certificate"):
        return dist["stage"]  # also a bound distribution whose replacement certificate is pending
    if not dist.get("bound"):
        return "waiting for certificate"
    if dist.get("stage") in ("deploying", "deployed"):
        return dist["stage"]
    return {"InProgress": "deploying", "Deployed": "deployed"}.get(dist.get("status"), "bound")


def records_of(name: str, cert: dict[str, Any], all_records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The certificate's own DNS validation records, else those of the stack-wide list that name it."""
    own = cert.get("validation_records") or []
    return own or [r for r in all_records if name in (r.get("certificates") or [])]


def _serving(distributions: dict[str, Any]) -> dict[str, list[str]]:
    """Certificate name or ARN -> the distributions bound to it."""
    serving: dict[str, list[str]] = {}
    for name, dist in sorted(distributions.items()):
        if dist.get("bound"):
            for key in {dist.get("certificate"), dist.get("certificate_arn")} - {None, ""}:
                serving.setdefault(key, []).append(name)
    return serving


def aws_rows(aws: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per certificate, import, aggregated entry and distribution: {kind, name, stage, ...}."""
    distributions = aws.get("distributions") or {}
    all_records = aws.get("validationRecords") or []
    serving = _serving(distributions)
    rows: list[dict[str, Any]] = []
    for kind, section in (("certificate", aws.get("certificates") or {}), ("import", aws.get("imports") or {})):
        for name, cert in sorted(section.items()):
            records = records_of(name, cert, all_records) if kind == "certificate" else []
            served_by = sorted(set(serving.get(name, []) + serving.get(cert.get("arn") or "", [])))
            stage = certificate_stage(cert, records, bool(served_by))
            rows.append({"kind": kind, "name": name, "stage": stage, "status": cert.get("status"),
                         "arn": cert.get("arn"), "domain": cert.get("domain"), "sans": cert.get("sans") or [],
                         "not_after": cert.get("not_after"), "status_message": cert.get("status_message"),
                         "served_by": served_by, "reused_by": cert.get("reused_by") or [],
                         "adopted": bool(cert.get("adopted")), "dns": bool(cert.get("validation")),
                         "validation_records": records if stage == "pending validation" else []})
    stage_of = {row["name"]: row["stage"] for row in rows if row["kind"] == "certificate"}
    for name, wildcard in sorted((aws.get("aggregated") or {}).items()):
        # No certificate of its own: it is as far as the wildcard certificate it reuses.
        rows.append({"kind": "aggregated", "name": name, "stage": stage_of.get(wildcard, "requested"),
                     "reuses": wildcard})
    for name, dist in sorted(distributions.items()):
        rows.append({"kind": "distribution", "name": name, "stage": distribution_stage(dist),
                     **{key: dist.get(key) for key in ("distribution_id", "domain_name", "status", "status_message",
                                                       "certificate", "certificate_arn", "bound", "template",
                                                       "template_version")},
                     "aliases": dist.get("aliases") or [], "adopted": bool(dist.get("adopted"))})
    return rows


def totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Resources per stage, every stage listed. Aggregated entries are not counted: they own no resource."""
    counted = Counter(row["stage"] for row in rows if row["kind"] != "aggregated")
    return {stage: counted.get(stage, 0) for stage in STAGES}


def report(outputs: dict[str, Any], now: datetime | None = None, within: int | None = None) -> dict[str, Any]:
    """The report as data (what --json prints). `expiry`: every certificate's days left and renewal state
    (scripts/report_expiry.py), `within`: the --expiring-within threshold."""
    aws = outputs.get("aws") or {}
    rows = aws_rows(aws)
    document: dict[str, Any] = {"schemaVersion": SCHEMA_VERSION, "resources": rows, "totals": totals(rows),
                                "validation_records": aws.get("validationRecords") or []}
    for cloud in ("huaweicloud", "alicloud"):
        if outputs.get(cloud):
            document[cloud] = outputs[cloud]
    document["expiry"] = report_expiry.expiry(outputs, now or clock.now(), within)
    return document


# --- the table ---------------------------------------------------------------------------------------------

def _detail(row: dict[str, Any]) -> str:
    detail = _stage_detail(row)
    return f"adopted; {detail}" if row.get("adopted") and detail else "adopted" if row.get("adopted") else detail


def _stage_detail(row: dict[str, Any]) -> str:
    kind, stage = row["kind"], row["stage"]
    if kind == "aggregated":
        return f"reuses {row['reuses']}"
    if kind == "distribution":
        where = f"{row.get('distribution_id')} {row.get('domain_name')}"
        if stage == "waiting for certificate":
            return f"{where}: waiting for certificate {row.get('certificate')}"
        return f"{where}: {row.get('status_message')}" if stage == "failed" else where
    if stage == "pending validation" and row.get("dns"):
        return f"{len(row['validation_records'])} DNS record(s) written by certfleet; waiting for the CA"
    if stage == "pending validation":
        return f"{len(row['validation_records'])} DNS record(s) to publish"
    if stage == "bound":
        return f"serves {', '.join(row['served_by'])}"
    if stage == "issued" and row.get("not_after"):
        return f"expires {row['not_after']}"
    return row.get("status_message") or ""


def render_stages(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    table = [("KIND", "NAME", "STAGE", "DETAIL")] + [(r["kind"], r["name"], r["stage"], _detail(r)) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    lines = [f"AWS stages ({len(rows)})"]
    lines += ["  " + "  ".join(cell.ljust(width) for cell, width in zip(line[:3], widths)) + "  " + line[3]
              for line in table]
    counted = totals(rows)
    lines.append("  totals: " + (", ".join(f"{stage} {n}" for stage, n in counted.items() if n) or "none"))
    return [line.rstrip() for line in lines]


def _certificate_section(title: str, section: dict[str, Any]) -> list[str]:
    """Requested or imported ACM certificates, one block each."""
    if not section:
        return []
    lines = [f"{title} ({len(section)})"]
    for name, cert in sorted(section.items()):
        lines.append(f"  {name}: {cert.get('status')}  {cert.get('arn')}{'  (adopted)' if cert.get('adopted') else ''}")
        lines.append(f"    names: {', '.join(cert.get('sans') or [])}")
        if cert.get("reused_by"):
            lines.append(f"    reused by: {', '.join(cert['reused_by'])}")
        if cert.get("not_after") and cert.get("status") == "ISSUED":
            lines.append(f"    expires: {cert['not_after']}")
        renewal = report_expiry.acm_managed(f"aws.certificates.{name}", cert) if "renewal_eligibility" in cert else None
        if renewal and cert.get("status") == "ISSUED":
            lines.append(f"    renewal: {renewal['message']}")
        if cert.get("status") != "ISSUED":
            lines.append(f"    {cert.get('status_message')}")
        lines += validation_lines(cert)
    return lines


def validation_lines(entry: dict[str, Any]) -> list[str]:
    """Zero-touch validation (an entry with `dns`): where certfleet wrote its records and what the CA did."""
    validation = entry.get("validation")
    if not validation:
        return []
    said = validation.get("status_message")
    lines = [] if said == entry.get("status_message") else [f"    dns: {said}"]
    for record in validation.get("records") or []:
        state = ("nothing to publish" if not record.get("name") or "nothing to publish" in (
            record.get("status_message") or "") else "served" if record.get("served") else "not served yet")
        mine = "" if record.get("owned") in (True, None) or state == "nothing to publish" else \
            ", found there (not certfleet's)"
        lines.append(f"      {record.get('name') or '(not asked yet)'} {record.get('type') or ''} in "
                     f"{record.get('zone')}: {state}{mine}")
    return lines


def render_aws_details(aws: dict[str, Any]) -> list[str]:
    lines = _certificate_section("AWS ACM certificates", aws.get("certificates") or {})
    lines += _certificate_section("AWS ACM imported certificates", aws.get("imports") or {})
    distributions = aws.get("distributions") or {}
    if distributions:
        lines.append(f"CloudFront distributions ({len(distributions)})")
        for name, dist in sorted(distributions.items()):
            lines.append(f"  {name}: {dist.get('status')}  {dist.get('distribution_id')}  {dist.get('domain_name')}"
                         f"{'  (adopted)' if dist.get('adopted') else ''}")
            lines.append(f"    aliases: {', '.join(dist.get('aliases') or []) or '(none yet)'}")
            lines.append(f"    certificate: {dist.get('certificate')}"
                         f"{'' if dist.get('bound') else ' (not bound yet)'}")
            version = dist.get("template_version")
            lines.append(f"    template: {dist.get('template')} "
                         f"{f'version {version}' if version else '(live, unpinned)'}")
            if dist.get("status_message"):
                lines.append(f"    {dist['status_message']}")
            lines += edge_lines(dist)
    # Records of certificates with `dns` are certfleet's to write: listed under their certificate instead.
    written = {name for name, cert in (aws.get("certificates") or {}).items() if cert.get("validation")}
    records = [r for r in aws.get("validationRecords") or [] if not set(r.get("certificates") or []) <= written]
    if records:
        lines.append(f"DNS validation records to publish ({len(records)}, de-duplicated)")
        for record in records:
            lines.append(f"  {record['name']} {record['type']} {record['value']}")
            lines.append(f"    for: {', '.join(record['certificates'])}")
    return lines


def stale_edge(dist: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Aliases whose passed check saw another certificate than the one the distribution serves now
    (`certificate_fingerprint`: what its ACM import or deployed copy holds, "" for a requested certificate): a
    re-import since the check. Not judged while the wanted certificate is not bound (the old one serves by design)."""
    current = dist.get("certificate_fingerprint") or ""
    if not current or dist.get("stage") in ("waiting for certificate", "failed") or not dist.get("bound"):
        return {}
    return {alias: result for alias, result in sorted((dist.get("edge") or {}).items())
            if result.get("ok") and result.get("fingerprint") != current}


def edge_lines(dist: dict[str, Any]) -> list[str]:
    """The post-deploy edge check (components/aws/edge_check.py): one line when every alias passed against the
    certificate served now, else one per failing alias with its problem and one per alias checked against an older
    certificate. Nothing when it did not run (edgeCheck off, unbound, still deploying)."""
    edge = dist.get("edge") or {}
    failed = {alias: result for alias, result in sorted(edge.items()) if not result.get("ok")}
    stale = stale_edge(dist)
    if not edge:
        return []
    if not failed and not stale:
        return [f"    edge: serves the bound certificate ({len(edge)} of {len(edge)} aliases checked)"]
    current = dist.get("certificate_fingerprint") or ""
    return ([f"    edge FAILED for {alias}: {result.get('problem')}" for alias, result in failed.items()]
            + [f"    edge NOT CHECKED for {alias}: the last check saw SHA-256 {str(result.get('fingerprint'))[:16]}"
               f"…, but the certificate is {current[:16]}… now (re-imported since): `pulumi up --refresh` checks "
               f"again" for alias, result in stale.items()])


def render(outputs: dict[str, Any], now: datetime | None = None, within: int | None = None) -> str:
    aws = outputs.get("aws") or {}
    lines = render_stages(aws_rows(aws)) + render_aws_details(aws)
    lines += render_huaweicloud(outputs.get("huaweicloud") or {})
    lines += render_alicloud(outputs.get("alicloud") or {})
    lines += report_expiry.render(report_expiry.expiry(outputs, now or clock.now(), within))
    return "\n".join(lines) if lines else "no certfleet outputs in this stack"


def render_huaweicloud(huaweicloud: dict[str, Any]) -> list[str]:
    certificates = huaweicloud.get("certificates") or {}
    if not certificates:
        return []
    lines = [f"Huawei Cloud SCM certificates ({len(certificates)})"]
    for name, cert in sorted(certificates.items()):
        lines.append(f"  {name}: {cert.get('status')}  {cert.get('certificate_id')} (order {cert.get('order_id')})")
        lines.append(f"    names: {', '.join(cert.get('domains') or [])}")
        if cert.get("not_after") and cert.get("status") == "ISSUED":
            lines.append(f"    expires: {cert['not_after']}")
        lines.append(f"    {cert.get('status_message')}")
        lines += validation_lines(cert)
        for record in [] if cert.get("validation") else cert.get("validation_records") or []:
            lines.append(f"    publish: {record['name']} {record['type']} {record['value']}")
    return lines

def render_alicloud(alicloud: dict[str, Any]) -> list[str]:
    orders = alicloud.get("orders") or {}
    if not orders:
        return []
    lines = [f"Alibaba Cloud CAS orders ({len(orders)})"]
    for name, order in sorted(orders.items()):
        # An entry with `instance:` applies through a V2.0 instance (components/alicloud/instance.py): no order id.
        placed = f"instance {order['instance_id']}" if order.get("instance_id") else f"order {order.get('order_id')}"
        lines.append(f"  {name}: {order.get('state')}  {placed} ({order.get('product_code')})")
        lines.append(f"    names: {', '.join(order.get('domains') or [])}")
        if order.get("adopted_by_id"):
            lines.append("    adopted by id (config `adopt`): kept by destroy unless the entry says revokeOnDelete")
        elif order.get("adopted"):
            lines.append("    adopted: an issued order found by name and plan (never revoked by destroy)")
        lines.append(f"    {order.get('status_message')}")
        lines += validation_lines(order)
        challenge = order.get("challenge") or {}
        if challenge.get("type") == "DNS" and not order.get("validation"):
            lines.append(f"    publish: {challenge['name']} {challenge['record_type']} {challenge['value']}")
        elif challenge.get("type") == "FILE":
            lines.append(f"    publish: {challenge['url']} containing {challenge['content']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="certfleet status report from the stack's outputs")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--stack", help="the stack to report on (default: the selected stack)")
    parser.add_argument("--expiring-within", type=int, metavar="DAYS",
                        help="exit 12 when a certificate expires within DAYS, 13 when an expiry cannot be read "
                             "(scripts/pipeline_expiry.py's gate)")
    args = parser.parse_args(argv)
    command = ["pulumi", "stack", "output", "--json"] + (["--stack", args.stack] if args.stack else [])
    text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    outputs = json.loads(text or "{}")
    now, within = clock.now(), args.expiring_within
    print(json.dumps(report(outputs, now, within), indent=2) if args.json else render(outputs, now, within))
    if within is None:
        return 0
    code, verdict = report_expiry.gate(outputs, now, within)
    print("\n".join(verdict), file=sys.stderr if args.json else sys.stdout)  # stdout stays one JSON document
    return code


if __name__ == "__main__":
    sys.exit(main())
