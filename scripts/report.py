"""Print the certificate report from the current stack's outputs (`pulumi stack output --json`).

Secrets stay masked: `pulumi stack output` prints them as "[secret]" unless --show-secrets is given,
and this script never passes it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def render(outputs: dict[str, Any]) -> str:
    lines: list[str] = []
    aws = outputs.get("aws") or {}
    certificates = aws.get("certificates") or {}
    if certificates:
        lines.append(f"AWS ACM certificates ({len(certificates)})")
        for name, cert in sorted(certificates.items()):
            lines.append(f"  {name}: {cert.get('status')}  {cert.get('arn')}")
            lines.append(f"    names: {', '.join(cert.get('sans') or [])}")
            if cert.get("not_after") and cert.get("status") == "ISSUED":
                lines.append(f"    expires: {cert['not_after']}")
            if cert.get("status") != "ISSUED":
                lines.append(f"    {cert.get('status_message')}")
    records = aws.get("validationRecords") or []
    if records:
        lines.append(f"DNS validation records to publish ({len(records)}, de-duplicated)")
        for record in records:
            lines.append(f"  {record['name']} {record['type']} {record['value']}")
            lines.append(f"    for: {', '.join(record['certificates'])}")
    lines += render_huaweicloud(outputs.get("huaweicloud") or {})
    lines += render_alicloud(outputs.get("alicloud") or {})
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
        for record in cert.get("validation_records") or []:
            lines.append(f"    publish: {record['name']} {record['type']} {record['value']}")
    return lines

def render_alicloud(alicloud: dict[str, Any]) -> list[str]:
    orders = alicloud.get("orders") or {}
    if not orders:
        return []
    lines = [f"Alibaba Cloud CAS orders ({len(orders)})"]
    for name, order in sorted(orders.items()):
        lines.append(f"  {name}: {order.get('state')}  order {order.get('order_id')} ({order.get('product_code')})")
        lines.append(f"    names: {', '.join(order.get('domains') or [])}")
        if order.get("adopted"):
            lines.append("    adopted: an issued order found by name and plan (never revoked by destroy)")
        lines.append(f"    {order.get('status_message')}")
        challenge = order.get("challenge") or {}
        if challenge.get("type") == "DNS":
            lines.append(f"    publish: {challenge['name']} {challenge['record_type']} {challenge['value']}")
        elif challenge.get("type") == "FILE":
            lines.append(f"    publish: {challenge['url']} containing {challenge['content']}")
    return lines


def main() -> int:
    text = subprocess.run(["pulumi", "stack", "output", "--json"], check=True, capture_output=True,
                          text=True).stdout
    print(render(json.loads(text or "{}")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
