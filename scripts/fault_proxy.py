"""A fault-injecting reverse proxy for AWS-style JSON APIs (moto server), for the crash-and-fault campaign.

    .venv/bin/python scripts/fault_proxy.py --upstream http://127.0.0.1:MOTO_PORT [--port 0] [--rate 0.2]
        [--seed N] [--kinds 500,throttle,drop] [--list-lag SECONDS] [--lag-actions GetResources,ListCertificates]

Prints its URL first (`http://127.0.0.1:PORT`, loopback only), then serves until SIGTERM/Ctrl-C. Every
request is forwarded to the upstream, except that at `rate` a request is hit by one fault, chosen evenly
among `kinds`:

- `500`      answered 500 InternalFailure in AWS JSON form, **without** forwarding (nothing happened);
- `throttle` answered 400 ThrottlingException ("Rate exceeded"), without forwarding;
- `drop`     forwarded, the upstream's answer read in full, then the connection is closed without a
             response (the server acted; the client never learns it).

`--list-lag SECONDS` emulates an eventually consistent listing: a certificate returned by
RequestCertificate is left out of the answers of the `--lag-actions` for that long. By default only the tag
index (Resource Groups Tagging API GetResources) lags, as AWS documents it can behind ACM; add
ListCertificates to make ACM's own list lag too.

Control (no authentication, not forwarded): `GET /_proxy/stats` (counts per action and fault),
`POST /_proxy/config {"rate": .., "kinds": [..], "list_lag": .., "lag_actions": [..]}` (change at run time;
rate 0 = a plain proxy).

The log (stderr) has one line per request: action, fault and status. Bodies are never logged (they may carry
certificates and keys), nor headers (they carry the request signature).
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import threading
import time
import urllib.parse
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
KINDS = ("500", "throttle", "drop")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "content-length"}
CONTROL_PREFIX = "/_proxy/"
# Listing actions (short name -> X-Amz-Target, the answer's list) whose answers can lag.
LISTING_ACTIONS = {"ListCertificates": ("CertificateManager.ListCertificates", "CertificateSummaryList"),
                   "GetResources": ("ResourceGroupsTaggingAPI_20170126.GetResources", "ResourceTagMappingList")}
DEFAULT_LAG_ACTIONS = ("GetResources",)
CREATE_ACTION = "CertificateManager.RequestCertificate"


class FaultPolicy:
    """What to inject; shared by the handler threads."""

    def __init__(self, rate: float, kinds: tuple[str, ...], list_lag: float, seed: int | None,
                 lag_actions: tuple[str, ...] = DEFAULT_LAG_ACTIONS) -> None:
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.rate, self.kinds, self.list_lag, self.lag_actions = rate, kinds, list_lag, tuple(lag_actions)
        self.created: dict[str, float] = {}        # ARN -> monotonic time RequestCertificate returned it
        self.stats: dict[str, dict[str, int]] = {}  # action -> {"calls": n, "<fault>": n, "hidden": n}

    def configure(self, changes: dict) -> dict:
        with self.lock:
            if "rate" in changes:
                rate = changes["rate"]
                if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                    raise ValueError("rate must be a number in [0, 1]")
                self.rate = float(rate)
            if "kinds" in changes:
                kinds = tuple(changes["kinds"])
                if not kinds or set(kinds) - set(KINDS):
                    raise ValueError(f"kinds must be a non-empty subset of {list(KINDS)}")
                self.kinds = kinds
            if "list_lag" in changes:
                lag = changes["list_lag"]
                if not isinstance(lag, (int, float)) or lag < 0:
                    raise ValueError("list_lag must be a number >= 0")
                self.list_lag = float(lag)
            if "lag_actions" in changes:
                actions = tuple(changes["lag_actions"])
                if set(actions) - set(LISTING_ACTIONS):
                    raise ValueError(f"lag_actions must be a subset of {sorted(LISTING_ACTIONS)}")
                self.lag_actions = actions
            return self.settings()

    def settings(self) -> dict:
        return {"rate": self.rate, "kinds": list(self.kinds), "list_lag": self.list_lag,
                "lag_actions": list(self.lag_actions)}

    def lagging_list(self, target: str) -> str | None:
        """The list key of a lagging listing action's answer, or None when `target` does not lag."""
        for name in self.lag_actions:
            if LISTING_ACTIONS[name][0] == target:
                return LISTING_ACTIONS[name][1]
        return None

    def pick(self, action: str) -> str | None:
        with self.lock:
            counts = self.stats.setdefault(action, {"calls": 0})
            counts["calls"] += 1
            if self.rate <= 0 or self.random.random() >= self.rate:
                return None
            kind = self.random.choice(self.kinds)
            counts[kind] = counts.get(kind, 0) + 1
            return kind

    def count(self, action: str, what: str, n: int = 1) -> None:
        with self.lock:
            counts = self.stats.setdefault(action, {"calls": 0})
            counts[what] = counts.get(what, 0) + n

    def note_created(self, arn: str) -> None:
        with self.lock:
            self.created.setdefault(arn, time.monotonic())

    def lagging(self) -> set[str]:
        """ARNs still missing from listings."""
        with self.lock:
            now = time.monotonic()
            return {arn for arn, at in self.created.items() if now - at < self.list_lag}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    upstream: tuple[str, int]
    policy: FaultPolicy

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that went away (e.g. a killed `pulumi up`): nothing to report
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "certfleet-fault-proxy"
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith(CONTROL_PREFIX):
            return self._control(body)
        action = self.headers.get("X-Amz-Target") or _query_action(self.path, body) or self.command
        policy = self.server.policy
        fault = policy.pick(action)
        if fault == "500":
            self._log(action, fault, 500)
            return self._answer(500, {"__type": "InternalFailure", "message": "injected fault: internal error"})
        if fault == "throttle":
            self._log(action, fault, 400)
            return self._answer(400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
        try:
            status, headers, answer = self._forward(body)
        except OSError as err:
            self._log(action, "upstream-error", 502)
            return self._answer(502, {"__type": "InternalFailure", "message": f"proxy: upstream failed: {err}"})
        if status == 200 and action == CREATE_ACTION:
            try:
                policy.note_created(json.loads(answer)["CertificateArn"])
            except (ValueError, KeyError, TypeError):
                pass
        list_key = policy.lagging_list(action) if status == 200 and policy.list_lag > 0 else None
        if list_key:
            answer = self._hide_lagging(action, list_key, answer)
        if fault == "drop":
            self._log(action, fault, status)
            self.close_connection = True  # the upstream acted; the client gets no answer at all
            return
        self._log(action, None, status)
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer)

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        host, port = self.server.upstream
        connection = HTTPConnection(host, port, timeout=120)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _hide_lagging(self, action: str, key: str, answer: bytes) -> bytes:
        lagging = self.server.policy.lagging()
        if not lagging:
            return answer
        try:
            data = json.loads(answer)
            items = data.get(key) or []
            kept = [i for i in items if (i.get("CertificateArn") or i.get("ResourceARN")) not in lagging]
        except (ValueError, AttributeError):
            return answer
        if len(kept) == len(items):
            return answer
        self.server.policy.count(action, "hidden", len(items) - len(kept))
        data[key] = kept
        return json.dumps(data).encode()

    def _answer(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", f"fault-proxy-{time.monotonic_ns()}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _control(self, body: bytes) -> None:
        policy = self.server.policy
        path = self.path[len(CONTROL_PREFIX):]
        try:
            if self.command == "GET" and path == "stats":
                with policy.lock:
                    result = {"settings": policy.settings(), "stats": json.loads(json.dumps(policy.stats))}
                return self._json(200, result)
            if self.command == "POST" and path == "config":
                return self._json(200, policy.configure(json.loads(body or b"{}")))
        except ValueError as err:
            return self._json(400, {"error": str(err)})
        return self._json(404, {"error": f"no control route {self.command} {self.path}"})

    def _json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _log(self, action: str, fault: str | None, status: int) -> None:
        sys.stderr.write(f"{time.strftime('%H:%M:%S')} {action} -> {status}{f' [fault: {fault}]' if fault else ''}\n")

    def log_request(self, code="-", size="-") -> None:
        pass  # _log says more, and never the query string

    def log_message(self, format: str, *args) -> None:
        pass


def _query_action(path: str, body: bytes) -> str | None:
    """`Action=` of query-protocol calls (STS and the like), from the query string or a form body."""
    query = urllib.parse.urlsplit(path).query
    for source in (query, body.decode("latin-1") if body[:7] == b"Action=" or b"&Action=" in body else ""):
        values = urllib.parse.parse_qs(source).get("Action")
        if values:
            return values[0]
    return None


def make_server(upstream: str, port: int = 0, rate: float = 0.0, kinds: tuple[str, ...] = KINDS,
                list_lag: float = 0.0, seed: int | None = None,
                lag_actions: tuple[str, ...] = DEFAULT_LAG_ACTIONS) -> _Server:
    parsed = urllib.parse.urlsplit(upstream)
    server = _Server((HOST, port), _Handler)
    server.upstream = (parsed.hostname or HOST, parsed.port or 80)
    server.policy = FaultPolicy(rate, tuple(kinds), list_lag, seed, lag_actions)
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", required=True, help="the server to forward to, e.g. http://127.0.0.1:5000")
    parser.add_argument("--port", type=int, default=0, help="loopback port to listen on (0 = a free one)")
    parser.add_argument("--rate", type=float, default=0.0, help="share of calls hit by a fault (0..1)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, from {','.join(KINDS)}")
    parser.add_argument("--list-lag", type=float, default=0.0, help="seconds a new certificate is not listed")
    parser.add_argument("--lag-actions", default=",".join(DEFAULT_LAG_ACTIONS),
                        help=f"listings that lag, from {','.join(LISTING_ACTIONS)}")
    parser.add_argument("--seed", type=int, default=None, help="seed of the fault dice")
    args = parser.parse_args(argv)
    kinds = tuple(k for k in args.kinds.split(",") if k)
    lag_actions = tuple(a for a in args.lag_actions.split(",") if a)
    if not kinds or set(kinds) - set(KINDS) or not 0 <= args.rate <= 1 or set(lag_actions) - set(LISTING_ACTIONS):
        parser.error("bad --kinds, --rate or --lag-actions")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = make_server(args.upstream, args.port, args.rate, kinds, args.list_lag, args.seed, lag_actions)
    print(f"http://{HOST}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(0.1)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
