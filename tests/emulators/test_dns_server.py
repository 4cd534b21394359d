"""The DNS emulator: a real authoritative server on loopback, queried with dnspython over UDP and TCP,
fed through its control API (DnsFeed) as the DNS-API emulators feed it."""

from __future__ import annotations

import subprocess
import sys
import threading

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import pytest

from emulators.core import EmulatorServer
from emulators.core.testing import ControlAPIError, ControlClient
from emulators.dns import DnsApi, DnsFeed, DnsFeedError, DnsServer, ZoneStore

ZONE = "example.com"
TOKEN = "x" * 300 + "y" * 300  # 600 bytes: three character-strings on the wire


@pytest.fixture
def dns_emulator():
    store = ZoneStore()
    with DnsServer(store) as dns_server, EmulatorServer(DnsApi(store, dns_server)) as control:
        yield dns_server, control


@pytest.fixture
def feed(dns_emulator) -> DnsFeed:
    feed = DnsFeed(dns_emulator[1].url)
    feed.put_zone(ZONE)
    return feed


@pytest.fixture
def address(dns_emulator) -> tuple[str, int]:
    return dns_emulator[0].address


def query(address, name: str, rdtype: str, tcp: bool = False, edns: bool = True) -> dns.message.Message:
    message = dns.message.make_query(name, rdtype, use_edns=0 if edns else None)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(message, address[0], port=address[1], timeout=3)


def txt_values(response: dns.message.Message) -> list[bytes]:
    return [b"".join(rdata.strings) for rrset in response.answer if rrset.rdtype == dns.rdatatype.TXT
            for rdata in rrset]


# --- answers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_txt_record_is_answered_authoritatively(feed, address, tcp):
    feed.put_rrset(ZONE, "_dnsauth.example.com", "TXT", 60, ["token-1"])
    response = query(address, "_dnsauth.example.com", "TXT", tcp=tcp)
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    assert not response.flags & dns.flags.RA
    assert txt_values(response) == [b"token-1"]
    assert response.answer[0].ttl == 60


def test_stub_resolver_pointed_at_the_server_resolves(feed, address):
    feed.put_rrset(ZONE, "_dnsauth.www.example.com.", "TXT", 60, ['"abc" "def"'])
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port = [address[0]], address[1]
    answer = resolver.resolve("_dnsauth.www.example.com", "TXT")
    assert [rdata.strings for rdata in answer] == [(b"abc", b"def")]


def test_names_are_case_insensitive(feed, address):
    feed.put_rrset(ZONE, "_DNSAUTH.Example.COM", "TXT", 60, ["v"])
    response = query(address, "_dnsauth.EXAMPLE.com", "TXT")
    assert txt_values(response) == [b"v"]
    assert response.answer[0].name.to_text() == "_dnsauth.EXAMPLE.com."  # owner as asked


def test_missing_name_is_nxdomain_with_the_zone_soa(feed, address):
    response = query(address, "nothing.example.com", "TXT")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.flags & dns.flags.AA
    assert response.answer == []
    (soa,) = response.authority
    assert soa.rdtype == dns.rdatatype.SOA and soa.name.to_text() == "example.com."
    assert soa.ttl == soa[0].minimum == 60  # negative TTL = min(SOA TTL, minimum)


def test_name_without_that_type_is_nodata(feed, address):
    feed.put_rrset(ZONE, "a.b.example.com", "A", 60, ["192.0.2.1"])
    for name in ("a.b.example.com", "b.example.com"):  # an owner name, and an empty non-terminal
        response = query(address, name, "TXT")
        assert response.rcode() == dns.rcode.NOERROR, name
        assert response.answer == []
        assert [rrset.rdtype for rrset in response.authority] == [dns.rdatatype.SOA]
    assert query(address, "c.example.com", "TXT").rcode() == dns.rcode.NXDOMAIN


def test_names_outside_every_zone_are_refused(feed, address):
    for name in ("example.org", "com", "example.com.evil.net"):
        response = query(address, name, "TXT")
        assert response.rcode() == dns.rcode.REFUSED, name
        assert not response.flags & dns.flags.AA


def test_longest_zone_answers(feed, address):
    feed.put_rrset(ZONE, "x.sub.example.com", "TXT", 60, ["parent"])
    feed.put_zone("sub.example.com")
    assert query(address, "x.sub.example.com", "TXT").rcode() == dns.rcode.NXDOMAIN  # the child zone's data
    feed.put_rrset("sub.example.com", "x.sub.example.com", "TXT", 60, ["child"])
    assert txt_values(query(address, "x.sub.example.com", "TXT")) == [b"child"]


