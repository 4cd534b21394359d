"""The CAS instance provider (components/alicloud/instance.py) against the CAS emulator, through the official SDK."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from alibabacloud_cas20200407 import models as cas_models

from components import dynamic, keys
from components.alicloud import client as cas_api
from components.alicloud.cas import CasOrderProvider, order_inputs
from components.alicloud import instance as instance_module
from components.alicloud.instance import CasInstanceProvider
from components.alicloud import instance_checks as checks
from components.alicloud.instance_checks import CLAIM_ENTRY_TAG, CLAIM_STAMP_TAG, instance_inputs
from components.config import load_fleet
from components.errors import CertfleetError, CloudError
from emulators.cas import CasApi
from emulators.core.testing import ControlClient
from tests.emulators.cas_scaffolding import ACCESS_KEY_ID, ACCESS_KEY_SECRET, certfleet_cas, make_cas_client
from tests.provider.test_cas_provider import FakeClock, interrupted_run, this_run, stamped

CLAIM = "certfleet/test/web"


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(dynamic, "RUN_WAITS", dynamic.WaitWindow())
    monkeypatch.setattr(dynamic, "DECLARED", dynamic.RunSet())
    for name in ("TAKEN_IN_THIS_RUN", "REPLACED_IN_PLACE"):  # the instance provider's facts about the run
        monkeypatch.setattr(instance_module, name, dynamic.RunSet(), raising=False)
    with certfleet_cas(monkeypatch, CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET})) as emulator:
        yield emulator


@pytest.fixture
def control(server):
    return ControlClient(server.url)


@pytest.fixture
def clock(server):
    fake = FakeClock()
    fake.on_sleep = server.api.clock.advance  # the emulator's time passes with the provider's waits
    return fake


@pytest.fixture
def provider(clock):
    p = CasInstanceProvider()
    p.clock = clock
    return p


def buy(control, product_code="digicert-free-1-free", **body) -> str:
    return control.call("POST", "cas/instances", {"product_code": product_code, **body})["instance_id"]


def props(instance_id, journal=None, **entry):
    entry = {"instance": instance_id, "domains": ["web.example.cn"], **entry}
    fleet = load_fleet({"alicloud": {"orders": {"web": entry}}})
    spec = fleet.alicloud.instance_orders[0]
    return {**instance_inputs(spec, 0, CLAIM, []), "journal": journal or this_run()}


def detail(server, instance_id):
    return make_cas_client(server).get_instance_detail(
        cas_models.GetInstanceDetailRequest(instance_id=instance_id)).body


def test_create_applies_and_shows_the_challenge_then_refresh_picks_up_the_certificate(provider, server, control):
    instance_id = buy(control)
    created = provider.create(props(instance_id))
    outs = created.outs
    assert created.id == instance_id and outs["state"] == "pending" and outs["applied_by_certfleet"]
    assert outs["challenge"] == {"type": "DNS", "record_type": "TXT", "name": "_dnsauth.web.example.cn",
                                 "value": outs["challenge"]["value"]}
    assert "publish DNS TXT record _dnsauth.web.example.cn" in outs["status_message"]
    tags = {t.tag_key: t.tag_value for t in detail(server, instance_id).tags}
    assert tags[CLAIM_ENTRY_TAG] == CLAIM and tags[CLAIM_STAMP_TAG] == dynamic.RUN_ID
    control.call("POST", f"cas/instances/{instance_id}/publish")
    read = provider.read(instance_id, outs).outs
    assert read["state"] == "issued" and read["cert_id"]
    assert keys.certificate_matches_key(read["certificate_pem"], read["private_key"])  # CAS made the key
    assert "never deletes or refunds instance" in read["status_message"]


def test_create_waits_for_issuance_with_a_generated_key(provider, server, control):
    instance_id = buy(control)
    control.call("POST", "cas/instance-settings", {"challenge_lag": 10})
    entry = props(instance_id, csr="generate", keyAlgorithm="EC_P256")

    def publish_when_listed(seconds):
        server.api.clock.advance(seconds)
        if detail(server, instance_id).domain_validation_list:
            control.call("POST", f"cas/instances/{instance_id}/publish")
    provider.clock.on_sleep = publish_when_listed
    outs = provider.create({**entry, "issued_timeout_seconds": 120}).outs
    assert outs["state"] == "issued"
    assert keys.certificate_matches_key(outs["certificate_pem"], outs["private_key"])
    assert detail(server, instance_id).generate_csr_method == "upload"
    assert detail(server, instance_id).key_algorithm == "RSA_2048"  # not sent with a CSR: the CSR's key decides


def test_lagging_challenge_is_waited_for(provider, server, control):
    control.call("POST", "cas/instance-settings", {"challenge_lag": 20})
    outs = provider.create(props(buy(control))).outs
    assert outs["challenge"]["value"] and sum(provider.clock.sleeps) >= 20


def test_absent_challenge_is_recorded_with_a_message(provider, server, control):
    control.call("POST", "cas/instance-settings", {"challenge_lag": 1000})
    outs = provider.create(props(buy(control))).outs
    assert outs["state"] == "pending" and outs["challenge"] is None
    assert "has not published the validation records yet" in outs["status_message"]
    assert sum(provider.clock.sleeps) == pytest.approx(60)


def test_create_after_a_crash_resumes_without_a_second_application(provider, server, control):
    instance_id = buy(control)
    stamp = interrupted_run()
    first = provider.create(props(instance_id, journal=stamp)).outs  # its state write was lost
    control.add_fault("ApplyCertificate", status=500, times=None)  # a second application would fail the create
    again = provider.create(props(instance_id, journal=stamp)).outs
    assert again["state"] == "pending" and again["challenge"] == first["challenge"]
    control.clear_faults()


def test_a_lost_apply_answer_is_not_applied_twice(provider, server, control):
    instance_id = buy(control)
    control.add_fault("ApplyCertificate", drop_response=True, times=1)
    outs = provider.create(props(instance_id)).outs
    assert outs["state"] == "pending" and outs["challenge"]


def test_instance_applied_by_someone_else_is_refused(provider, server, control):
    instance_id = buy(control)
    client = make_cas_client(server)
    client.update_instance(cas_models.UpdateInstanceRequest(instance_id=instance_id, domain="web.example.cn"))
    client.apply_certificate(cas_models.ApplyCertificateRequest(instance_id=instance_id))
    with pytest.raises(CertfleetError, match=rf"instance {instance_id} already holds an application for "
                                             rf"web.example.cn .*outside certfleet"):
        provider.create(props(instance_id))
    assert detail(server, instance_id).status == "pending"  # untouched


def test_instance_applied_before_the_entry_stamp_is_refused(provider, server, control):
    instance_id = buy(control)
    client = make_cas_client(server)
    tags = [cas_models.UpdateInstanceRequestTags(tag_key=CLAIM_ENTRY_TAG, tag_value=CLAIM),
            cas_models.UpdateInstanceRequestTags(tag_key=CLAIM_STAMP_TAG, tag_value="an-older-purchase")]
    client.update_instance(cas_models.UpdateInstanceRequest(instance_id=instance_id, domain="web.example.cn",
                                                            tags=tags))
    client.apply_certificate(cas_models.ApplyCertificateRequest(instance_id=instance_id))
    with pytest.raises(CertfleetError, match=rf"instance {instance_id} .*applied before the entry's stamp"):
        provider.create(props(instance_id))


def test_own_pending_application_for_other_names_is_withdrawn_and_applied_again(provider, server, control):
    instance_id = buy(control, full_domain_count=2)
    provider.create(props(instance_id))
    outs = provider.create(props(instance_id, domains=["web.example.cn", "www.example.cn"])).outs
    assert detail(server, instance_id).domain == "web.example.cn,www.example.cn" and outs["state"] == "pending"


def test_delete_withdraws_a_pending_application(provider, server, control):
    instance_id = buy(control)
    outs = provider.create(props(instance_id)).outs
    provider.delete(instance_id, outs)
    assert detail(server, instance_id).status == "inactive"
    provider.create(props(instance_id))  # usable again
    assert detail(server, instance_id).status == "pending"


def test_delete_keeps_a_pending_application_certfleet_did_not_make(provider, server, control):
    instance_id = buy(control)
    outs = provider.create(props(instance_id)).outs
    provider.delete(instance_id, {**outs, "applied_by_certfleet": False})
    assert detail(server, instance_id).status == "pending"


def test_delete_keeps_an_issued_certificate_and_the_instance(provider, server, control):
    instance_id = buy(control)
    outs = provider.create(props(instance_id)).outs
    control.call("POST", f"cas/instances/{instance_id}/publish")
    outs = provider.read(instance_id, outs).outs
    provider.delete(instance_id, outs)
    after = detail(server, instance_id)
    assert (after.status, after.certificate_status) == ("normal", "issued")


def test_delete_revokes_with_revoke_on_delete_on_a_real_destroy(provider, server, control):
    instance_id = buy(control)
    outs = provider.create(props(instance_id, revokeOnDelete=True)).outs
    control.call("POST", f"cas/instances/{instance_id}/publish")
    outs = provider.read(instance_id, outs).outs
    provider.delete(instance_id, outs)
    assert detail(server, instance_id).certificate_status == "revoked"


def test_a_replacement_keeps_the_issued_certificate_despite_revoke_on_delete(provider, server, control, monkeypatch):
    instance_id = buy(control)
    entry = props(instance_id, revokeOnDelete=True)
    outs = provider.create(entry).outs
    control.call("POST", f"cas/instances/{instance_id}/publish")
    outs = provider.read(instance_id, outs).outs
    next_run(monkeypatch)
    provider.check(outs, entry)  # the program still declares the entry: a replacement's delete
    provider.delete(instance_id, outs)
    assert detail(server, instance_id).certificate_status == "issued"


def test_check_refuses_what_the_instance_cannot_carry(provider, server, control):
    single = buy(control)
    failures = provider.check({}, props(single, domains=["a.example.cn", "b.example.cn"])).failures
    assert [f.property for f in failures] == ["domains"] and "carries 1 exact name(s)" in failures[0].reason
    failures = provider.check({}, props(single, domains=["*.example.cn"])).failures
    assert "carries 0 wildcard name(s)" in failures[0].reason
    assert "is not visible to" in provider.check({}, props("cas-cn-000000000000")).failures[0].reason
    client = make_cas_client(server)
    client.update_instance(cas_models.UpdateInstanceRequest(instance_id=single, domain="other.example.cn"))
    client.apply_certificate(cas_models.ApplyCertificateRequest(instance_id=single))
    [failure] = provider.check({}, props(single)).failures
    assert f"instance {single} already holds an application for other.example.cn" in failure.reason


def test_diff_replaces_names_and_stores_tags_in_place(provider, server, control):
    instance_id = buy(control)
    outs = provider.create(props(instance_id)).outs
    renamed = provider.diff(instance_id, outs, props(instance_id, domains=["new.example.cn"]))
    assert renamed.replaces == ["domains"] and renamed.delete_before_replace
    tagged = provider.diff(instance_id, outs, props(instance_id, tags={"team": "web"}))
    assert tagged.changes and not tagged.replaces
    assert not provider.diff(instance_id, outs, props(instance_id)).changes


def test_v1_create_on_a_v2_account_names_the_error_and_the_instance_path(server, control, clock):
    control.call("POST", "cas/instance-settings", {"account_plan": "v2"})
    fleet = load_fleet({"alicloud": {"orders": {"blog": {"productCode": "digicert-free-1-free",
                                                         "domains": ["blog.example.cn"]}}}})
    order = stamped({**order_inputs(fleet.alicloud.orders[0], fleet.alicloud), "journal": this_run()})
    provider = CasOrderProvider()
    provider.clock = clock
    with pytest.raises(CloudError) as caught:
        provider.create(order)
    assert caught.value.code == "InsufficientQuota"
    message = str(caught.value)
    assert "`instance: <instance id>`" in message and "CreateCertificateForPackageRequest" in message


# --- each ownership check on its own (instance_checks.INSTANCE_CHECKS) -------------------------------------------

def fake_detail(status="inactive", domain="", claim=None, stamp=None, validation="DNS", key_algorithm="RSA_2048",
                csr="", digest="shown"):
    """A GetInstanceDetail body; `digest`: the application tag ("shown": the digest of what it shows)."""
    shown = SimpleNamespace(domain=domain, validation_method=validation, key_algorithm=key_algorithm, csr=csr,
                            generate_csr_method="upload" if csr else "online")
    digest = checks.application_digest(checks.application_of_detail(shown)) if digest == "shown" else digest
    tags = [SimpleNamespace(tag_key=k, tag_value=v) for k, v in ((CLAIM_ENTRY_TAG, claim), (CLAIM_STAMP_TAG, stamp),
                                                                 (checks.CLAIM_APPLICATION_TAG, digest))
            if v is not None]
    return SimpleNamespace(**vars(shown), status=status, tags=tags,
                           certificate_id=12000001 if status in ("normal", "willExpire") else None)


def entry_props(**changes):
    return {**props(INSTANCE_ID), **changes}


INSTANCE_ID = "cas-cn-0123456789ab"


@pytest.mark.parametrize("status", ["expired", "refund", "closed"])
def test_check_unusable(status):
    assert checks._unusable(fake_detail(status), entry_props())[0] == dynamic.REFUSE
    assert checks._unusable(fake_detail("inactive"), entry_props()) is None


def test_check_claimed_by_another_entry():
    entry = entry_props()
    assert checks._claimed_by_another_entry(fake_detail("pending", "web.example.cn"), entry)[0] == dynamic.REFUSE
    assert checks._claimed_by_another_entry(fake_detail("inactive", claim="p/s/other"), entry)[0] == dynamic.REFUSE
    assert checks._claimed_by_another_entry(fake_detail("pending", claim=CLAIM), entry) is None
    renamed = {**entry, "claim": "p/s/new", "previous_claims": [CLAIM]}
    assert checks._claimed_by_another_entry(fake_detail("normal", claim=CLAIM), renamed) is None
    assert checks._claimed_by_another_entry(fake_detail("inactive"), entry) is None


def test_check_reissuing():
    reissuing = SimpleNamespace(**{**vars(fake_detail("pending", "web.example.cn", claim=CLAIM)),
                                   "certificate_id": 12000001})
    verdict, why = checks._reissuing(reissuing, entry_props())
    assert verdict == dynamic.REFUSE and "reissuing certificate 12000001" in why
    assert checks.state_of(reissuing) == checks.REISSUING and checks.holds_certificate(reissuing)
    assert checks._reissuing(fake_detail("pending", "web.example.cn"), entry_props()) is None
    assert checks._reissuing(fake_detail("normal", "web.example.cn"), entry_props()) is None


def test_check_claimed_by_another_entry_on_an_unused_instance_names_the_tags_to_remove():
    verdict, why = checks._claimed_by_another_entry(fake_detail("inactive", claim="p/s/other"), entry_props())
    assert verdict == dynamic.REFUSE and "p/s/other" in why and "remove the certfleet-* tags" in why


def test_names_of_an_uploaded_csr_come_from_the_csr_not_the_domain():
    from tests.emulators.cas_scaffolding import make_csr
    csr, _ = make_csr("a.example.cn", ["a.example.cn", "b.example.cn"])
    cn_only = SimpleNamespace(domain="a.example.cn", csr=csr, generate_csr_method="upload")
    assert checks.names_of(cn_only) == ["a.example.cn", "b.example.cn"]
    assert checks.names_of(SimpleNamespace(domain="x.example.cn", csr="", generate_csr_method="online")) == \
        ["x.example.cn"]


def test_check_claimed_before_the_stamp():
    earlier = {**interrupted_run(), "run": "earlier-run"}
    entry = entry_props(journal={**this_run(), "earlier": [earlier]})
    assert checks._claimed_before_the_stamp(fake_detail("pending", stamp="unknown-run"), entry)[0] == dynamic.REFUSE
    assert checks._claimed_before_the_stamp(fake_detail("pending", stamp="earlier-run"), entry) is None
    assert checks._claimed_before_the_stamp(fake_detail("pending", stamp=dynamic.RUN_ID), entry) is None


def test_check_free():
    assert checks._free(fake_detail("inactive"), entry_props())[0] == checks.APPLY
    assert checks._free(fake_detail("pending"), entry_props()) is None


def test_check_pending_otherwise():
    same = fake_detail("pending", "web.example.cn")
    assert checks._pending_otherwise(same, entry_props()) is None
    assert checks._pending_otherwise(fake_detail("pending", "old.example.cn"), entry_props())[0] == \
        checks.WITHDRAW_THEN_APPLY
    assert checks._pending_otherwise(fake_detail("pending", "web.example.cn", validation="HTTP"),
                                     entry_props())[0] == checks.WITHDRAW_THEN_APPLY
    assert checks._pending_otherwise(same, entry_props(csr_mode="generate"))[0] == checks.WITHDRAW_THEN_APPLY


def test_check_issued_otherwise():
    assert checks._issued_otherwise(fake_detail("normal", "old.example.cn"), entry_props())[0] == dynamic.REFUSE
    assert checks._issued_otherwise(fake_detail("normal", "web.example.cn"), entry_props(csr_mode="generate"))[0] \
        == dynamic.REFUSE
    assert checks._issued_otherwise(fake_detail("normal", "web.example.cn"), entry_props()) is None


def test_check_resume_decides_the_rest():
    assert checks._resume(fake_detail("normal", "web.example.cn"), entry_props())[0] == checks.RESUME
    # the whole chain: this entry's own issued certificate (its claim, this run's stamp, the digest of what the
    # instance shows) passes every other check and is resumed
    own = fake_detail("normal", "web.example.cn", claim=CLAIM, stamp=dynamic.RUN_ID)
    assert dynamic.first_opinion(checks.INSTANCE_CHECKS, own, entry_props())[0] == checks.RESUME


# --- replacements, switches and applications changed outside certfleet (review findings) -------------------------

@pytest.fixture
def told(monkeypatch):
    """What the instance provider tells the user (pulumi.log.warn in a real run)."""
    from components.alicloud import instance as instance_module, instance_release
    messages: list[str] = []
    for module in (instance_module, instance_release):  # the provider's steps live in these modules
        monkeypatch.setattr(module, "tell_user", messages.append)
    return messages


def next_run(monkeypatch):
    """A new `pulumi up` (a new provider process): nothing declared, taken or replaced yet."""
    monkeypatch.setattr(dynamic, "DECLARED", dynamic.RunSet())
    for name in ("TAKEN_IN_THIS_RUN", "REPLACED_IN_PLACE"):
        monkeypatch.setattr(instance_module, name, dynamic.RunSet())


def issue(provider, control, entry):
    instance_id = entry["instance_id"]
    outs = provider.create(entry).outs
    control.call("POST", f"cas/instances/{instance_id}/publish")
    return provider.read(instance_id, outs).outs


def claim_tags(server, instance_id):
    return {k: v for k, v in ((t.tag_key, t.tag_value) for t in detail(server, instance_id).tags or [])
            if k.startswith("certfleet-")}


def order_entry():
    """The same entry 'web' as a V1.0 resource-plan order (productCode instead of instance)."""
    from tests.provider.test_cas_provider import inputs
    return inputs(name="web", domains=("web.example.cn",), revokeOnDelete=True)


def order_provider(clock):
    p = CasOrderProvider()
    p.clock = clock
    return p


def test_switching_an_entry_from_product_code_to_instance_keeps_the_order_certificate(provider, server, control,
                                                                                      clock):
    orders = order_provider(clock)
    order = orders.create(order_entry())
    control.call("POST", f"cas/orders/{order.id}/publish")
    order_outs = orders.read(order.id, order.outs).outs
    assert order_outs["state"] == "certificate"
    provider.check({}, props(buy(control), revokeOnDelete=True))  # this run declares 'web' as an instance entry
    orders.delete(order.id, order_outs)  # the old CasOrder is deleted at the end of the same run
    assert control.call("GET", f"cas/orders/{order.id}")["status"] == "ISSUED"  # still serving: not revoked


def test_switching_an_entry_from_instance_to_product_code_keeps_the_instance_certificate(provider, server, control,
                                                                                      clock, monkeypatch):
    instance_id = buy(control)
    outs = issue(provider, control, props(instance_id, revokeOnDelete=True))
    next_run(monkeypatch)
    order_provider(clock).check({}, order_entry())  # this run declares 'web' as a resource-plan order
    provider.delete(instance_id, outs)
    assert detail(server, instance_id).certificate_status == "issued"


def test_check_refuses_a_replacement_on_an_instance_that_holds_a_certificate(provider, server, control):
    instance_id = buy(control, full_domain_count=2)
    entry = props(instance_id, csr="generate")
    issue(provider, control, entry)
    # check's olds are the old inputs (no state): the instance itself says it holds a certificate
    [failure] = provider.check(entry, {**entry, "domains": ["web.example.cn", "www.example.cn"]}).failures
    assert failure.property == "domains"
    assert "an instance carries one certificate: name another instance" in failure.reason
    [failure] = provider.check(entry, {**entry, "key_algorithm": "EC_P256"}).failures
    assert failure.property == "key_algorithm"
    assert not provider.check(entry, {**entry, "instance_id": buy(control, full_domain_count=2)}).failures


def test_diff_deletes_first_only_on_the_same_instance(provider, server, control):
    instance_id = buy(control)
    outs = provider.create(props(instance_id)).outs
    same = provider.diff(instance_id, outs, props(instance_id, domains=["new.example.cn"]))
    assert same.replaces == ["domains"] and same.delete_before_replace
    other = provider.diff(instance_id, outs, props(buy(control)))
    assert other.replaces == ["instance_id"] and not other.delete_before_replace


def test_a_certificate_issued_before_a_delete_first_replacement_keeps_the_state(provider, server, control,
                                                                               monkeypatch):
    instance_id = buy(control, full_domain_count=2)
    entry = props(instance_id, csr="generate")
    outs = provider.create(entry).outs
    next_run(monkeypatch)
    news = {**entry, "domains": ["web.example.cn", "www.example.cn"]}
    assert not provider.check(entry, news).failures  # pending at preview: the application may be replaced
    control.call("POST", f"cas/instances/{instance_id}/publish")  # ... but it is issued before the delete
    with pytest.raises(CertfleetError, match="an instance carries one certificate: name another instance"):
        provider.delete(instance_id, outs)  # fails: Pulumi keeps the old state (and its generated key)
    assert detail(server, instance_id).certificate_status == "issued"


def test_moving_to_another_instance_applies_there_first_then_withdraws_the_old(provider, server, control,
                                                                              monkeypatch):
    old_instance, new_instance = buy(control), buy(control)
    old = provider.create(props(old_instance)).outs
    next_run(monkeypatch)
    news = props(new_instance)
    provider.check(old, news)
    assert provider.create(news).outs["state"] == "pending"  # create before delete: the old is still there
    provider.delete(old_instance, old)
    assert detail(server, old_instance).status == "inactive" and claim_tags(server, old_instance) == {}
    assert detail(server, new_instance).status == "pending"


@pytest.mark.parametrize("csr", [{}, {"csr": "generate"}])
def test_replace_on_the_same_pending_instance_never_withdraws_the_new_application(provider, server, control, csr):
    # `pulumi up --replace` skips diff: the resource option (create before delete) applies.
    instance_id = buy(control)
    entry = props(instance_id, **csr)
    old = provider.create(entry).outs
    provider.check(entry, entry)
    new = provider.create(entry).outs  # resumes (cas) or applies anew (generate: the new resource's key)
    provider.delete(instance_id, old)
    assert detail(server, instance_id).status == "pending"
    assert new["state"] == "pending" and new["challenge"]


def test_replace_on_the_same_issued_instance_resumes_or_refuses_and_never_revokes(provider, server, control):
    instance_id = buy(control)
    entry = props(instance_id, revokeOnDelete=True)
    old = issue(provider, control, entry)
    provider.check(entry, entry)
    new = provider.create(entry).outs  # CAS holds the key: the new resource takes the same certificate
    assert new["cert_id"] == old["cert_id"] and new["private_key"] == old["private_key"]
    provider.delete(instance_id, old)
    assert detail(server, instance_id).certificate_status == "issued"
    generated = buy(control)
    entry = props(generated, csr="generate")
    issue(provider, control, entry)
    with pytest.raises(CertfleetError, match="key certfleet generated"):
        provider.create(entry)  # fails first: the old resource (with the key) stays
    assert detail(server, generated).certificate_status == "issued"


def test_a_changed_key_algorithm_withdraws_the_pending_application_and_applies_again(provider, server, control):
    instance_id = buy(control)
    provider.create(props(instance_id))  # an interrupted run: RSA_2048
    outs = provider.create(props(instance_id, keyAlgorithm="EC_P256")).outs
    assert detail(server, instance_id).key_algorithm == "ECC_256" and outs["state"] == "pending"


def test_a_changed_csr_withdraws_the_pending_application_and_applies_again(provider, server, control):
    from tests.emulators.cas_scaffolding import make_csr, make_key
    instance_id = buy(control)
    first, _ = make_csr("web.example.cn")
    second, _ = make_csr("web.example.cn", key=make_key("EC"))
    provider.create(props(instance_id, csr={"pem": first}))
    provider.create(props(instance_id, csr={"pem": second}))
    assert detail(server, instance_id).csr.strip() == second.strip()


def test_a_changed_key_algorithm_on_an_issued_certificate_is_refused(provider, server, control):
    instance_id = buy(control)
    issue(provider, control, props(instance_id))
    with pytest.raises(CertfleetError, match="RSA_2048.*an instance carries one certificate"):
        provider.create(props(instance_id, keyAlgorithm="EC_P256"))


def reapplied_in_the_console(server, instance_id, domain="console.example.cn"):
    """Someone withdraws certfleet's application in the console and applies for other names (tags stay)."""
    client = make_cas_client(server)
    client.cancel_pending_certificate(cas_models.CancelPendingCertificateRequest(instance_id=instance_id))
    client.update_instance(cas_models.UpdateInstanceRequest(instance_id=instance_id, domain=domain))
    client.apply_certificate(cas_models.ApplyCertificateRequest(instance_id=instance_id))


