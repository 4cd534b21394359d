"""components/dns/propagation.py against a real authoritative DNS server (emulators.dns) on loopback: the
server is both the resolver and every zone's name server (its NS glue is 127.0.0.1), as in the local stack."""

from __future__ import annotations

import threading

import pytest

import pickle

from components.dns.propagation import NotServed, Resolvers, check_served, wait_until_served
from emulators.dns import DnsServer, ZoneStore
from tests.fakes import FakeClock

ZONE = "example.cn"
NAME = "_dnsauth.docs.example.cn"
LONG_TOKEN = "a" * 200 + "b" * 200 + "c" * 100  # 500 characters: two character-strings on the wire


@pytest.fixture
def store() -> ZoneStore:
    store = ZoneStore()
    store.put_zone(ZONE)
    return store


@pytest.fixture
def resolvers(store) -> Resolvers:
    with DnsServer(store) as server:
        host, port = server.address
        yield Resolvers(addresses=((host, port),), nameserver_port=port)



# --- one check --------------------------------------------------------------------------------------------

def test_served_txt_passes(store, resolvers):
    store.put_rrset(ZONE, NAME, "TXT", 60, ["token-1"])
    assert check_served(NAME, "TXT", ["token-1"], resolvers) is None


def test_missing_record_names_the_server_and_nxdomain(store, resolvers):
    reason = check_served(NAME, "TXT", ["token-1"], resolvers)
    port = resolvers.nameserver_port
    assert reason == f"ns1.example.cn. (127.0.0.1:{port}) answers NXDOMAIN for {NAME} TXT"
    assert isinstance(reason, NotServed) and reason.unreachable is False  # a server answered: not there yet


def test_other_type_at_the_name_is_nodata(store, resolvers):
    store.put_rrset(ZONE, NAME, "CNAME", 60, ["elsewhere.example.net"])
    reason = check_served(NAME, "TXT", ["token-1"], resolvers)
    assert reason is not None and reason.endswith(f"answers NODATA for {NAME} TXT") and not reason.unreachable


def test_wrong_value_shows_what_is_served(store, resolvers):
    store.put_rrset(ZONE, NAME, "TXT", 60, ["old"])
    reason = check_served(NAME, "TXT", ["new"], resolvers)
    assert reason is not None and reason.endswith(f"serves ['old'] not ['new'] for {NAME} TXT")
    assert not reason.unreachable


def test_values_must_match_exactly_as_a_set(store, resolvers):
    store.put_rrset(ZONE, NAME, "TXT", 60, ["one", "two"])
    assert check_served(NAME, "TXT", ["two", "one"], resolvers) is None
    assert "serves ['one', 'two'] not ['one']" in check_served(NAME, "TXT", ["one"], resolvers)


def test_absent_record_after_a_delete(store, resolvers):
    store.put_rrset(ZONE, NAME, "TXT", 60, ["token-1"])
    assert "still serves ['token-1']" in check_served(NAME, "TXT", [], resolvers)
    store.put_rrset(ZONE, NAME, "TXT", 60, [])
    assert check_served(NAME, "TXT", [], resolvers) is None


def test_absent_is_also_nodata(store, resolvers):
    store.put_rrset(ZONE, NAME, "A", 60, ["192.0.2.1"])
    assert check_served(NAME, "TXT", [], resolvers) is None


def test_child_zone_wins_and_its_name_server_is_asked(store, resolvers):
    # The parent holds a stale copy below the delegation; the child zone's server has the live record.
    store.put_rrset(ZONE, "_dnsauth.api.example.cn", "TXT", 60, ["parent-copy"])
    store.put_zone("api.example.cn")
    store.put_rrset("api.example.cn", "_dnsauth.api.example.cn", "TXT", 60, ["child-value"])
    assert check_served("_dnsauth.api.example.cn", "TXT", ["child-value"], resolvers) is None
    reason = check_served("_dnsauth.api.example.cn", "TXT", ["parent-copy"], resolvers)
    assert reason.startswith("ns1.api.example.cn. ") and "serves ['child-value']" in reason


