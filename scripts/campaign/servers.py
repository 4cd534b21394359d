"""The campaign's own servers: moto behind scripts/fault_proxy.py, the CAS and the SCM emulator, on free
loopback ports with fake credentials of their own. Starting and stopping them, switching their faults and
lagging listings on and off, and asking them (not through the proxy) what they hold."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from scripts.campaign.processes import (MARKER, PYTHON, ROOT, clean_environ, free_port, http_json,
                                        wait_until_healthy)

# Fake credentials for the campaign's own servers. Distinctive, so the plaintext scan can look for them.
AWS_KEY, AWS_SECRET = "CAMPAIGNAWSKEY0000001", "campaign-aws-secret-Qx7Rb2Lm"
ALIBABA_KEY_ID, ALIBABA_SECRET = "LTAI5tCAMPAIGN000001", "campaign-alibaba-secret-Vd3Kp9Wn"
HUAWEI_AK, HUAWEI_SK, HUAWEI_DOMAIN_ID = "CAMPAIGNHUAWEIAK0001", "campaign-huawei-secret-Tz5Hc8Jf", "campaigndomain01"
HUAWEI_PROJECT_ID = "c0ffee00c0ffee00c0ffee00c0ffee01"  # the v2 purchase's /v2/{project_id}/ (the SCM emulator's)

ACM_RESOURCE_TAG, SCM_RESOURCE_TAG = "certfleet:resource", "certfleet-resource"
ALL_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]
MOTO_ACM_VALIDATION_WAIT = "20"


@dataclass
class Servers:
    """moto (+ the fault proxy in front of it), the CAS and the SCM emulator: subprocesses with logs."""

    campaign_id: str
    logs: Path
    seed: int
    cas_listing: str = "primary"  # the CAS emulator's order_domain_style: ListUserCertificateOrder's Domain
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)

    def _start(self, name: str, argv: list[str], env: dict[str, str], health: str, url: str | None = None) -> str:
        log = open(self.logs / f"server-{name}.log", "ab")
        process = subprocess.Popen(argv, stdout=subprocess.PIPE if url is None else log, stderr=log, cwd=ROOT,
                                   env={**clean_environ(), **env, MARKER: self.campaign_id},
                                   start_new_session=True)
        self.processes[name] = process
        if url is None:  # the server prints its URL first
            url = process.stdout.readline().decode().strip()
            if not url.startswith("http://127.0.0.1:"):
                raise RuntimeError(f"{name} did not print its URL (see {self.logs / f'server-{name}.log'})")
        wait_until_healthy(url + health, process)
        self.urls[name] = url
        return url

    def start(self) -> None:
        port = free_port()
        self._start("moto", [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                    {"MOTO_ACM_VALIDATION_WAIT": MOTO_ACM_VALIDATION_WAIT}, "/moto-api/", f"http://127.0.0.1:{port}")
        self._start("aws-proxy", [PYTHON, str(ROOT / "scripts" / "fault_proxy.py"), "--upstream", self.urls["moto"],
                                  "--seed", str(self.seed)], {}, "/_proxy/stats")
        self._start("cas", [PYTHON, "-m", "emulators.cas", "--port", "0", "--package-total", "1000",
                            "--order-domain-style", self.cas_listing],
                    {"EMU_CAS_ACCESS_KEY_ID": ALIBABA_KEY_ID, "EMU_CAS_ACCESS_KEY_SECRET": ALIBABA_SECRET},
                    "/_emulator/health")
        self._start("scm", [PYTHON, "-m", "emulators.scm", "--port", "0", "--domain-id", HUAWEI_DOMAIN_ID,
                            "--project-id", HUAWEI_PROJECT_ID],
                    {"EMU_SCM_AK": HUAWEI_AK, "EMU_SCM_SK": HUAWEI_SK}, "/_emulator/health")
        for process in self.processes.values():
            if process.stdout is not None:  # drain what follows the URL line into nothing
                process.stdout.close()

    def stop(self) -> None:
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=5)

    def pulumi_env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.urls["aws-proxy"], "AWS_ACCESS_KEY_ID": AWS_KEY,
            "AWS_SECRET_ACCESS_KEY": AWS_SECRET, "AWS_DEFAULT_REGION": "us-east-1",
            "CERTFLEET_ALICLOUD_CAS_ENDPOINT": self.urls["cas"].removeprefix("http://"),
            "CERTFLEET_ALICLOUD_CAS_PROTOCOL": "http",
            "ALIBABA_CLOUD_ACCESS_KEY_ID": ALIBABA_KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ALIBABA_SECRET,
            "CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT": self.urls["scm"], "HUAWEICLOUD_SDK_AK": HUAWEI_AK,
            "HUAWEICLOUD_SDK_SK": HUAWEI_SK, "HUAWEICLOUD_SDK_DOMAIN_ID": HUAWEI_DOMAIN_ID,
        }

    # --- faults ---

    def faults_on(self, rate: float, list_lag_seconds: float, tag_lag_reads: int) -> None:
        """`rate` of all cloud calls hit by one fault, evenly a lost answer, a 5xx or throttling."""
        http_json("POST", self.urls["aws-proxy"] + "/_proxy/config",
                  {"rate": rate, "kinds": ["drop", "500", "throttle"], "list_lag": list_lag_seconds})
        kinds = [{"drop_response": True}, {"status": 500}, {"status": 429}]
        for name in ("cas", "scm"):
            http_json("DELETE", self.urls[name] + "/_emulator/faults")
            share = rate / len(kinds)
            for i, kind in enumerate(kinds):  # rules are tried in order: conditional chances add up to `rate`
                chance = share / (1 - i * share)
                if chance > 0:
                    http_json("POST", self.urls[name] + "/_emulator/faults",
                              {"action": "*", "times": None, "probability": min(1.0, chance), **kind})
        http_json("POST", self.urls["cas"] + "/_emulator/cas/settings", {"list_lag": list_lag_seconds})
        http_json("POST", self.urls["scm"] + "/_emulator/scm/settings", {"tag_index_lag_reads": tag_lag_reads})

    def faults_off(self) -> dict[str, dict[str, int]]:
        """Stops injecting; returns how many calls each kind of fault hit, per server."""
        hit: dict[str, dict[str, int]] = {"aws": self.aws_fault_stats()}
        http_json("POST", self.urls["aws-proxy"] + "/_proxy/config", {"rate": 0, "list_lag": 0})
        for name in ("cas", "scm"):
            counts = hit.setdefault(name, {})
            for rule in http_json("GET", self.urls[name] + "/_emulator/faults")["faults"]:
                kind = "drop" if rule.get("drop_response") else str(rule.get("status"))
                counts[kind] = counts.get(kind, 0) + rule.get("hits", 0)
            http_json("DELETE", self.urls[name] + "/_emulator/faults")
        http_json("POST", self.urls["cas"] + "/_emulator/cas/settings", {"list_lag": 0})
        http_json("POST", self.urls["scm"] + "/_emulator/scm/settings", {"tag_index_lag_reads": 0})
        return hit

    def aws_fault_stats(self) -> dict[str, int]:
        stats = http_json("GET", self.urls["aws-proxy"] + "/_proxy/stats")["stats"]
        totals: dict[str, int] = {}
        for counts in stats.values():
            for key, value in counts.items():
                totals[key] = totals.get(key, 0) + value
        return totals

    def fault_counters(self) -> dict[str, dict[str, int]]:
        """How many calls each kind of fault has hit so far, per server (faults stay on)."""
        counters = {"aws": {k: v for k, v in self.aws_fault_stats().items() if k != "calls"}}
        for name in ("cas", "scm"):
            counts = counters.setdefault(name, {})
            for rule in http_json("GET", self.urls[name] + "/_emulator/faults")["faults"]:
                kind = "drop" if rule.get("drop_response") else str(rule.get("status"))
                counts[kind] = counts.get(kind, 0) + rule.get("hits", 0)
        return counters

    # --- what the servers hold ---

    def acm_certificates(self) -> list[dict]:
        """Every ACM certificate at moto (asked directly, not through the fault proxy), with its tags."""
        import boto3
        acm = boto3.client("acm", region_name="us-east-1", endpoint_url=self.urls["moto"],
                           aws_access_key_id=AWS_KEY, aws_secret_access_key=AWS_SECRET)
        result = []
        for page in acm.get_paginator("list_certificates").paginate(Includes={"keyTypes": ALL_KEY_TYPES}):
            for summary in page["CertificateSummaryList"]:
                arn = summary["CertificateArn"]
                tags = {t["Key"]: t.get("Value", "") for t in
                        acm.list_tags_for_certificate(CertificateArn=arn).get("Tags", [])}
                result.append({"kind": "acm", "id": arn, "domain": (summary.get("DomainName") or "").lower(),
                               "tags": tags, "status": summary.get("Status"),
                               "entry": tags.get(ACM_RESOURCE_TAG, "").rpartition("/")[2]})
        return result

    def cas_orders(self) -> list[dict]:
        state = http_json("GET", self.urls["cas"] + "/_emulator/state")
        return [{"kind": "cas", "id": str(o["order_id"]), "domains": [d.lower() for d in o["domains"]],
                 "domain": ",".join(o["domains"]).lower(), "product_code": o["product_code"], "status": o["state"],
                 "csr": bool(o.get("csr"))} for o in state["orders"]]

    def scm_certificates(self) -> list[dict]:
        listed = http_json("GET", self.urls["scm"] + "/_emulator/scm/certificates")["certificates"]
        return [{"kind": "scm", "id": c["id"], "status": c.get("status"), "tags": c.get("tags") or {},
                 "domain": (c.get("domain") or "").lower(),
                 "entry": (c.get("tags") or {}).get(SCM_RESOURCE_TAG, "").rpartition("/")[2]} for c in listed]

    def inventory(self) -> dict[tuple[str, str], dict]:
        """Everything the three servers hold, by (kind, id)."""
        return {(o["kind"], o["id"]): o
                for o in self.acm_certificates() + self.cas_orders() + self.scm_certificates()}

    def requests_held(self) -> dict[tuple[str, str], str]:
        """(kind, id) -> the CSR the server holds for a CAS order or SCM certificate ("" when none). Read from
        the emulators' saved state, which also holds keys: kept in memory, never written anywhere."""
        held = {("cas", str(o["order_id"])): (o.get("csr") or "").strip()
                for o in http_json("GET", self.urls["cas"] + "/_emulator/state")["orders"]}
        held.update({("scm", c["id"]): (c.get("csr_pem") or "").strip()
                     for c in http_json("GET", self.urls["scm"] + "/_emulator/state")["certificates"]})
        return held