def test_an_application_made_again_outside_certfleet_is_never_withdrawn(provider, server, control, told):
    instance_id = buy(control, full_domain_count=2)
    outs = provider.create(props(instance_id)).outs
    reapplied_in_the_console(server, instance_id)
    outs = provider.read(instance_id, outs).outs
    assert outs["state"] == "foreign" and "did not make" in outs["status_message"] and outs["challenge"] is None
    provider.delete(instance_id, outs)
    assert detail(server, instance_id).status == "pending"
    assert "nothing withdrawn" in told[-1]
    with pytest.raises(CertfleetError, match="not the one certfleet applied for"):
        provider.create(props(instance_id))  # re-added: still not certfleet's


def test_the_same_names_applied_again_outside_certfleet_are_never_withdrawn(provider, server, control):
    from tests.emulators.cas_scaffolding import make_csr
    instance_id = buy(control)
    outs = provider.create(props(instance_id, csr="generate")).outs
    client = make_cas_client(server)
    client.cancel_pending_certificate(cas_models.CancelPendingCertificateRequest(instance_id=instance_id))
    client.update_instance(cas_models.UpdateInstanceRequest(instance_id=instance_id, csr=make_csr("web.example.cn")[0],
                                                            generate_csr_method="upload"))
    client.apply_certificate(cas_models.ApplyCertificateRequest(instance_id=instance_id))
    provider.delete(instance_id, outs)
    assert detail(server, instance_id).status == "pending"


