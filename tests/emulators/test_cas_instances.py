"""The CAS emulator's V2.0 instance API, driven through the official SDK (alibabacloud-cas20200407)."""

from __future__ import annotations

import pytest
from alibabacloud_cas20200407 import models as cas_models
from Tea.exceptions import TeaException

from components.keys import certificate_names
from emulators.cas import CasApi
from emulators.core import EmulatorServer
from emulators.core.testing import ControlAPIError, ControlClient
from tests.emulators.cas_scaffolding import (ACCESS_KEY_ID, ACCESS_KEY_SECRET, CONTACT, make_cas_client, make_csr,
                                             order_for_package)

OTHER_KEY, OTHER_SECRET = "LTAI5tEMULATORTEST02", "other-secret"


def buy(control, product_code="digicert-free-1-free", **body) -> str:
    return control.call("POST", "cas/instances", {"product_code": product_code, **body})["instance_id"]


def detail(client, instance_id):
    return client.get_instance_detail(cas_models.GetInstanceDetailRequest(instance_id=instance_id)).body


def update(client, instance_id, **fields):
    return client.update_instance(cas_models.UpdateInstanceRequest(instance_id=instance_id, **fields))


def apply(client, instance_id):
    return client.apply_certificate(cas_models.ApplyCertificateRequest(instance_id=instance_id))


def error_of(call) -> TeaException:
    with pytest.raises(TeaException) as caught:
        call()
    return caught.value


def test_a_bought_instance_is_inactive_and_listed(cas_client, cas_control):
    instance_id = buy(cas_control)
    body = detail(cas_client, instance_id)
    assert (body.status, body.instance_id, body.full_domain_count, body.wildcard_domain_count) == \
        ("inactive", instance_id, 1, 0)
    assert body.domain_validation_list == [] and body.certificate_id is None
    listed = cas_client.list_instances(cas_models.ListInstancesRequest()).body
    assert [i.instance_id for i in listed.instance_list] == [instance_id] and listed.total_count == 1
    assert listed.show_size == 10


def test_list_instances_filters_and_pages(cas_client, cas_control):
    ids = [buy(cas_control) for _ in range(3)]
    update(cas_client, ids[0], domain="shop.example.com")
    found = cas_client.list_instances(cas_models.ListInstancesRequest(keyword="shop.example")).body.instance_list
    assert [i.instance_id for i in found] == [ids[0]]
    page = cas_client.list_instances(cas_models.ListInstancesRequest(show_size=2, current_page=2)).body
    assert len(page.instance_list) == 1 and page.total_count == 3
    assert error_of(lambda: cas_client.list_instances(cas_models.ListInstancesRequest(show_size=101))).code \
        == "InvalidParameter"


def test_update_apply_publish_issue(cas_client, cas_control):
    instance_id = buy(cas_control)
    update(cas_client, instance_id, domain="www.example.cn", validation_method="DNS", key_algorithm="RSA_2048",
           tags=[cas_models.UpdateInstanceRequestTags(tag_key="certfleet-owner", tag_value="p/s/web")],
           contact_id_list=[7, 8])
    before = detail(cas_client, instance_id)
    assert before.domain == "www.example.cn" and before.contact_id_list == [7, 8]
    assert [(t.tag_key, t.tag_value) for t in before.tags] == [("certfleet-owner", "p/s/web")]
    apply(cas_client, instance_id)
    pending = detail(cas_client, instance_id)
    assert pending.status == "pending"
    [record] = pending.domain_validation_list
    assert (record.domain, record.validation_type, record.validation_key) == \
        ("www.example.cn", "TXT", "_dnsauth.www.example.cn")
    assert record.validation_value
    cas_control.call("POST", f"cas/instances/{instance_id}/publish")
    issued = detail(cas_client, instance_id)
    assert (issued.status, issued.certificate_status) == ("normal", "issued")
    assert issued.domain_validation_list == []
    certificate = cas_client.get_user_certificate_detail(
        cas_models.GetUserCertificateDetailRequest(cert_id=issued.certificate_id)).body
    assert certificate.cert.startswith("-----BEGIN CERTIFICATE-----") and certificate.key  # online CSR: CAS's key
    assert certificate.instance_id == instance_id
    assert issued.certificate_not_after > issued.certificate_not_before > 10 ** 9  # epoch seconds


