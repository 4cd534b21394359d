"""Start, check and stop the local servers that stand in for the clouds (the "local default").

    python scripts/local_servers.py start    # idempotent; prints `export ...` lines for the shell
    python scripts/local_servers.py status
    python scripts/local_servers.py publish  # stack outputs on stdin: publish challenges DNS cannot show
    python scripts/local_servers.py clock advance DAYS | clock show   # move / show the emulators' clocks
    python scripts/local_servers.py stop     # stops them and forgets the local stack state with them

The servers and the local stack's state are one unit: moto keeps its objects in memory only, so when the
servers are (re)started from nothing, the local state folder is wiped too, and `pulumi up` starts afresh.
While they run, consecutive `pulumi up` runs see consistent state. Everything lives in `.local/`.

The emulators' clocks (`clock advance DAYS`): every running server's clock moves forward together (the core
emulators' POST /_emulator/clock, the AWS emulator's POST /_certfleet/clock), and the total is recorded in
`.local/clock.json`, so that `start` exports CERTFLEET_CLOCK_OFFSET_SECONDS and certfleet (components/clock.py)
sees the same time as the emulators that issued its certificates: renewal windows and expiry come true without
waiting. The clocks reset with the servers, so the record goes with them (`stop`, a fresh start).

The DNS stack (issue 12): the DNS emulator (`emulators.dns`, an authoritative server on loopback) starts
first; Route 53 (the AWS emulator), Alibaba Cloud DNS (`emulators.alidns`, zone example.cn) and Huawei Cloud
DNS (`emulators.huaweidns`, the delegated sub-zones api.example.cn and portal.example.cn) feed it what they
accept, and the CAS and SCM emulators validate a DNS challenge by resolving it there (`--dns-resolver`), so
an order issues once the stack's validation record is served. The Pulumi run's propagation check asks it too
(CERTFLEET_DNS_RESOLVERS, CERTFLEET_DNS_NAMESERVER_PORT: its zones' NS glue is 127.0.0.1).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
REGISTRY = LOCAL / "servers.json"
STATE_DIR = LOCAL / "state"          # the Pulumi file backend of the local stack
PYTHON = str(ROOT / ".venv" / "bin" / "python")

# Fake credentials for the local servers only. Real ones are never needed or read here.
LOCAL_AWS_KEY = "certfleet-local-key"
LOCAL_AWS_SECRET = "certfleet-local-secret"
LOCAL_HUAWEI_AK = "CERTFLEETLOCALAK"
LOCAL_HUAWEI_SK = "certfleet-local-huawei-secret"
LOCAL_HUAWEI_DOMAIN_ID = "certfleetlocaldomain"
SCM_STATE = LOCAL / "scm.json"       # the SCM emulator's certificates survive its restart
LOCAL_ALIBABA_KEY_ID = "LTAI5tCERTFLEETLOCAL"
LOCAL_ALIBABA_KEY_SECRET = "certfleet-local-alibaba-secret"
# The CAS emulator's orders; reset together with the local stack state (a pending order whose generated
# key went with a wiped state could never be adopted again).
CAS_STATE = LOCAL / "cas.json"
CLOCK_FILE = LOCAL / "clock.json"   # {"offset_seconds": N}: how far `clock advance` moved the emulators' clocks
CLOCK_VARIABLE = "CERTFLEET_CLOCK_OFFSET_SECONDS"  # components/clock.py reads it
CLOCK_PATHS = {"moto": "/_certfleet/clock"}        # the AWS emulator's control API; the others: the core one
CORE_CLOCK_PATH = "/_emulator/clock"
LOCAL_DEPLOY_SECONDS = "5"          # a local distribution is InProgress this long after each change
# The Huawei DNS emulator's default project, given to it explicitly: the DNS SDK's BasicCredentials need one.
LOCAL_HUAWEI_PROJECT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
LOCAL_ALIDNS_DOMAIN = "example.cn"                               # Alibaba serves example.cn ...
LOCAL_HUAWEI_ZONES = ("api.example.cn", "portal.example.cn")     # ... and delegates these to Huawei
LOCAL_ROUTE53_ZONES = ("example.com", "example.org")             # hosted zones seeded in the AWS emulator


@dataclass(frozen=True)
class LocalDns:
    """The DNS emulator that the other servers feed (control `url`) and resolve with (`port`, UDP and TCP)."""

    url: str
    port: int

    @property
    def resolver(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass(frozen=True)
class Server:
    name: str
    # (port, the DNS emulator) -> argv; the DNS emulator itself starts first and gets None
    command: Callable[[int, LocalDns | None], list[str]]
    health_path: str
    env: Callable[[str, LocalDns], dict[str, str]]    # (url, the DNS emulator) -> variables the Pulumi run needs
    server_env: dict[str, str]


DNS = Server(
    name="dns",
    command=lambda port, dns: [PYTHON, "-m", "emulators.dns", "--port", str(port), "--dns-port", "0"],
    health_path="/_emulator/health",
    env=lambda url, dns: {"CERTFLEET_DNS_RESOLVERS": dns.resolver, "CERTFLEET_DNS_NAMESERVER_PORT": str(dns.port)},
    server_env={},
)

SERVERS = (
    DNS,
    Server(
        # The AWS emulator (emulators/aws: moto in-process plus what AWS does and moto lacks). Certificates
        # stay PENDING_VALIDATION for the validation wait, then ISSUED: long enough to see the pending state
        # and its DNS records, short enough that `up --refresh` a little later shows them issued.
        # Distributions stay InProgress for LOCAL_DEPLOY_SECONDS after each change, then Deployed.
        name="moto",
        command=lambda port, dns: [PYTHON, "-m", "emulators.aws", "--port", str(port),
                                   "--deploy-seconds", LOCAL_DEPLOY_SECONDS, "--dns-feed", dns.url,
                                   "--acm-validation-wait",
                                   os.environ.get("CERTFLEET_LOCAL_ACM_VALIDATION_WAIT", "20")],
        health_path="/_certfleet/cloudfront/edge",  # answered once up; an emulator without an edge is restarted
        # CERTFLEET_EDGE_ENDPOINT: the emulator's CloudFront edge, which the distributions' edge check connects to.
        env=lambda url, dns: {"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": LOCAL_AWS_KEY,
                              "AWS_SECRET_ACCESS_KEY": LOCAL_AWS_SECRET, "AWS_DEFAULT_REGION": "us-east-1",
                              "CERTFLEET_EDGE_ENDPOINT": edge_endpoint(url)},
        server_env={},
    ),
    Server(
        name="scm",
        command=lambda port, dns: [PYTHON, "-m", "emulators.scm", "--port", str(port), "--ak", LOCAL_HUAWEI_AK,
                                   "--sk", LOCAL_HUAWEI_SK, "--domain-id", LOCAL_HUAWEI_DOMAIN_ID,
                                   "--state", str(SCM_STATE), "--dns-resolver", dns.resolver],
        health_path="/_emulator/health",
        env=lambda url, dns: {"CERTFLEET_HUAWEICLOUD_SCM_ENDPOINT": url, "HUAWEICLOUD_SDK_AK": LOCAL_HUAWEI_AK,
                              "HUAWEICLOUD_SDK_SK": LOCAL_HUAWEI_SK,
                              "HUAWEICLOUD_SDK_DOMAIN_ID": LOCAL_HUAWEI_DOMAIN_ID},
        # Certificates stay CHECKING until the DNS emulator serves their challenge records (or the control API
        # publishes them: README, "Operations"), so the local stack shows a pending certificate first.
        server_env={},
    ),
    Server(
        name="cas",
        command=lambda port, dns: [PYTHON, "-m", "emulators.cas", "--port", str(port), "--state", str(CAS_STATE),
                                   "--access-key-id", LOCAL_ALIBABA_KEY_ID,
                                   "--access-key-secret", LOCAL_ALIBABA_KEY_SECRET, "--dns-resolver", dns.resolver],
        health_path="/_emulator/health",
        env=lambda url, dns: {"CERTFLEET_ALICLOUD_CAS_ENDPOINT": url.removeprefix("http://"),
                              "CERTFLEET_ALICLOUD_CAS_PROTOCOL": "http",
                              "ALIBABA_CLOUD_ACCESS_KEY_ID": LOCAL_ALIBABA_KEY_ID,
                              "ALIBABA_CLOUD_ACCESS_KEY_SECRET": LOCAL_ALIBABA_KEY_SECRET},
        # Orders stay in domain_verify until the DNS emulator serves their challenge (FILE: until the control API
        # publishes it; README, "Operations"), so the local stack shows a pending order with its challenge.
        server_env={},
    ),
    Server(
        # Alibaba Cloud DNS, one account with CAS (the same access key).
        name="alidns",
        command=lambda port, dns: [PYTHON, "-m", "emulators.alidns", "--port", str(port),
                                   "--access-key-id", LOCAL_ALIBABA_KEY_ID,
                                   "--access-key-secret", LOCAL_ALIBABA_KEY_SECRET,
                                   "--domain", LOCAL_ALIDNS_DOMAIN, "--dns-feed", dns.url],
        health_path="/_emulator/health",
        env=lambda url, dns: {"CERTFLEET_ALIDNS_ENDPOINT": url.removeprefix("http://"),
                              "CERTFLEET_ALIDNS_PROTOCOL": "http"},
        server_env={},
    ),
    Server(
        # Huawei Cloud DNS, one account with SCM (the same AK/SK and domain id).
        name="huaweidns",
        command=lambda port, dns: [PYTHON, "-m", "emulators.huaweidns", "--port", str(port), "--ak", LOCAL_HUAWEI_AK,
                                   "--sk", LOCAL_HUAWEI_SK, "--domain-id", LOCAL_HUAWEI_DOMAIN_ID,
                                   "--project-id", LOCAL_HUAWEI_PROJECT_ID, "--dns-feed", dns.url,
                                   *[arg for zone in LOCAL_HUAWEI_ZONES for arg in ("--zone", zone)]],
        health_path="/_emulator/health",
        env=lambda url, dns: {"CERTFLEET_HUAWEICLOUD_DNS_ENDPOINT": url,
                              "HUAWEICLOUD_SDK_PROJECT_ID": LOCAL_HUAWEI_PROJECT_ID},
        server_env={},
    ),
)


def edge_endpoint(url: str) -> str:
    """host:port of the AWS emulator's CloudFront edge (a TLS listener choosing certificates by SNI)."""
    with urllib.request.urlopen(f"{url}/_certfleet/cloudfront/edge", timeout=10) as response:
        return json.load(response)["endpoint"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str, path: str) -> bool:
    try:
        with urllib.request.urlopen(url + path, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def load_registry() -> dict[str, dict]:
    try:
        return json.loads(REGISTRY.read_text())
    except (OSError, ValueError):
        return {}


def all_running(registry: dict[str, dict]) -> bool:
    return all(s.name in registry and alive(registry[s.name]["pid"])
               and healthy(registry[s.name]["url"], s.health_path) for s in SERVERS) \
        and "dns_port" in registry[DNS.name]


def local_dns(registry: dict[str, dict]) -> LocalDns:
    return LocalDns(registry[DNS.name]["url"], registry[DNS.name]["dns_port"])


def dns_port(url: str) -> int:
    """The port the DNS emulator answers DNS on (it picked a free one)."""
    with urllib.request.urlopen(f"{url}/_emulator/dns/address", timeout=10) as response:
        return int(json.load(response)["port"])


def start_server(server: Server, dns: LocalDns | None) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(LOCAL / f"{server.name}.log", "ab")
    process = subprocess.Popen(server.command(port, dns), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                               env={**os.environ, **server.server_env}, start_new_session=True)
    deadline = time.monotonic() + 30
    while not healthy(url, server.health_path):
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"local server {server.name} did not start; see {LOCAL / (server.name + '.log')}")
        time.sleep(0.2)
    return {"pid": process.pid, "url": url}