def test_long_txt_is_split_into_255_byte_strings(feed, address):
    feed.put_rrset(ZONE, "_dnsauth.example.com", "TXT", 60, [TOKEN])
    (rrset,) = query(address, "_dnsauth.example.com", "TXT", tcp=True).answer
    (rdata,) = rrset
    assert [len(string) for string in rdata.strings] == [255, 255, 90]
    assert b"".join(rdata.strings) == TOKEN.encode()


def test_quoted_values_keep_their_strings_and_escapes(feed, address):
    feed.put_rrset(ZONE, "q.example.com", "TXT", 60, ['"a \\"b\\"" "c"', "plain text"])
    (rrset,) = query(address, "q.example.com", "TXT").answer
    assert sorted(rdata.strings for rdata in rrset) == [(b'a "b"', b"c"), (b"plain text",)]


def test_large_udp_answer_is_truncated_and_complete_over_tcp(feed, address):
    feed.put_rrset(ZONE, "_dnsauth.example.com", "TXT", 60, [TOKEN])
    small = query(address, "_dnsauth.example.com", "TXT", edns=False)  # no EDNS: 512 bytes at most
    assert small.flags & dns.flags.TC and small.answer == []
    message = dns.message.make_query("_dnsauth.example.com", "TXT")
    response, used_tcp = dns.query.udp_with_fallback(message, address[0], port=address[1], timeout=3)
    assert used_tcp and txt_values(response) == [TOKEN.encode()]
    assert txt_values(query(address, "_dnsauth.example.com", "TXT", edns=True)) == [TOKEN.encode()]  # fits 1232


def test_cname_is_answered_and_followed_inside_the_zones(feed, address):
    feed.put_rrset(ZONE, "_x.example.com", "CNAME", 300, ["_x.validations.example.com"])
    feed.put_rrset(ZONE, "_x.validations.example.com", "TXT", 60, ["target"])
    feed.put_rrset(ZONE, "away.example.com", "CNAME", 300, ["_abc.acm-validations.aws."])
    response = query(address, "_x.example.com", "TXT")
    assert [rrset.rdtype for rrset in response.answer] == [dns.rdatatype.CNAME, dns.rdatatype.TXT]
    assert txt_values(response) == [b"target"]
    cname_only = query(address, "_x.example.com", "CNAME")
    assert [rrset[0].target.to_text() for rrset in cname_only.answer] == ["_x.validations.example.com."]
    outside = query(address, "away.example.com", "A")  # the target is not ours: the CNAME alone
    assert outside.rcode() == dns.rcode.NOERROR and len(outside.answer) == 1
    feed.put_rrset(ZONE, "dangling.example.com", "CNAME", 300, ["missing.example.com"])
    assert query(address, "dangling.example.com", "A").rcode() == dns.rcode.NXDOMAIN  # RFC 6604


def test_zone_soa_and_ns_name_the_server_and_the_serial_moves(feed, address):
    first = query(address, ZONE, "SOA").answer[0][0]
    assert first.mname.to_text() == "ns1.example.com."
    ns = query(address, ZONE, "NS")
    assert [rdata.target.to_text() for rdata in ns.answer[0]] == ["ns1.example.com."]
    assert [rdata.address for rdata in query(address, "ns1.example.com", "A").answer[0]] == ["127.0.0.1"]
    feed.put_rrset(ZONE, "_dnsauth.example.com", "TXT", 60, ["t"])
    assert query(address, ZONE, "SOA").answer[0][0].serial == first.serial + 1


def test_empty_values_delete_the_rrset(feed, address):
    feed.put_rrset(ZONE, "_dnsauth.example.com", "TXT", 60, ["t"])
    feed.put_rrset(ZONE, "_dnsauth.example.com", "TXT", 60, [])
    assert query(address, "_dnsauth.example.com", "TXT").rcode() == dns.rcode.NXDOMAIN


def test_deleted_zone_is_refused(feed, address):
    feed.put_rrset(ZONE, "_dnsauth.example.com", "TXT", 60, ["t"])
    feed.delete_zone(ZONE)
    assert query(address, "_dnsauth.example.com", "TXT").rcode() == dns.rcode.REFUSED
    feed.delete_zone(ZONE)  # already gone: not an error for a feed