@pytest.mark.parametrize("shows, domain", [("cn", "a.example.cn"), ("all", "a.example.cn,b.example.cn")])
def test_update_with_a_csr_takes_its_names_and_keeps_the_key_with_the_customer(cas_client, cas_control, shows,
                                                                               domain):
    cas_control.call("POST", "cas/instance-settings", {"csr_domain_shows": shows})
    instance_id = buy(cas_control, full_domain_count=2)
    csr, _ = make_csr("a.example.cn", ["a.example.cn", "b.example.cn"])
    update(cas_client, instance_id, csr=csr, generate_csr_method="upload", validation_method="HTTP")
    apply(cas_client, instance_id)
    body = detail(cas_client, instance_id)
    assert body.domain == domain  # UpdateInstance doc: with a Csr, its CN is the domain ("cn", the default)
    assert {r.domain for r in body.domain_validation_list} == {"a.example.cn", "b.example.cn"}
    assert {r.validation_type for r in body.domain_validation_list} == {"HTTP"}
    cas_control.call("POST", f"cas/instances/{instance_id}/publish")
    cert_id = detail(cas_client, instance_id).certificate_id
    certificate = cas_client.get_user_certificate_detail(cas_models.GetUserCertificateDetailRequest(cert_id=cert_id))
    assert not certificate.body.key
    assert set(certificate_names(certificate.body.cert)[1]) == {"a.example.cn", "b.example.cn"}  # every name


def test_a_reissue_is_pending_while_the_issued_certificate_keeps_serving(cas_client, cas_control):
    instance_id = buy(cas_control)
    with pytest.raises(ControlAPIError):
        cas_control.call("POST", f"cas/instances/{instance_id}/reissue")  # nothing issued to reissue
    update(cas_client, instance_id, domain="x.example.cn")
    apply(cas_client, instance_id)
    cas_control.call("POST", f"cas/instances/{instance_id}/publish")
    first = detail(cas_client, instance_id).certificate_id
    cas_control.call("POST", f"cas/instances/{instance_id}/reissue")
    body = detail(cas_client, instance_id)
    assert (body.status, body.certificate_id, body.certificate_status) == ("pending", first, "issued")
    assert body.domain_validation_list[0].validation_value
    cas_control.call("POST", f"cas/instances/{instance_id}/publish")
    body = detail(cas_client, instance_id)
    assert body.status == "normal" and body.certificate_id not in (None, first)
    cas_control.call("POST", f"cas/instances/{instance_id}/reissue")
    cas_client.cancel_pending_certificate(cas_models.CancelPendingCertificateRequest(instance_id=instance_id))
    assert detail(cas_client, instance_id).status == "normal"  # a withdrawn reissue: the certificate still serves


def test_update_and_apply_refuse_what_the_instance_cannot_carry(cas_client, cas_control):
    instance_id = buy(cas_control)
    assert error_of(lambda: apply(cas_client, instance_id)).code == "MissingParameter"
    update(cas_client, instance_id, domain="a.example.cn,b.example.cn")
    assert error_of(lambda: apply(cas_client, instance_id)).code == "InvalidParameter.Domain"
    assert error_of(lambda: update(cas_client, instance_id, key_algorithm="RSA_1024")).code == \
        "InvalidParameter.KeyAlgorithm"
    ov = buy(cas_control, "geotrust-ov-1-personal")
    update(cas_client, ov, domain="ov.example.cn")
    assert error_of(lambda: apply(cas_client, ov)).code == "MissingParameter"


