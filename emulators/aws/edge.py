"""CloudFront's edge on loopback: one TLS listener for every distribution, the certificate chosen by SNI.

As CloudFront serves an `sni-only` distribution: the handshake's SNI name picks the enabled distribution whose
aliases match it (an exact alias before a wildcard one), and the listener presents that distribution's ACM
certificate and key as moto holds them at this moment, so a re-import, a swapped ViewerCertificate or an ACM
renewal is served at the next handshake. A name no distribution serves, or no SNI at all, fails the handshake
(CloudFront drops it). No HTTP is spoken: a handshake is all certfleet's edge check needs
(components/aws/edge_check.py).

Python's ssl loads certificates and keys from files only: each (certificate, key) pair is written to a private
temporary directory, loaded into an SSLContext and removed at once; the contexts are kept in memory, keyed by
the pair's digest.
"""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
import tempfile
import threading
from typing import TYPE_CHECKING

from moto.acm import models as acm_models

from emulators.aws import cloudfront

if TYPE_CHECKING:
    from emulators.aws.models import EmulatorState

HANDSHAKE_TIMEOUT_SECONDS = 10.0


class EdgeListener:
    """`EdgeListener(state, port=0).start()`; `.address` is (host, port); `.stop()`."""

    def __init__(self, state: "EmulatorState", host: str = "127.0.0.1", port: int = 0):
        self.state = state
        self._socket = socket.create_server((host, port))
        self._contexts: dict[bytes, ssl.SSLContext] = {}
        self._contexts_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        # The base context has no certificate: a handshake whose name finds no distribution cannot complete.
        self._base = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._base.sni_callback = self._choose_certificate

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._socket.getsockname()[:2]
        return host, port

    def start(self) -> "EdgeListener":
        self._thread = threading.Thread(target=self._accept, name="aws-emulator-edge", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        try:
            self._socket.close()
        finally:
            if self._thread is not None:
                self._thread.join(timeout=5)
                self._thread = None

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return  # closed by stop()
            threading.Thread(target=self._handshake, args=(connection,), daemon=True).start()

    def _handshake(self, connection: socket.socket) -> None:
        connection.settimeout(HANDSHAKE_TIMEOUT_SECONDS)
        try:
            with self._base.wrap_socket(connection, server_side=True):
                pass  # the handshake is the whole conversation
        except (OSError, ssl.SSLError):
            pass  # an unknown name, a client that went away: nothing to serve
        finally:
            connection.close()

    def _choose_certificate(self, tls: ssl.SSLObject, server_name: str | None, _context) -> int | None:
        with self.state.lock:  # moto's objects, read while no wrapped call changes them
            served = serving(server_name) if server_name else None
        if served is None:
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        try:
            tls.context = self._context_for(*served)
        except (ssl.SSLError, OSError):
            return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR  # a pair OpenSSL refuses: served by no edge either
        return None

    def _context_for(self, certificate: bytes, key: bytes) -> ssl.SSLContext:
        digest = hashlib.sha256(certificate + b"\0" + key).digest()
        with self._contexts_lock:
            context = self._contexts.get(digest)
            if context is None:
                context = self._contexts[digest] = loaded_context(certificate, key)
            return context


def loaded_context(certificate: bytes, key: bytes) -> ssl.SSLContext:
    """A server context holding this certificate (with its chain) and key, through files that live only while
    they are read (mode 0600, in a directory of their own)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="certfleet-edge-") as directory:
        certificate_file, key_file = os.path.join(directory, "certificate.pem"), os.path.join(directory, "key.pem")
        for path, data in ((certificate_file, certificate), (key_file, key)):
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as file:
                file.write(data)
        context.load_cert_chain(certificate_file, key_file)
    return context


def serving(server_name: str) -> tuple[bytes, bytes] | None:
    """(certificate with chain, key) of the distribution that serves this SNI name now, or None."""
    name = server_name.lower().rstrip(".")
    exact, wildcard = None, None
    for backend in cloudfront.all_backends():
        for dist in list(backend.distributions.values()):
            config = dist.distribution_config
            if not cloudfront.is_enabled(config.Enabled):
                continue
            aliases = {alias.lower() for alias in config.Aliases.get("Items") or []}
            arn = config.ViewerCertificate.acm_certificate_arn
            if not arn:
                continue
            if name in aliases:
                exact = arn
            elif any(alias.startswith("*.") and matches_wildcard(alias, name) for alias in aliases):
                wildcard = wildcard or arn
    arn = exact or wildcard
    return certificate_and_key(arn) if arn else None


def matches_wildcard(alias: str, name: str) -> bool:
    label, _, rest = name.partition(".")
    return bool(label) and rest == alias[2:]


def certificate_and_key(arn: str) -> tuple[bytes, bytes] | None:
    """The ACM certificate (leaf, then its chain) and key behind an ARN, as moto holds them now."""
    parts = arn.split(":")
    if len(parts) != 6:
        return None
    account = acm_models.acm_backends.get(parts[4])
    backend = account.get(parts[3]) if account is not None else None
    bundle = backend._certificates.get(arn) if backend is not None else None
    if bundle is None:
        return None
    chain = bundle.chain or b""
    return bundle.cert.rstrip(b"\n") + b"\n" + chain, bundle.key