def test_destroy_clears_the_claim_so_another_entry_can_use_the_instance(provider, server, control):
    instance_id = buy(control)
    outs = provider.create(props(instance_id)).outs
    assert set(claim_tags(server, instance_id)) == {CLAIM_ENTRY_TAG, CLAIM_STAMP_TAG, checks.CLAIM_APPLICATION_TAG}
    provider.delete(instance_id, outs)
    assert claim_tags(server, instance_id) == {}
    other = {**props(instance_id), "order_name": "blog", "claim": "certfleet/test/blog"}
    assert provider.create(other).outs["state"] == "pending"


def test_refresh_keeps_the_certificate_certfleet_recorded_and_destroy_never_revokes_another(provider, server,
                                                                                            control, told):
    instance_id = buy(control)
    outs = issue(provider, control, props(instance_id, revokeOnDelete=True))
    elsewhere = buy(control)
    issue(provider, control, {**props(elsewhere), "order_name": "blog", "claim": "certfleet/test/blog"})
    book = server.api.backend.instances
    # Applied for again outside certfleet (another key algorithm: not certfleet's application) and issued.
    book.instances[instance_id].cert_id = book.instances[elsewhere].cert_id
    book.instances[instance_id].key_algorithm = "ECC_256"
    read = provider.read(instance_id, outs).outs
    assert read["cert_id"] == outs["cert_id"] and read["certificate_pem"] == outs["certificate_pem"]
    assert read["state"] == "foreign" and str(book.instances[elsewhere].cert_id) in read["status_message"]
    assert "name it in the entry (`instance: <its id>`" in read["status_message"]  # create would refuse it
    assert "--replace" not in read["status_message"]
    provider.delete(instance_id, read)
    assert detail(server, instance_id).certificate_status == "issued"  # the other certificate is not revoked
    assert detail(server, elsewhere).certificate_status == "issued"