def test_pending_instance_refuses_update_and_second_apply(cas_client, cas_control):
    instance_id = buy(cas_control)
    update(cas_client, instance_id, domain="x.example.cn")
    apply(cas_client, instance_id)
    assert error_of(lambda: apply(cas_client, instance_id)).code == "OperationDenied.StatusNotSupport"
    assert error_of(lambda: update(cas_client, instance_id, domain="y.example.cn")).code == \
        "InvalidStatus.UpdateProtection"


def test_cancel_pending_withdraws_the_application(cas_client, cas_control):
    instance_id = buy(cas_control)
    update(cas_client, instance_id, domain="x.example.cn")
    apply(cas_client, instance_id)
    cas_client.cancel_pending_certificate(cas_models.CancelPendingCertificateRequest(instance_id=instance_id))
    body = detail(cas_client, instance_id)
    assert body.status == "inactive" and body.domain_validation_list == []
    error = error_of(lambda: cas_client.cancel_pending_certificate(
        cas_models.CancelPendingCertificateRequest(instance_id=instance_id)))
    assert (error.code, error.status_code) == ("OperationDenied.StatusNotSupport", 400)
    apply(cas_client, instance_id)  # usable again
    assert detail(cas_client, instance_id).status == "pending"


def test_revoke_and_delete(cas_client, cas_control):
    instance_id = buy(cas_control)
    update(cas_client, instance_id, domain="x.example.cn")
    apply(cas_client, instance_id)
    delete = cas_models.DeleteInstanceRequest(instance_id=instance_id, client_token="t1")
    assert error_of(lambda: cas_client.delete_instance(delete)).code == "InvalidStatus.DeleteProtection"
    cas_control.call("POST", f"cas/instances/{instance_id}/publish")
    cert_id = detail(cas_client, instance_id).certificate_id
    assert error_of(lambda: cas_client.revoke_certificate(cas_models.RevokeCertificateRequest(
        instance_id=instance_id, certificate_id=cert_id + 1))).code == "NotFound"
    cas_client.revoke_certificate(cas_models.RevokeCertificateRequest(instance_id=instance_id, certificate_id=cert_id))
    assert detail(cas_client, instance_id).certificate_status == "revoked"
    cas_client.delete_instance(delete)
    error = error_of(lambda: detail(cas_client, instance_id))
    assert (error.code, error.status_code) == ("NotFound", 404)


def test_challenge_lag_keeps_the_validation_list_empty(cas_client, cas_control, cas_server):
    cas_control.call("POST", "cas/instance-settings", {"challenge_lag": 30})
    instance_id = buy(cas_control)
    update(cas_client, instance_id, domain="x.example.cn")
    apply(cas_client, instance_id)
    assert detail(cas_client, instance_id).domain_validation_list == []
    cas_server.api.clock.advance(31)
    assert len(detail(cas_client, instance_id).domain_validation_list) == 1


def test_withdrawal_lag_keeps_a_withdrawn_application_pending_until_it_has_passed(cas_client, cas_control,
                                                                                  cas_server):
    cas_control.call("POST", "cas/instance-settings", {"withdrawal_lag": 20})
    instance_id = buy(cas_control)
    update(cas_client, instance_id, domain="x.example.cn")
    apply(cas_client, instance_id)
    withdraw = cas_models.CancelPendingCertificateRequest(instance_id=instance_id)
    cas_client.cancel_pending_certificate(withdraw)  # accepted
    cas_control.call("POST", f"cas/instances/{instance_id}/publish")  # would issue it at once, but withdrawn
    assert detail(cas_client, instance_id).status == "pending"
    cas_client.cancel_pending_certificate(withdraw)  # accepted again while it has not taken effect
    cas_server.api.clock.advance(21)
    body = detail(cas_client, instance_id)
    assert body.status == "inactive" and body.certificate_id is None  # withdrawn, never issued
    with pytest.raises(ControlAPIError):
        cas_control.call("POST", "cas/instance-settings", {"withdrawal_lag": -1})