def stop_all(registry: dict[str, dict]) -> None:
    for entry in registry.values():
        if alive(entry["pid"]):
            os.killpg(entry["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 10
    while any(alive(e["pid"]) for e in registry.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    REGISTRY.unlink(missing_ok=True)


def start() -> dict[str, dict]:
    LOCAL.mkdir(exist_ok=True)
    registry = load_registry()
    if all_running(registry):
        return registry
    # Some or all are missing: their in-memory objects are gone, so the local stack state must go too.
    stop_all(registry)
    if STATE_DIR.exists():
        print("[local] servers were not running: starting them afresh and resetting the local stack state",
              file=sys.stderr)
        shutil.rmtree(STATE_DIR)
        CAS_STATE.unlink(missing_ok=True)
    CLOCK_FILE.unlink(missing_ok=True)  # fresh emulators start at the real time
    registry = {}
    try:
        dns = None
        for server in SERVERS:  # the DNS emulator first: the others are given its address
            registry[server.name] = start_server(server, dns)
            if server is DNS:
                registry[DNS.name]["dns_port"] = dns_port(registry[DNS.name]["url"])
                dns = local_dns(registry)
        seed_template(registry["moto"]["url"])
        seed_route53_zones(registry["moto"]["url"])
        seed_cas_instance(registry["cas"]["url"])
    except BaseException:
        stop_all(registry)  # none left running unrecorded
        raise
    REGISTRY.write_text(json.dumps(registry, indent=2))
    return registry


# The template distribution the local stack's distributions clone (stacks/Pulumi.local.yaml), created with a
# fixed id whenever the AWS emulator starts from nothing.
LOCAL_TEMPLATE_ID = "E1CERTFLEETTPL"


def seed_template(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    import boto3  # the venv's (scripts/local.sh runs this with .venv's python)

    from emulators.aws.testing import SAMPLE_TEMPLATE, AwsControl
    AwsControl(url).next_distribution_id(LOCAL_TEMPLATE_ID)
    config = {**SAMPLE_TEMPLATE, "CallerReference": "certfleet-local-template", "Comment": "local template"}
    boto3.client("cloudfront", region_name="us-east-1", endpoint_url=url, aws_access_key_id=LOCAL_AWS_KEY,
                 aws_secret_access_key=LOCAL_AWS_SECRET).create_distribution(DistributionConfig=config)


def seed_route53_zones(url: str) -> None:
    """The public hosted zones the local stack's AWS validation records go into (the AWS emulator feeds them to
    the DNS emulator), created whenever the AWS emulator starts from nothing."""
    import boto3

    route53 = boto3.client("route53", region_name="us-east-1", endpoint_url=url, aws_access_key_id=LOCAL_AWS_KEY,
                           aws_secret_access_key=LOCAL_AWS_SECRET)
    for zone in LOCAL_ROUTE53_ZONES:
        route53.create_hosted_zone(Name=zone, CallerReference=f"certfleet-local-{zone}")


# The V2.0 certificate instance the local stack orders through (stacks/Pulumi.local.yaml, `instance:`), as if
# bought in the console: seeded whenever the CAS emulator starts from nothing.
LOCAL_CAS_INSTANCE = "cas-cn-certfleetlocal1"


def seed_cas_instance(url: str) -> None:
    body = json.dumps({"product_code": "digicert-free-1-free", "instance_id": LOCAL_CAS_INSTANCE}).encode()
    request = urllib.request.Request(f"{url}/_emulator/cas/instances", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10):
        pass


def exports(registry: dict[str, dict]) -> list[str]:
    lines = []
    dns = local_dns(registry)
    for server in SERVERS:
        for key, value in server.env(registry[server.name]["url"], dns).items():
            lines.append(f"export {key}='{value}'")
    offset = clock_offset()
    if offset:
        lines.append(f"export {CLOCK_VARIABLE}='{seconds_text(offset)}'")
    return lines


# --- the emulators' clocks ------------------------------------------------------------------------------

def clock_offset() -> float:
    """Seconds `clock advance` has moved the running emulators' clocks (0 when never)."""
    try:
        return float(json.loads(CLOCK_FILE.read_text())["offset_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def seconds_text(seconds: float) -> str:
    return str(int(seconds)) if seconds == int(seconds) else str(seconds)


def clock_call(server: Server, url: str, body: dict | None = None) -> str:
    """The server's clock (ISO 8601), after moving it when `body` says so."""
    request = urllib.request.Request(url + CLOCK_PATHS.get(server.name, CORE_CLOCK_PATH),
                                     method="POST" if body else "GET", data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["now"]


def running_registry() -> dict[str, dict]:
    registry = load_registry()
    if not all_running(registry):
        raise SystemExit("[local] the local servers are not all running: `scripts/local.sh up` starts them (a "
                         "clock moved on stopped servers would be lost with them)")
    return registry


def advance_clocks(days: float) -> list[str]:
    """Move every local emulator's clock `days` forward and record the new total offset."""
    if not days > 0:
        raise SystemExit("[local] the clocks only move forward: DAYS must be a number > 0")
    registry = running_registry()
    base, seconds = clock_offset(), days * 86400
    told = []
    try:
        for server in SERVERS:
            now = clock_call(server, registry[server.name]["url"], {"advance_seconds": seconds})
            told.append(f"{server.name:9} {now}")
    finally:
        if told:  # a clock moved: certfleet follows (a server that failed half-way shows in `clock show`)
            CLOCK_FILE.write_text(json.dumps({"offset_seconds": base + seconds}))
    return told


def show_clocks() -> list[str]:
    registry = running_registry()
    offset = clock_offset()
    lines = [f"offset   {offset / 86400:g} days ({CLOCK_VARIABLE}={seconds_text(offset)}; `scripts/local.sh stop` resets it)"]
    lines += [f"{server.name:9} {clock_call(server, registry[server.name]['url'])}" for server in SERVERS]
    return lines


def publish_challenges(outputs: dict, registry: dict[str, dict]) -> list[str]:
    """Play the customer for the local emulators: publish every challenge a pending order shows, and apply for
    every CAS renewal order (bought by certfleet's renewal, waiting for the console's "apply").

    Needed only for the challenges DNS cannot show: CAS FILE (HTTP) validation and SCM e-mail validation. DNS
    challenges are validated by the CAS and SCM emulators themselves once the DNS emulator serves the stack's
    records; publishing one forces it. An order that moved on meanwhile is skipped. (moto needs nothing: it
    issues ACM certificates by itself after its validation wait.)
    """
    published = []
    pending = [("cas", f"orders/{order['order_id']}", f"CAS order {name}")
               for name, order in ((outputs.get("alicloud") or {}).get("orders") or {}).items()
               if order.get("state") == "domain_verify" and order.get("order_id")]
    pending += [("cas", f"instances/{order['instance_id']}", f"CAS instance certificate {name}")
                for name, order in ((outputs.get("alicloud") or {}).get("orders") or {}).items()
                if order.get("state") == "pending" and order.get("instance_id") and order.get("challenge")]
    pending += [("scm", f"certificates/{cert['certificate_id']}", f"SCM certificate {name}")
                for name, cert in ((outputs.get("huaweicloud") or {}).get("certificates") or {}).items()
                if cert.get("status") == "CHECKING" and cert.get("certificate_id")]
    # A CAS renewal (RenewCertificateOrderForPackageRequest) places its order bought but not applied for; CAS has
    # no API to apply for it (reference/alibaba-cas.md), so here the customer applies in the console (docs/renewal.md).
    renewals = [(f"orders/{order['order_id']}/advance", f"CAS renewal {name} (applied for)")
                for name, order in ((outputs.get("alicloud") or {}).get("orders") or {}).items()
                if order.get("state") == "payed" and order.get("order_id")
                and ((order.get("renewal") or {}).get("generation") or 0) > 0]
    steps = [(server, f"{path}/publish", label, b"{}") for server, path, label in pending]
    steps += [("cas", path, label, json.dumps({"to": "domain_verify"}).encode()) for path, label in renewals]
    for server, path, label, body in steps:
        request = urllib.request.Request(f"{registry[server]['url']}/_emulator/{server}/{path}",
                                         data=body, method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10):
                published.append(label)
        except urllib.error.HTTPError as error:
            if error.code >= 500:
                raise
            # 4xx: no open challenge any more (validated through DNS since the outputs were read)
    return published


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        print("\n".join(exports(start())))
    elif command == "stop":
        stop_all(load_registry())
        shutil.rmtree(STATE_DIR, ignore_errors=True)
        SCM_STATE.unlink(missing_ok=True)
        CAS_STATE.unlink(missing_ok=True)
        CLOCK_FILE.unlink(missing_ok=True)
        print("[local] servers stopped; local stack state removed", file=sys.stderr)
    elif command == "publish":  # stack outputs (JSON) on stdin
        published = publish_challenges(json.load(sys.stdin), load_registry())
        print(f"[local] published the challenges of: {', '.join(published) or 'nothing pending'} (DNS challenges "
              f"validate by themselves once their records are served; this is for FILE challenges and CAS renewals)", file=sys.stderr)
    elif command == "clock":
        action = argv[2] if len(argv) > 2 else "show"
        if action == "advance" and len(argv) == 4:
            try:
                days = float(argv[3])
            except ValueError:
                raise SystemExit(f"[local] clock advance DAYS: {argv[3]!r} is not a number") from None
            print("\n".join(advance_clocks(days)))
            print(f"[local] the emulators' clocks are {clock_offset() / 86400:g} days ahead; the next scripts/local.sh "
                  f"command runs certfleet with {CLOCK_VARIABLE}={seconds_text(clock_offset())}", file=sys.stderr)
        elif action == "show" and len(argv) == 3:
            print("\n".join(show_clocks()))
        else:
            print("usage: clock advance DAYS | clock show", file=sys.stderr)
            return 2
    elif command == "status":
        registry = load_registry()
        for server in SERVERS:
            entry = registry.get(server.name)
            up = entry is not None and alive(entry["pid"]) and healthy(entry["url"], server.health_path)
            dns = f" (DNS on 127.0.0.1:{entry['dns_port']})" if up and "dns_port" in entry else ""
            print(f"{server.name:9} {'running at ' + entry['url'] + dns if up else 'stopped'}")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
