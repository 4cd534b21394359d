"""No private key text in a deployment target's errors, whatever carried it there (components/key_text.py).

CAS is RPC-style: UploadUserCertificate sends `Key` and `Cert` in the URL's query, and requests prints that URL
in a transport error ("Max retries exceeded with url: /?...Key=-----BEGIN+PRIVATE+KEY-----%0A..."); a gateway may
echo the request line in its answer. The official SDK runs against a port nothing listens on, and against a
loopback server that echoes the request path in a 400. Also: CAS reads and deletes never fetch the key back
(GetUserCertificateDetail with CertFilter=True), against the CAS emulator.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from datetime import datetime, timezone
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import pytest

from components import key_text
from components.alicloud import client as cas_api
from components.deploy.cas_upload import CasUploadProvider
from components.errors import CloudError
from emulators.cas.responses import CasApi
from tests.emulators.cas_scaffolding import PROXY_VARIABLES
from tests.provider.test_cas_provider import FakeClock
from tests.provider.test_deploy_cas import TAG, create, emulator, inputs, provider, update  # noqa: F401 (fixtures)
from tests.pki import Pki


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki.make(slot=7, now=datetime.now(timezone.utc))


def key_lines(private_key_pem: str) -> list[str]:
    return [line for line in private_key_pem.splitlines() if line and "-----" not in line]


def shows_key_anyhow(text: str, private_key_pem: str) -> list[str]:
    """Each key line found in `text` raw, URL-encoded, or form-encoded ('+' for a space); and PEM markers."""
    found = [line for line in key_lines(private_key_pem)
             if line in text or quote(line, safe="") in text or quote_plus(line) in text]
    return found + [marker for marker in ("PRIVATE KEY", "PRIVATE+KEY", "PRIVATE%20KEY") if marker in text]


class _Echo(http.server.BaseHTTPRequestHandler):
    """A gateway that answers 400 with the request line (query and all) in its message."""

    def do_POST(self):  # noqa: N802 (the handler's name)
        body = ('{"Code":"InvalidParameter","Message":"bad request ' + self.path.replace('"', "'")
                + '","RequestId":"x"}').encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def cas_at(monkeypatch):
    """Point the CAS client at 127.0.0.1:<port> (the test decides what, if anything, listens there)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(cas_api.ENV_ACCESS_KEY_ID, "id")
    monkeypatch.setenv(cas_api.ENV_ACCESS_KEY_SECRET, "secret")
    monkeypatch.setenv(cas_api.ENV_PROTOCOL, "http")

    def point(port: int) -> CasUploadProvider:
        monkeypatch.setenv(cas_api.ENV_ENDPOINT, f"127.0.0.1:{port}")
        cas_api._clients.clear()
        upload = CasUploadProvider()
        upload.clock = FakeClock()
        return upload
    yield point
    cas_api._clients.clear()


def test_an_upload_that_gets_no_answer_shows_no_key_text(cas_at, pki):
    props = inputs(pki)
    with pytest.raises(CloudError) as raised:
        cas_at(_free_port()).create(props)  # nothing listens: "Max retries exceeded with url: /?...Key=..."
    text = str(raised.value)
    assert "cas.UploadUserCertificate" in text and "?[query removed]" in text
    assert shows_key_anyhow(text, props["private_key_pem"]) == []
    assert "AccessKeyId=id" not in text and "Signature=" not in text  # the query's credentials go with it


def test_a_gateway_echoing_the_request_line_shows_no_key_text(cas_at, pki):
    props = inputs(pki)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(CloudError) as raised:
            cas_at(server.server_address[1]).create(props)
    finally:
        server.shutdown()
    text = str(raised.value)
    assert "InvalidParameter" in text and shows_key_anyhow(text, props["private_key_pem"]) == []


@pytest.mark.parametrize("encode", [lambda t: t, lambda t: quote(t, safe=""), quote_plus,
                                    lambda t: quote_plus(t).replace("%2B", "+")])
def test_scrub_withholds_key_text_in_any_encoding_outside_a_query(pki, encode):
    _, key = pki.leaf(["x.example.com"])
    body = "".join(key_lines(key))
    for start in range(0, len(body) - 70, 5):  # a piece cut anywhere: runs holding '+' are left shorter
        leaked = f"CAS says: bad Key {encode(body[start:start + 65])} in field"  # no PEM markers, no URL
        scrubbed = key_text.scrub(leaked, key)
        assert scrubbed.startswith("CAS says") or scrubbed == key_text.WITHHELD
        for decoded in (scrubbed, unquote(scrubbed), unquote_plus(scrubbed)):
            flat = "".join(c for c in decoded if c.isalnum() or c in "/=")
            assert not any(body[i:i + 16].replace("+", "") in flat for i in range(len(body) - 16)), start
        assert key_text.holds_key_text(leaked, key)
    assert key_text.scrub("The certificate is in use by CDN.", key) == "The certificate is in use by CDN."


def test_scrub_withholds_key_text_a_json_body_escaped(pki):
    """A gateway echoing a JSON body: the key's line breaks as \\n, a '+' perhaps as \\u002B."""
    _, key = pki.leaf(["x.example.com"])
    lines = key_lines(key)
    for first in range(len(lines) - 2):
        piece = lines[first][-15:] + "\n" + lines[first + 1][:15]   # no run of 16 on either side of the break
        for escaped in (json.dumps(piece), json.dumps(piece).replace("+", "\\u002B"),
                        quote(json.dumps(piece), safe=""), quote_plus(json.dumps(piece))):
            leaked = f'gateway says: {{"Key": {escaped}}} is invalid'
            assert key_text.scrub(leaked, key) == key_text.WITHHELD, escaped
            assert key_text.holds_key_text(leaked, key)


def test_cas_reads_and_deletes_never_fetch_the_key_back(provider, emulator, pki, monkeypatch):  # noqa: F811
    asked: list[bool] = []
    original = CasApi.get_user_certificate_detail

    def recorded(self, params):
        asked.append(params.bool("CertFilter"))
        return original(self, params)

    monkeypatch.setattr(CasApi, "get_user_certificate_detail", recorded)
    outs = create(provider, inputs(pki))
    provider.read(TAG, outs)
    renewed = update(provider, outs, inputs(pki))  # deletes the previous copy: its tags are read first
    provider.delete(TAG, renewed)
    assert asked and all(asked), asked  # CertFilter=True every time: no Cert, no Key in the answer


def test_a_piece_of_key_left_between_two_escapes_is_withheld(pki):
    # quote_plus writes the key's '+' and '/' as %2B and %2F: the long base64 runs on either side are removed,
    # and the piece between two escapes (here 19 characters of the key) must not pass either.
    _, key = pki.leaf(["x.example.com"])
    body = "".join(key_lines(key))
    piece = next(body[i + 1:i + 20] for i in range(len(body) - 20)
                 if body[i] in "+/" and not {"+", "/"} & set(body[i + 1:i + 20]))
    leaked = f"CAS says: bad value %2B{piece}%2F in field Key"
    assert key_text.scrub(leaked, key) == key_text.WITHHELD