def test_concurrent_updates_and_queries_see_whole_rrsets(feed, address):
    """Writers replace a two-value rrset while readers query: every answer is one whole version."""
    versions = 40
    errors: list[str] = []

    def write():
        for version in range(versions):
            feed.put_rrset(ZONE, "_c.example.com", "TXT", 60, [f"v{version}-a", f"v{version}-b"])

    def read():
        for _ in range(60):
            response = query(address, "_c.example.com", "TXT")
            values = sorted(txt_values(response))
            if response.rcode() == dns.rcode.NXDOMAIN:
                continue
            prefixes = {value.split(b"-")[0] for value in values}
            if len(values) != 2 or len(prefixes) != 1:
                errors.append(repr(values))

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(txt_values(query(address, "_c.example.com", "TXT", tcp=True))) == [
        f"v{versions - 1}-a".encode(), f"v{versions - 1}-b".encode()]


# --- control API and feed --------------------------------------------------------------------------

def test_control_api_lists_zones_and_rrsets_and_address(dns_emulator, feed):
    dns_server, control = dns_emulator
    client = ControlClient(control.url)
    feed.put_rrset(ZONE, "_dnsauth.example.com", "TXT", 120, ["t"])
    assert client.call("GET", "dns/address") == {"host": "127.0.0.1", "port": dns_server.port}
    assert client.call("GET", "dns/zones") == {"zones": ["example.com."]}
    zone = client.call("GET", "dns/zones/example.com.")
    written = [rrset for rrset in zone["rrsets"] if not rrset["managed"] and rrset["type"] == "TXT"]
    assert written == [{"name": "_dnsauth.example.com.", "type": "TXT", "ttl": 120, "values": ["t"],
                        "managed": False}]
    assert {rrset["type"] for rrset in zone["rrsets"] if rrset["managed"]} == {"SOA", "NS"}


@pytest.mark.parametrize("body, status, words", [
    ({"name": "_x.example.org", "type": "TXT", "ttl": 60, "values": ["t"]}, 400, "not in zone"),
    ({"name": "example.com", "type": "NS", "ttl": 60, "values": ["ns.other.net."]}, 400, "server's own"),
    ({"name": "example.com", "type": "SOA", "ttl": 60, "values": ["a. b. 1 2 3 4 5"]}, 400, "cannot be set"),
    ({"name": "a.example.com", "type": "A", "ttl": 60, "values": ["not-an-address"]}, 400, "invalid A value"),
    ({"name": "a.example.com", "type": "A", "ttl": -1, "values": ["192.0.2.1"]}, 400, "ttl"),
    ({"name": "a.example.com", "type": "CNAME", "ttl": 60, "values": ["b.", "c."]}, 400, "exactly one"),
    ({"name": "a.example.com", "type": "TXT", "ttl": 60}, 400, "missing values"),
])
def test_control_api_refuses_bad_rrsets(dns_emulator, feed, body, status, words):
    with pytest.raises(ControlAPIError) as caught:
        ControlClient(dns_emulator[1].url).call("PUT", "dns/zones/example.com/rrsets", body)
    assert caught.value.status == status and words in caught.value.payload["error"]


def test_feed_to_a_missing_zone_fails_and_no_feed_does_nothing(dns_emulator):
    with pytest.raises(DnsFeedError) as caught:
        DnsFeed(dns_emulator[1].url).put_rrset("nowhere.test", "a.nowhere.test", "TXT", 60, ["t"])
    assert caught.value.status == 404
    assert DnsFeed(None).put_zone(ZONE) is None and not DnsFeed(None)


def test_zones_survive_a_restart_with_a_state_file(tmp_path):
    state_file = tmp_path / "dns.json"
    store = ZoneStore()
    with EmulatorServer(DnsApi(store), state_file=state_file) as control:
        DnsFeed(control.url).put_zone(ZONE)
        DnsFeed(control.url).put_rrset(ZONE, "_dnsauth.example.com", "TXT", 60, ["kept"])
    restored = ZoneStore()
    with DnsServer(restored) as dns_server, EmulatorServer(DnsApi(restored, dns_server), state_file=state_file):
        assert txt_values(query(dns_server.address, "_dnsauth.example.com", "TXT")) == [b"kept"]
        assert query(dns_server.address, ZONE, "SOA").answer[0][0].serial == 2


def test_command_line_prints_the_url_first_and_serves_dns(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "emulators.dns", "--port", "0", "--dns-port", "0",
                                "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        client = ControlClient(url)
        address = client.call("GET", "dns/address")
        DnsFeed(url).put_zone(ZONE)
        DnsFeed(url).put_rrset(ZONE, "_dnsauth.example.com", "TXT", 60, ["cli"])
        assert txt_values(query((address["host"], address["port"]), "_dnsauth.example.com", "TXT")) == [b"cli"]
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()
