"""Shared by the DNS-API emulator tests (Alidns, Huawei DNS): a stand-in for the DNS server's feed."""

from __future__ import annotations


class FeedRecorder:
    """Stands in for the DNS server: keeps every call the emulator pushes."""

    def __init__(self):
        self.calls = []

    def put_zone(self, zone):
        self.calls.append(("put_zone", zone))

    def put_rrset(self, zone, name, rdtype, ttl, values):
        self.calls.append(("put_rrset", zone, name, rdtype, ttl, list(values)))

    def delete_zone(self, zone):
        self.calls.append(("delete_zone", zone))

    def last_rrset(self, name, rdtype):
        return [c for c in self.calls if c[0] == "put_rrset" and c[2:4] == (name, rdtype)][-1]