def test_a_certificate_issued_while_withdrawing_is_reported_as_kept(provider, server, control, told):
    instance_id = buy(control)
    outs = provider.create(props(instance_id)).outs
    control.call("POST", "cas/settings", {"validation_wait": 1.0})
    control.call("POST", f"cas/instances/{instance_id}/publish")  # issued one second later
    control.add_fault("CancelPendingCertificate", status=400, code="OperationDenied.StatusNotSupport", delay=1.5)
    provider.delete(instance_id, outs)
    control.clear_faults()
    assert detail(server, instance_id).certificate_status == "issued"
    assert "application was withdrawn" not in told[-1] and "issued certificate" in told[-1] and "kept" in told[-1]


def test_check_changed_outside_certfleet():
    assert checks._changed_outside_certfleet(fake_detail("pending", "web.example.cn", claim=CLAIM), entry_props()) \
        is None
    withdrawn_and_reapplied = fake_detail("pending", "console.example.cn", claim=CLAIM, digest="f" * 32)
    assert checks._changed_outside_certfleet(withdrawn_and_reapplied, entry_props())[0] == dynamic.REFUSE
    assert checks._changed_outside_certfleet(fake_detail("normal", "web.example.cn", digest="f" * 32),
                                             entry_props())[0] == dynamic.REFUSE
    assert checks._changed_outside_certfleet(fake_detail("inactive", digest="f" * 32), entry_props()) is None