def test_txt_longer_than_255_characters_is_compared_whole(store, resolvers):
    store.put_rrset(ZONE, NAME, "TXT", 60, [LONG_TOKEN])
    assert check_served(NAME, "TXT", [LONG_TOKEN], resolvers) is None
    assert "not ['" + "a" * 200 in check_served(NAME, "TXT", ["a" * 200 + "b" * 200], resolvers)


def test_answer_too_big_for_udp_is_read_over_tcp(store, resolvers):
    tokens = [f"{n}" + "x" * 299 for n in range(6)]  # ~1,800 bytes: over the 1,232-byte EDNS payload
    store.put_rrset(ZONE, NAME, "TXT", 60, tokens)
    assert check_served(NAME, "TXT", tokens, resolvers) is None


def test_cname_target_compared_without_case_or_final_dot(store, resolvers):
    name = "_4fd2.www.example.cn"
    store.put_rrset(ZONE, name, "CNAME", 300, ["_ABC.acm-validations.aws."])
    assert check_served(name, "CNAME", ["_abc.ACM-validations.aws"], resolvers) is None
    reason = check_served(name, "CNAME", ["_other.acm-validations.aws"], resolvers)
    assert "serves ['_abc.acm-validations.aws'] not ['_other.acm-validations.aws']" in reason


def test_name_outside_every_zone_is_a_reason_not_an_exception(resolvers):
    reason = check_served("_dnsauth.www.example.org", "TXT", ["token"], resolvers)
    assert reason.startswith("no SOA found for _dnsauth.www.example.org")
    assert not reason.unreachable  # the resolver answered: no zone holds the name (a CA would find nothing)


def test_a_zone_whose_name_servers_have_no_address_is_unreachable(store, resolvers):
    store.put_rrset(ZONE, "ns1.example.cn", "A", 3600, [])  # e.g. IPv6-only name servers: none to ask
    reason = check_served(NAME, "TXT", ["token-1"], resolvers)
    assert reason.startswith("zone example.cn. has no name server with an address") and reason.unreachable


def test_every_address_of_the_name_server_must_answer(store, resolvers):
    # A second address where nothing listens (127.0.0.2: the server binds 127.0.0.1 only).
    store.put_rrset(ZONE, "ns1.example.cn", "A", 3600, ["127.0.0.1", "127.0.0.2"])
    store.put_rrset(ZONE, NAME, "TXT", 60, ["token-1"])
    reason = check_served(NAME, "TXT", ["token-1"], resolvers, query_timeout=0.3)
    assert reason == f"ns1.example.cn. (127.0.0.2:{resolvers.nameserver_port}) did not answer for {NAME} TXT: timed out"
    assert not reason.unreachable  # 127.0.0.1 answered


def test_no_name_server_answering_is_unreachable(store, resolvers):
    store.put_rrset(ZONE, "ns1.example.cn", "A", 3600, ["127.0.0.2"])  # where nothing listens
    store.put_rrset(ZONE, NAME, "TXT", 60, ["token-1"])
    reason = check_served(NAME, "TXT", ["token-1"], resolvers, query_timeout=0.3)
    assert reason.unreachable and reason.endswith(f"did not answer for {NAME} TXT: timed out")


def test_a_server_with_other_data_wins_over_one_that_did_not_answer(store, resolvers):
    store.put_rrset(ZONE, "ns1.example.cn", "A", 3600, ["127.0.0.1", "127.0.0.2"])
    store.put_rrset(ZONE, NAME, "TXT", 60, ["old"])
    reason = check_served(NAME, "TXT", ["new"], resolvers, query_timeout=0.3)
    assert reason.startswith("ns1.example.cn. (127.0.0.1:") and "serves ['old']" in reason
    assert not reason.unreachable


