"""The authoritative DNS server on loopback: UDP and TCP on one port, answers from a ZoneStore.

`DnsServer(store, port=0).start()`; `.address` -> ("127.0.0.1", port); `.stop()`. UDP answers that do
not fit the client's size (512 bytes, or its EDNS payload) come back truncated (TC, empty sections) so
the client retries over TCP; TCP takes several length-prefixed queries per connection.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import sys
import threading
import traceback

import dns.exception
import dns.flags
import dns.message
import dns.rcode

from emulators.dns.answers import respond
from emulators.dns.zones import SERVER_ADDRESS, ZoneStore

CLASSIC_UDP_SIZE = 512
TCP_IDLE_SECONDS = 10
BIND_ATTEMPTS = 20  # a free UDP port whose TCP twin is taken: try another


def answer_wire(store: ZoneStore, wire: bytes, udp: bool) -> bytes | None:
    """The answer to one query message; None when the message is too broken to answer at all."""
    try:
        query = dns.message.from_wire(wire)
    except dns.message.ShortHeader:
        return None
    except dns.exception.DNSException:
        return _format_error(wire)
    try:
        response = respond(store, query)
    except Exception:  # a bug in the emulator: answer SERVFAIL rather than leave the client waiting
        traceback.print_exc(file=sys.stderr)
        response = dns.message.make_response(query)
        response.set_rcode(dns.rcode.SERVFAIL)
    limit = 65535 if not udp else max(CLASSIC_UDP_SIZE, query.payload if query.edns >= 0 else 0)
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        response.answer, response.authority, response.additional = [], [], []
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=limit)


def _format_error(wire: bytes) -> bytes:
    (query_id,) = struct.unpack("!H", wire[:2])
    response = dns.message.Message(id=query_id)
    response.flags = dns.flags.QR
    response.set_rcode(dns.rcode.FORMERR)
    return response.to_wire()


class _UdpHandler(socketserver.BaseRequestHandler):
    server: "_UdpServer"

    def handle(self) -> None:
        wire, sock = self.request
        answer = answer_wire(self.server.store, wire, udp=True)
        if answer is not None:
            sock.sendto(answer, self.client_address)


class _TcpHandler(socketserver.BaseRequestHandler):
    server: "_TcpServer"

    def handle(self) -> None:
        self.request.settimeout(TCP_IDLE_SECONDS)
        try:
            while True:
                header = _read_exactly(self.request, 2)
                if header is None:
                    return
                wire = _read_exactly(self.request, struct.unpack("!H", header)[0])
                if wire is None:
                    return
                answer = answer_wire(self.server.store, wire, udp=False)
                if answer is None:
                    return
                self.request.sendall(struct.pack("!H", len(answer)) + answer)
        except OSError:
            return


def _read_exactly(sock: socket.socket, count: int) -> bytes | None:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class _UdpServer(socketserver.ThreadingUDPServer):
    daemon_threads = True
    store: ZoneStore


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    store: ZoneStore


class DnsServer:
    def __init__(self, store: ZoneStore, port: int = 0):
        self.store = store
        self._udp, self._tcp = _bind_pair(port)
        self._udp.store = self._tcp.store = store
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> tuple[str, int]:
        return SERVER_ADDRESS, self._udp.server_address[1]

    @property
    def port(self) -> int:
        return self.address[1]

    def start(self) -> "DnsServer":
        for server, name in ((self._udp, "dns-udp"), (self._tcp, "dns-tcp")):
            thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in (self._udp, self._tcp):
            if self._threads:
                server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()
        self._threads = []

    def __enter__(self) -> "DnsServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _bind_pair(port: int) -> tuple[_UdpServer, _TcpServer]:
    """UDP and TCP servers on the same port (`port`, or one free for both when 0)."""
    for _ in range(BIND_ATTEMPTS if port == 0 else 1):
        udp = _UdpServer((SERVER_ADDRESS, port), _UdpHandler)
        try:
            return udp, _TcpServer((SERVER_ADDRESS, udp.server_address[1]), _TcpHandler)
        except OSError:
            udp.server_close()
            if port != 0:
                raise
    raise OSError("no port free for both UDP and TCP")