def test_check_pending_otherwise_compares_the_key():
    assert checks._pending_otherwise(fake_detail("pending", "web.example.cn", key_algorithm="ECC_256"),
                                     entry_props())[0] == checks.WITHDRAW_THEN_APPLY
    assert checks._pending_otherwise(fake_detail("pending", "web.example.cn", csr="-----BEGIN X-----\nAA\n"),
                                     entry_props())[0] == checks.WITHDRAW_THEN_APPLY


def test_check_issued_otherwise_compares_the_key():
    refused = checks._issued_otherwise(fake_detail("normal", "web.example.cn", key_algorithm="ECC_256"), entry_props())
    assert refused[0] == dynamic.REFUSE and "key algorithm ECC_256, not keyAlgorithm RSA_2048" in refused[1]
    # validation does not matter once issued
    assert checks._issued_otherwise(fake_detail("normal", "web.example.cn", validation="HTTP"), entry_props()) is None


def test_application_digest_ignores_name_order_and_csr_line_breaks():
    csr = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\nBBBB\n-----END CERTIFICATE REQUEST-----\n"
    shown = SimpleNamespace(domain="b.example.cn,a.example.cn", validation_method="DNS", key_algorithm="RSA_2048",
                            csr=csr.replace("\n", "\r\n"), generate_csr_method="upload")
    entry = entry_props(domains=["a.example.cn", "b.example.cn"], csr_mode="pem", csr_pem=csr)
    assert checks.application_of_detail(shown) == checks.application_of_entry(entry)
    assert checks.application_of_entry(entry_props(csr_mode="generate")) is None  # a new key: matches nothing