def test_no_resolver_answering_is_a_reason(store):
    with DnsServer(store) as server:  # a port that is certainly closed once the server stops
        port = server.port
    reason = check_served(NAME, "TXT", ["token"], Resolvers((("127.0.0.1", port),), port), query_timeout=0.3)
    assert reason.startswith(f"no resolver answered {NAME} SOA (127.0.0.1:{port}: ")
    assert isinstance(reason, NotServed) and reason.unreachable


def test_no_resolver_configured_is_a_reason():
    reason = check_served(NAME, "TXT", ["t"], Resolvers((), 53))
    assert reason == f"no DNS resolver configured (CERTFLEET_DNS_RESOLVERS) to check {NAME} TXT"
    assert reason.unreachable


def test_a_reason_keeps_its_flag_through_pickling():
    for unreachable in (True, False):
        copy = pickle.loads(pickle.dumps(NotServed("why", unreachable=unreachable)))
        assert copy == "why" and copy.unreachable is unreachable


# --- waiting ----------------------------------------------------------------------------------------------

def test_wait_succeeds_when_the_record_appears(store, resolvers):
    timer = threading.Timer(0.3, lambda: store.put_rrset(ZONE, NAME, "TXT", 60, ["late"]))
    timer.start()
    try:
        assert wait_until_served(NAME, "TXT", ["late"], resolvers, timeout_seconds=30, interval_seconds=0.05) is None
    finally:
        timer.cancel()
    assert check_served(NAME, "TXT", ["late"], resolvers) is None


def test_wait_times_out_with_the_last_reason(store, resolvers):
    FakeClock.t, FakeClock.sleeps = 0.0, []
    store.put_rrset(ZONE, NAME, "TXT", 60, ["old"])
    reason = wait_until_served(NAME, "TXT", ["new"], resolvers, timeout_seconds=10, clock=FakeClock,
                               interval_seconds=2)
    assert reason is not None and reason.endswith(f"serves ['old'] not ['new'] for {NAME} TXT")
    assert isinstance(reason, NotServed) and not reason.unreachable
    assert sum(FakeClock.sleeps) == 10 and len(FakeClock.sleeps) == 5


def test_wait_returns_the_last_reason_with_its_flag(store):
    with DnsServer(store) as server:  # closed once the server stops
        port = server.port
    FakeClock.t, FakeClock.sleeps = 0.0, []
    reason = wait_until_served(NAME, "TXT", ["new"], Resolvers((("127.0.0.1", port),), port), timeout_seconds=4,
                               clock=FakeClock, interval_seconds=2, query_timeout=0.3)
    assert reason.startswith("no resolver answered") and reason.unreachable
    assert len(FakeClock.sleeps) == 2  # three checks, each unreachable; the last one's reason


# --- configuration ----------------------------------------------------------------------------------------

def test_resolvers_from_env(monkeypatch):
    monkeypatch.setenv("CERTFLEET_DNS_RESOLVERS", "127.0.0.1:5353, 10.0.0.2,[::1]:53")
    monkeypatch.setenv("CERTFLEET_DNS_NAMESERVER_PORT", "5353")
    assert Resolvers.from_env() == Resolvers((("127.0.0.1", 5353), ("10.0.0.2", 53), ("::1", 53)), 5353)


def test_resolvers_default_to_the_system_and_port_53(monkeypatch):
    monkeypatch.delenv("CERTFLEET_DNS_RESOLVERS", raising=False)
    monkeypatch.delenv("CERTFLEET_DNS_NAMESERVER_PORT", raising=False)
    import dns.resolver
    try:
        system = [(str(a), 53) for a in dns.resolver.Resolver().nameservers]
    except dns.resolver.NoResolverConfiguration:
        system = []
    assert Resolvers.from_env() == Resolvers(tuple(system), 53)


@pytest.mark.parametrize("variable, value", [("CERTFLEET_DNS_RESOLVERS", "dns.example.com:53"),
                                             ("CERTFLEET_DNS_RESOLVERS", "127.0.0.1:99999"),
                                             ("CERTFLEET_DNS_NAMESERVER_PORT", "fifty-three")])
def test_bad_configuration_names_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        Resolvers.from_env()
