"""The wait for the CA (components/dns/validation.py) and how records are assigned (components/dns/fleet.py).

The cloud's status is scripted here (STATUS_OF, the one function per cloud that reads it); the calls themselves
are covered end to end (tests/e2e/test_dns_e2e.py) against the emulators.
"""

from __future__ import annotations

import pytest

from components.dns import fleet, validation
from components.dns.validation import ValidationProvider
from components.dynamic import RUN_WAITS
from tests.fakes import FakeClock



@pytest.fixture
def scripted(monkeypatch):
    """The CA's answers, one per status read; the last one repeats."""
    answers: list[tuple[str, str]] = []
    reads: list[str] = []

    def status(certificate_id, region, resource):
        reads.append(certificate_id)
        return validation.Reading(*(answers.pop(0) if len(answers) > 1 else answers[0]))

    monkeypatch.setitem(validation.STATUS_OF, "cas", status)
    RUN_WAITS.reset()
    yield answers, reads
    RUN_WAITS.reset()


def provider():
    p = ValidationProvider()
    p.clock = FakeClock
    return p


def inputs(records=None, timeout=60):
    return {"entry": "docs", "cloud": "cas", "certificate_id": "42", "region": None,
            "records": records if records is not None else [
                {"name": "_dnsauth.docs.example.cn", "asked": True, "served": "served", "status_message": "ok"}],
            "validation_timeout_seconds": timeout}


def test_waits_for_the_ca_once_the_records_are_served(scripted):
    answers, reads = scripted
    answers += [("domain_verify", "pending")] * 3 + [("certificate", "issued")]
    outs = provider().create(inputs()).outs
    assert outs["issued"] is True and outs["status"] == "certificate" and len(reads) == 4
    assert outs["status_message"].startswith("issued")


def test_does_not_wait_while_a_record_is_not_served(scripted):
    answers, reads = scripted
    answers.append(("domain_verify", "pending"))
    outs = provider().create(inputs([{"name": "_dnsauth.docs.example.cn", "asked": True, "served": "not served",
                                      "status_message": "NXDOMAIN at ns1"}])).outs
    assert outs["outcome"] == "pending" and len(reads) == 1
    assert "waiting for DNS: _dnsauth.docs.example.cn not yet served (NXDOMAIN at ns1)" == outs["status_message"]


def test_an_unverified_record_does_not_hold_the_wait_back(scripted):
    answers, reads = scripted
    answers += [("domain_verify", "pending"), ("certificate", "issued")]
    outs = provider().create(inputs([{"name": "_dnsauth.docs.example.cn", "asked": True, "served": "unverified",
                                      "status_message": "no name server could be asked"}])).outs
    assert outs["issued"] is True and len(reads) == 2


def test_a_slow_ca_is_recorded_pending_and_the_next_up_waits_again(scripted):
    answers, _ = scripted
    answers.append(("process", "pending"))
    p = provider()
    start = FakeClock.t
    outs = p.create(inputs(timeout=30)).outs
    assert outs["outcome"] == "pending" and FakeClock.t - start == pytest.approx(30, abs=1e-6)
    assert "`pulumi up --refresh` picks it up" in outs["status_message"]
    assert p.diff("id", outs, inputs(timeout=30)).changes is True
    answers[0] = ("certificate", "issued")
    assert p.read("id", outs).outs["issued"] is True


def test_a_failed_certificate_ends_the_wait_at_once(scripted):
    answers, reads = scripted
    answers.append(("verify_fail", "failed"))
    outs = provider().create(inputs()).outs
    assert outs["outcome"] == "failed" and len(reads) == 1 and "will not issue" in outs["status_message"]


def test_an_issued_validation_does_not_change_on_the_next_up(scripted):
    answers, _ = scripted
    answers.append(("certificate", "issued"))
    p = provider()
    outs = p.create(inputs()).outs
    assert p.diff("id", outs, inputs()).changes is False
    # What the certificate resource records is built from outputs a preview may read as unknown (null until
    # issued): it is read when the validation runs, never a reason to run it.
    assert p.diff("id", outs, {**inputs(), "recorded": {"domains": ["other.example.com"], "csr": "x"}}).changes \
        is False


def test_records_belong_to_the_longest_name_they_end_in():
    bases = ["shop.example.com", "www.shop.example.com", "apps.example.com"]
    assert fleet.record_base("_x.www.shop.example.com", bases) == "www.shop.example.com"
    assert fleet.record_base("_x.shop.example.com", bases) == "shop.example.com"
    assert fleet.record_base("_x.other.example.com", bases) is None


def test_a_wildcard_and_its_apex_share_one_record_with_both_values():
    per_entry = [([{"name": "_dnsauth.example.cn", "type": "TXT", "value": "apex"},
                   {"name": "_dnsauth.example.cn", "type": "TXT", "value": "wildcard"},
                   {"name": "_dnsauth.www.example.cn", "type": "TXT", "value": "www"}], True)]
    found = fleet.records_of("example.cn", ["example.cn", "www.example.cn"], per_entry)
    assert found == {"name": "_dnsauth.example.cn", "type": "TXT", "values": ["apex", "wildcard"],
                     "names_asked": ["_dnsauth.example.cn"]}


def test_no_values_once_the_ca_no_longer_asks():
    per_entry = [([{"name": "_dnsauth.example.cn", "type": "TXT", "value": "apex"}], False)]
    assert fleet.records_of("example.cn", ["example.cn"], per_entry)["values"] == []


def test_no_record_asked_for_yet_is_said_so_and_not_waited_for(scripted):
    answers, reads = scripted
    answers.append(("domain_verify", "pending"))
    outs = provider().create(inputs([{"name": "", "asked": False, "served": "unverified", "status_message": ""}])).outs
    assert outs["outcome"] == "pending" and len(reads) == 1
    assert outs["status_message"].startswith("the CA has not given a record to publish yet")


def test_material_outputs_are_empty_strings_until_issued_never_null(scripted):
    answers, _ = scripted
    answers.append(("domain_verify", "pending"))
    outs = provider().create(inputs(timeout=1)).outs
    assert {k: outs[k] for k in validation.MATERIAL_KEYS} == dict.fromkeys(validation.MATERIAL_KEYS, "")


def test_a_validation_recorded_before_the_material_outputs_reads_them_once(scripted):
    answers, _ = scripted
    answers.append(("certificate", "issued"))
    p = provider()
    outs = p.create(inputs()).outs
    older = {k: v for k, v in outs.items() if k not in validation.MATERIAL_KEYS}
    assert p.diff("id", older, inputs()).changes is True
    assert p.diff("id", outs, inputs()).changes is False