def test_replacement_failures_only_for_a_certificate_on_the_same_instance():
    entry = entry_props()
    issued, pending = fake_detail("normal", "web.example.cn"), fake_detail("pending", "web.example.cn")
    [failure] = checks.replacement_failures(issued, entry, {**entry, "domains": ["new.example.cn"]})
    assert failure.property == "domains" and "an instance carries one certificate" in failure.reason
    assert not checks.replacement_failures(pending, entry, {**entry, "domains": ["new.example.cn"]})
    assert not checks.replacement_failures(issued, entry, {**entry, "validation": "FILE"})  # stored in place


def test_region_of_the_endpoint():
    assert checks.region_of("cas.aliyuncs.com") == "cn-hangzhou"
    assert checks.region_of("cas.ap-southeast-1.aliyuncs.com") == "ap-southeast-1"
    assert checks.region_of("127.0.0.1:8080") == "cn-hangzhou"


def test_the_resource_creates_before_it_deletes(monkeypatch):
    # `pulumi up --replace` skips diff: the resource option decides, and it must not drop the old state first.
    captured = {}
    monkeypatch.setattr(dynamic.CertfleetResource, "__init__",
                        lambda self, provider, name, props, opts=None: captured.update(opts=opts))
    spec = load_fleet({"alicloud": {"orders": {"web": {"instance": INSTANCE_ID, "domains": ["web.example.cn"]}}}}) \
        .alicloud.instance_orders[0]
    instance_module.CasInstanceCertificate("web", spec, 0)
    assert not captured["opts"].delete_before_replace
    assert captured["opts"].additional_secret_outputs == ["private_key"]


# --- second review: reissues, denied withdrawals, CN-only Domain, renames, failed applications -----------------

def reissue(control, instance_id):
    """A reissue started outside certfleet (console, AutoReissue): pending, the issued certificate still serves."""
    control.call("POST", f"cas/instances/{instance_id}/reissue")


def test_a_refresh_during_a_reissue_keeps_the_serving_certificate_then_records_the_reissued_one(
        provider, server, control, told):
    instance_id = buy(control)
    outs = issue(provider, control, props(instance_id, revokeOnDelete=True))
    first = outs["cert_id"]
    reissue(control, instance_id)
    during = provider.read(instance_id, outs).outs
    assert during["state"] == "reissuing" and "reissue" in during["status_message"]
    assert (during["cert_id"], during["certificate_pem"], during["not_after"]) == \
        (first, outs["certificate_pem"], outs["not_after"])
    assert during["private_key"] == outs["private_key"] and during["challenge"] is None
    control.call("POST", f"cas/instances/{instance_id}/publish")  # CAS issues the reissued certificate
    after = provider.read(instance_id, during).outs
    reissued = str(detail(server, instance_id).certificate_id)
    assert after["state"] == "issued" and after["cert_id"] == reissued != first  # certfleet's application's
    assert after["certificate_pem"] != outs["certificate_pem"] and after["private_key"] != outs["private_key"]
    assert keys.certificate_matches_key(after["certificate_pem"], after["private_key"])  # CAS's new key
    provider.delete(instance_id, after)  # a real destroy with revokeOnDelete: the recorded (reissued) one
    certificates = server.api.backend.certificates
    assert certificates[int(reissued)].revoked and not certificates[int(first)].revoked