def test_instances_belong_to_the_account_that_bought_them():
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET, OTHER_KEY: OTHER_SECRET})) as server:
        control = ControlClient(server.url)
        mine = buy(control, account=ACCESS_KEY_ID)
        other = make_cas_client(server, OTHER_KEY, OTHER_SECRET)
        assert error_of(lambda: detail(other, mine)).code == "NotFound"
        assert other.list_instances(cas_models.ListInstancesRequest()).body.total_count == 0
        assert detail(make_cas_client(server), mine).status == "inactive"


def test_account_plans(cas_client, cas_control):
    instance_id = buy(cas_control)
    cas_control.call("POST", "cas/instance-settings", {"account_plan": "v2"})
    error = error_of(lambda: order_for_package(cas_client, product_code="digicert-free-1-free", **CONTACT))
    assert (error.code, error.status_code) == ("InsufficientQuota", 400)
    assert error.data["Recommend"] and error.data["HostId"]  # Alibaba's error envelope
    assert detail(cas_client, instance_id).status == "inactive"
    cas_control.call("POST", "cas/instance-settings", {"account_plan": "v1"})
    assert cas_client.list_instances(cas_models.ListInstancesRequest()).body.total_count == 0
    assert error_of(lambda: detail(cas_client, instance_id)).code == "NotFound"
    assert order_for_package(cas_client, product_code="digicert-free-1-free", **CONTACT) > 0
    with pytest.raises(ControlAPIError):
        cas_control.call("POST", "cas/instance-settings", {"account_plan": "v3"})


def test_seeded_instances_have_fixed_ids_and_survive_a_restart(tmp_path):
    state = tmp_path / "cas.json"
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET}, seed_instances=1), state_file=state) as server:
        client = make_cas_client(server)
        first = [i.instance_id for i in client.list_instances(cas_models.ListInstancesRequest(show_size=100))
                 .body.instance_list]
        update(client, first[0], domain="kept.example.cn")
    assert len(first) == 15
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET}, seed_instances=1), state_file=state) as server:
        client = make_cas_client(server)
        assert detail(client, first[0]).domain == "kept.example.cn"
    with EmulatorServer(CasApi({ACCESS_KEY_ID: ACCESS_KEY_SECRET}, seed_instances=1)) as server:
        again = [i.instance_id for i in make_cas_client(server).list_instances(
            cas_models.ListInstancesRequest(show_size=100)).body.instance_list]
    assert sorted(again) == sorted(first)


def test_untag_resources_removes_the_named_tags_of_an_instance(cas_client, cas_control):
    instance_id = buy(cas_control)
    update(cas_client, instance_id, tags=[cas_models.UpdateInstanceRequestTags(tag_key=k, tag_value="v")
                                          for k in ("keep", "drop-1", "drop-2")])
    cas_client.untag_resources(cas_models.UntagResourcesRequest(
        region_id="cn-hangzhou", resource_type="instance", resource_id=[instance_id], tag_key=["drop-1", "drop-2"]))
    assert [t.tag_key for t in detail(cas_client, instance_id).tags] == ["keep"]
    cas_client.untag_resources(cas_models.UntagResourcesRequest(
        region_id="cn-hangzhou", resource_type="instance", resource_id=[instance_id], all=True))
    assert detail(cas_client, instance_id).tags == []
    assert error_of(lambda: cas_client.untag_resources(cas_models.UntagResourcesRequest(
        region_id="cn-hangzhou", resource_type="certificate", resource_id=[instance_id], all=True))).code == \
        "InvalidParameter.ResourceType"
    assert error_of(lambda: cas_client.untag_resources(cas_models.UntagResourcesRequest(
        region_id="cn-hangzhou", resource_type="instance", resource_id=["cas-cn-000000000000"], all=True))).code \
        == "NotFound"
    assert error_of(lambda: cas_client.untag_resources(cas_models.UntagResourcesRequest(
        resource_type="instance", resource_id=[instance_id], all=True))).code == "MissingParameter"