def test_a_reissue_is_never_withdrawn_and_refuses_a_replacement_on_the_same_instance(provider, server, control,
                                                                                     monkeypatch, told):
    instance_id = buy(control, full_domain_count=2)
    entry = props(instance_id, csr="generate", revokeOnDelete=True)
    outs = issue(provider, control, entry)
    reissue(control, instance_id)
    next_run(monkeypatch)
    news = {**entry, "domains": ["web.example.cn", "www.example.cn"]}
    [failure] = provider.check(entry, news).failures
    assert failure.property == "domains" and "an instance carries one certificate" in failure.reason
    outs = provider.read(instance_id, outs).outs
    with pytest.raises(CertfleetError, match="an instance carries one certificate"):
        provider.delete(instance_id, outs)  # the old half of a replacement: fails, Pulumi keeps the key
    assert detail(server, instance_id).status == "pending"
    next_run(monkeypatch)
    provider.delete(instance_id, outs)  # a real destroy: the reissue is neither withdrawn nor revoked
    after = detail(server, instance_id)
    assert (after.status, str(after.certificate_id), after.certificate_status) == ("pending", outs["cert_id"],
                                                                                   "issued")
    assert "reissue" in told[-1] and "kept" in told[-1]


def test_a_create_on_a_reissuing_instance_takes_and_withdraws_nothing(provider, server, control):
    instance_id = buy(control)
    entry = props(instance_id)
    issue(provider, control, entry)
    reissue(control, instance_id)
    with pytest.raises(CertfleetError, match="reissue"):
        provider.create(entry)  # `pulumi up --replace` creates first: the old resource keeps the certificate
    assert detail(server, instance_id).status == "pending"


def test_a_denied_withdrawal_of_a_pending_application_fails_the_delete(provider, server, control, monkeypatch):
    instance_id = buy(control, full_domain_count=2)
    entry = props(instance_id, csr="generate")
    outs = provider.create(entry).outs
    control.add_fault("CancelPendingCertificate", status=400, code="OperationDenied.StatusNotSupport", times=None)
    with pytest.raises(CloudError) as caught:
        provider.delete(instance_id, outs)  # fails: Pulumi keeps the state and the generated key
    control.clear_faults()
    assert caught.value.code == "OperationDenied.StatusNotSupport"
    assert caught.value.call == "cas.CancelPendingCertificate" and instance_id in str(caught.value)
    assert detail(server, instance_id).status == "pending"
    assert {t.tag_key for t in detail(server, instance_id).tags} >= {CLAIM_ENTRY_TAG}  # claim kept


def test_a_denied_withdrawal_after_a_lost_answer_counts_as_done(provider, server, control, told):
    instance_id = buy(control)
    outs = provider.create(props(instance_id)).outs
    control.add_fault("CancelPendingCertificate", drop_response=True, times=1)  # withdrawn, the answer lost
    provider.delete(instance_id, outs)  # the retry answers OperationDenied: the instance shows inactive
    assert detail(server, instance_id).status == "inactive" and claim_tags(server, instance_id) == {}
    assert "withdrawn" in told[-1]


@pytest.mark.parametrize("shows", ["cn", "all"])
def test_a_csr_application_stays_certfleets_whatever_domain_the_instance_shows(provider, server, control, shows):
    control.call("POST", "cas/instance-settings", {"csr_domain_shows": shows})
    from tests.emulators.cas_scaffolding import make_csr
    instance_id = buy(control, full_domain_count=2)
    names = ["web.example.cn", "www.example.cn"]
    generated = provider.create(props(instance_id, csr="generate", domains=names, revokeOnDelete=True)).outs
    assert generated["state"] == "pending"
    control.call("POST", f"cas/instances/{instance_id}/publish")
    issued = provider.read(instance_id, generated).outs
    assert issued["state"] == "issued"
    provider.delete(instance_id, issued)
    assert detail(server, instance_id).certificate_status == "revoked"  # certfleet's: revokeOnDelete applies
    uploaded = buy(control, full_domain_count=2)
    csr, _ = make_csr(names[0], names)
    entry = props(uploaded, csr={"pem": csr}, domains=names)
    stamp = interrupted_run()
    provider.create({**entry, "journal": stamp})  # its state write was lost
    assert not provider.check({}, entry).failures  # preview of the re-created resource: this entry's names
    control.add_fault("ApplyCertificate", status=500, times=None)
    again = provider.create({**entry, "journal": stamp}).outs  # resumed: no second application
    control.clear_faults()
    assert again["state"] == "pending"


def test_dropping_previous_names_after_a_rename_keeps_the_certificate_certfleets(provider, server, control):
    instance_id = buy(control)
    entry = props(instance_id, revokeOnDelete=True)
    outs = provider.create(entry).outs

    def renamed(previous):
        fleet = load_fleet({"alicloud": {"orders": {"web2": {
            "instance": instance_id, "domains": ["web.example.cn"], "revokeOnDelete": True,
            **({"previousNames": ["web"]} if previous else {})}}}})
        return {**instance_inputs(fleet.alicloud.instance_orders[0], 0, "certfleet/test/web2",
                                  [CLAIM] if previous else []), "journal": entry["journal"]}
    outs = provider.update(instance_id, outs, renamed(True)).outs
    assert outs["state"] == "pending"
    outs = provider.update(instance_id, outs, {**renamed(False), "tags": {"team": "web"}}).outs  # alias dropped
    assert outs["state"] == "pending"
    control.call("POST", f"cas/instances/{instance_id}/publish")
    outs = provider.read(instance_id, outs).outs
    assert outs["state"] == "issued" and outs["certificate_pem"]
    provider.delete(instance_id, outs)
    assert detail(server, instance_id).certificate_status == "revoked"


def test_a_failed_application_clears_the_claim(provider, server, control):
    instance_id = buy(control)
    control.add_fault("ApplyCertificate", status=400, code="InvalidParameter.Domain", times=1)
    with pytest.raises(CloudError, match="InvalidParameter.Domain"):
        provider.create(props(instance_id))
    assert detail(server, instance_id).status == "inactive" and claim_tags(server, instance_id) == {}
    other = {**props(instance_id), "order_name": "blog", "claim": "certfleet/test/blog"}
    assert provider.create(other).outs["state"] == "pending"  # usable by another entry


def test_a_stale_claim_on_an_unused_instance_says_to_remove_the_tags(provider, server, control):
    instance_id = buy(control)
    make_cas_client(server).update_instance(cas_models.UpdateInstanceRequest(instance_id=instance_id, tags=[
        cas_models.UpdateInstanceRequestTags(tag_key=CLAIM_ENTRY_TAG, tag_value="certfleet/test/blog")]))
    with pytest.raises(CertfleetError) as caught:
        provider.create(props(instance_id))
    message = str(caught.value)
    assert "certfleet/test/blog" in message and "remove the certfleet-* tags" in message
    assert "withdraw the application" not in message  # there is nothing to withdraw


def test_a_certificate_without_the_generated_key_is_never_recorded(provider, server, control):
    instance_id = buy(control)
    outs = provider.create(props(instance_id, csr="generate", revokeOnDelete=True)).outs  # pending: no cert_id yet
    elsewhere = buy(control)
    issue(provider, control, {**props(elsewhere), "order_name": "blog", "claim": "certfleet/test/blog"})
    book = server.api.backend.instances
    book.instances[instance_id].status = "normal"  # issued, but with a certificate for another key
    book.instances[instance_id].cert_id = book.instances[elsewhere].cert_id
    read = provider.read(instance_id, outs).outs
    assert read["state"] == "key_mismatch" and read["cert_id"] is None and read["certificate_pem"] is None
    provider.delete(instance_id, read)
    assert detail(server, elsewhere).certificate_status == "issued"  # never revoked


# --- third review: completed reissues, asynchronous withdrawals, transient application errors ------------------

def test_a_completed_reissue_with_the_generated_key_is_recorded_and_only_it_revoked(provider, server, control):
    instance_id = buy(control)
    outs = issue(provider, control, props(instance_id, csr="generate", revokeOnDelete=True))
    first = outs["cert_id"]
    reissue(control, instance_id)
    control.call("POST", f"cas/instances/{instance_id}/publish")  # reissued from the same CSR: the same key
    after = provider.read(instance_id, outs).outs
    assert after["state"] == "issued" and after["cert_id"] != first and after["private_key"] == outs["private_key"]
    assert keys.certificate_matches_key(after["certificate_pem"], outs["private_key"])
    assert after["not_after"] and after["certificate_pem"] != outs["certificate_pem"]
    provider.delete(instance_id, after)
    certificates = server.api.backend.certificates
    assert certificates[int(after["cert_id"])].revoked and not certificates[int(first)].revoked


def test_a_reissue_without_the_generated_key_stays_foreign_and_says_to_name_another_instance(
        provider, server, control):
    instance_id = buy(control)
    outs = issue(provider, control, props(instance_id, csr="generate", revokeOnDelete=True))
    elsewhere = buy(control)
    other = issue(provider, control, {**props(elsewhere), "order_name": "blog", "claim": "certfleet/test/blog"})
    reissue(control, instance_id)
    control.call("POST", f"cas/instances/{instance_id}/publish")
    certificates = server.api.backend.certificates
    reissued = detail(server, instance_id).certificate_id
    certificates[reissued].certificate_pem = other["certificate_pem"]  # reissued with another key
    after = provider.read(instance_id, outs).outs
    assert after["state"] == "foreign" and after["cert_id"] == outs["cert_id"]
    assert (after["certificate_pem"], after["private_key"]) == (outs["certificate_pem"], outs["private_key"])
    message = after["status_message"]
    assert "without the key" in message and "buy another instance" in message and "`instance: <its id>`" in message
    assert "--replace" not in message
    provider.delete(instance_id, after)  # a real destroy with revokeOnDelete: the reissued one is not recorded
    assert not certificates[reissued].revoked


def test_foreign_way_out_is_replace_only_where_create_would_take_the_instance():
    ours = fake_detail("normal", "web.example.cn", claim=CLAIM, stamp=dynamic.RUN_ID)
    cas_key = entry_props(application="0" * 32, cert_id="12000000")  # the state recorded another application
    assert "`pulumi up --replace" in checks.foreign_message(ours, cas_key)
    assert "buy another instance" in checks.foreign_message(ours, {**cas_key, "csr_mode": "generate"})
    changed = fake_detail("normal", "web.example.cn", claim=CLAIM, stamp=dynamic.RUN_ID, digest="f" * 32)
    assert "buy another instance" in checks.foreign_message(changed, cas_key)


def test_an_asynchronous_withdrawal_is_waited_for_and_still_pending_keeps_the_state(provider, server, control,
                                                                                   told):
    instance_id = buy(control)
    outs = provider.create(props(instance_id)).outs
    control.call("POST", "cas/instance-settings", {"withdrawal_lag": 1000})
    with pytest.raises(CloudError) as caught:
        provider.delete(instance_id, outs)  # accepted, but CAS still shows it pending: Pulumi keeps the state
    assert caught.value.call == "cas.CancelPendingCertificate" and instance_id in str(caught.value)
    assert "still pending after the withdrawal was accepted" in str(caught.value)
    assert CLAIM_ENTRY_TAG in claim_tags(server, instance_id)
    other = buy(control)
    outs = provider.create({**props(other), "order_name": "blog", "claim": "certfleet/test/blog"}).outs
    control.call("POST", "cas/instance-settings", {"withdrawal_lag": 3})
    provider.delete(other, outs)  # applied within the wait
    assert detail(server, other).status == "inactive" and claim_tags(server, other) == {}
    assert "withdrawn" in told[-1]


def test_a_transient_application_error_keeps_the_claim(provider, server, control):
    instance_id = buy(control)
    control.add_fault("ApplyCertificate", status=503, times=None)  # a server error: CAS may still carry it out
    with pytest.raises(CloudError):
        provider.create(props(instance_id))
    control.clear_faults()
    assert detail(server, instance_id).status == "inactive"
    assert claim_tags(server, instance_id)[CLAIM_ENTRY_TAG] == CLAIM  # the claim stays: the application is ours
    assert provider.create(props(instance_id)).outs["state"] == "pending"  # the next run applies
