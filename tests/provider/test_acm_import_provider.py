"""The ACM import provider's methods, called directly against a real server over HTTP (the `aws` fixture).

Real certificates (tests/pki.py, dated around the real time: the server checks dates). What the server
cannot produce (an answer lost after the import went through, an SDK retry that imports twice,
an error that echoes the key) is made at the wire with botocore events; nothing replaces the SDK call itself.
A certificate in use is really in use: the AWS emulator (emulators/aws) refuses to delete a certificate a
CloudFront distribution serves, as AWS does.
"""

from __future__ import annotations

import json
import os
import pickle
from datetime import datetime, timezone

import boto3
import botocore.exceptions
import pytest

from components.aws import acm, acm_import
from components.aws.acm_import import AcmImportProvider
from components.dynamic import REPLACED
from components.errors import CloudError
from tests.emulators.test_aws_emulator import create as create_distribution
from tests.emulators.test_aws_emulator import update as update_distribution
from tests.pki import Pki, key, key_pem, self_signed
from tests.provider.test_acm_provider import FakeClock, acm_client, inject, tags_of

NAMES = ["example.com", "*.example.com", "WWW.Example.com"]


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki.make(slot=5, now=datetime.now(timezone.utc))


@pytest.fixture
def provider(aws):
    p = AcmImportProvider()
    p.clock = FakeClock
    REPLACED.clear()
    return p


def inputs(pki, names=NAMES, kind="RSA_2048", slot=0, name="shop", tags=None, **extra):
    certificate_pem, private_key_pem = pki.leaf(names, kind=kind, slot=slot)
    return {"cert_name": name, "resource_tag": f"certfleet/test/{name}", "previous_resource_tags": [],
            "region": "us-east-1", "certificate_pem": certificate_pem, "chain_pem": pki.chain_pem(),
            "private_key_pem": private_key_pem, "tags": {"team": "web"} if tags is None else tags,
            "expiry_margin_days": 30, "delete_in_use_timeout_seconds": 60, **extra}


def certificates():
    return [c["CertificateArn"] for c in acm_client().list_certificates(
        Includes={"keyTypes": acm.ALL_KEY_TYPES})["CertificateSummaryList"]]


def no_key_text(value, private_key_pem):
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    body = [line for line in private_key_pem.splitlines() if "-----" not in line]
    return "PRIVATE KEY" not in text and not any(line in text for line in body)


def public_outputs(outs):
    return {k: v for k, v in outs.items() if k not in acm_import.SECRET_OUTPUTS}


# --- check -------------------------------------------------------------------------------------------------

def test_check_runs_the_pem_rules_per_input_without_key_text(provider, pki):
    props = inputs(pki)
    wrong_key = key_pem(key("RSA_2048", slot=9))
    result = provider.check({}, {**props, "private_key_pem": wrong_key, "chain_pem": ""})
    assert {(f.property, f.reason.split(":")[0]) for f in result.failures} == {
        ("private_key_pem", "the private key (RSA_2048) does not belong to the certificate (CN=example.com, key "
                            "RSA_2048); give the key the certificate was issued for"),
        ("chain_pem", "the chain is missing")}
    assert all(no_key_text(f.reason, wrong_key) for f in result.failures)
    assert provider.check({}, props).failures == []
    missing = provider.check({}, {**props, "private_key_pem": None}).failures
    assert [f.property for f in missing] == ["private_key_pem"] and "--secret" in missing[0].reason


# --- create ------------------------------------------------------------------------------------------------

def test_create_imports_tags_and_reads_names_from_the_certificate(provider, pki):
    props = inputs(pki)
    result = provider.create(props)
    outs = result.outs
    assert result.id.startswith("arn:aws:acm:us-east-1:") and outs["arn"] == result.id
    assert outs["status"] == "ISSUED" and outs["status_message"] == "imported"
    assert outs["domain"] == "example.com"
    assert outs["sans"] == ["*.example.com", "example.com", "www.example.com"]  # apex and wildcard kept
    assert outs["key_algorithm"] == "RSA_2048" and len(outs["fingerprint"]) == 64
    assert outs["not_after"].startswith(str(pki.now.year + 1))
    assert outs["in_use_by"] == [] and outs["tags"] == {"team": "web"}
    described = acm_client().describe_certificate(CertificateArn=result.id)["Certificate"]
    assert described["Type"] == "IMPORTED"
    assert tags_of(result.id) == {"team": "web", acm.RESOURCE_TAG: "certfleet/test/shop"}


def test_a_second_create_adopts_instead_of_importing_again(provider, pki):
    props = inputs(pki)
    first = provider.create(props)
    imported_at = acm_client().describe_certificate(CertificateArn=first.id)["Certificate"]["ImportedAt"]
    second = provider.create(props)  # the first answer was lost: Pulumi never saved it
    assert second.id == first.id and certificates() == [first.id]
    # Same material: not imported again.
    assert acm_client().describe_certificate(CertificateArn=first.id)["Certificate"]["ImportedAt"] == imported_at


def test_an_adopted_certificate_with_old_material_is_re_imported(provider, pki):
    first = provider.create(inputs(pki))
    rotated = inputs(pki, slot=1)
    second = provider.create(rotated)
    assert second.id == first.id and certificates() == [first.id]
    assert second.outs["fingerprint"] != first.outs["fingerprint"]


def test_an_answer_lost_after_the_import_went_through_is_found_in_acm(provider, pki):
    def lose_answer(**_):
        raise botocore.exceptions.ReadTimeoutError(endpoint_url="http://acm")
    acm_client().meta.events.register("after-call.acm.ImportCertificate", lose_answer)
    outs = provider.create(inputs(pki)).outs
    assert certificates() == [outs["arn"]]


def test_an_sdk_retry_that_imported_twice_leaves_one_certificate(provider, pki):
    retried = {"n": 0}

    def retry_once(response=None, **_):
        if retried["n"] == 0 and response is not None and response[0].status_code == 200:
            retried["n"] += 1
            return 0  # botocore retries after this many seconds, as after a dropped answer
        return None
    acm_client().meta.events.register_first("needs-retry.acm.ImportCertificate", retry_once)
    outs = provider.create(inputs(pki)).outs
    assert retried["n"] == 1
    assert certificates() == [outs["arn"]]


def test_a_server_error_with_nothing_imported_is_a_cloud_error(provider, pki):
    inject("ImportCertificate", 500, "InternalFailure", "boom", times=10)
    with pytest.raises(CloudError) as err:
        provider.create(inputs(pki))
    assert err.value.call == "acm.ImportCertificate" and err.value.code == "InternalFailure"
    assert "imported certificate 'shop'" in str(err.value)
    assert certificates() == []


def test_a_self_signed_certificate_imports_without_chain(provider):
    certificate_pem, private_key_pem = self_signed(["self.example.com"], now=datetime.now(timezone.utc))
    props = {**inputs(Pki.make(now=datetime.now(timezone.utc))), "certificate_pem": certificate_pem,
             "chain_pem": "", "private_key_pem": private_key_pem}
    assert provider.check({}, props).failures == []
    assert provider.create(props).outs["sans"] == ["self.example.com"]


# --- update / diff -----------------------------------------------------------------------------------------

def test_rotation_re_imports_in_place_without_tags_and_keeps_the_tags(provider, pki):
    created = provider.create(inputs(pki))
    sent = []
    acm_client().meta.events.register("provide-client-params.acm.ImportCertificate",
                                      lambda params, **_: sent.append(sorted(params)))
    rotated = inputs(pki, slot=1)
    diff = provider.diff(created.id, created.outs, rotated)
    assert diff.changes is not False and not diff.replaces
    updated = provider.update(created.id, created.outs, rotated).outs
    assert updated["arn"] == created.id and certificates() == [created.id]
    assert updated["fingerprint"] != created.outs["fingerprint"]
    assert sent == [["Certificate", "CertificateArn", "CertificateChain", "PrivateKey"]]  # no Tags
    assert tags_of(created.id) == {"team": "web", acm.RESOURCE_TAG: "certfleet/test/shop"}
    got = acm_client().get_certificate(CertificateArn=created.id)["Certificate"]
    assert acm_import.fingerprint_of(got) == updated["fingerprint"]


def test_tags_change_in_place(provider, pki):
    created = provider.create(inputs(pki, tags={"team": "web", "old": "x"}))
    news = {**created.outs, "tags": {"team": "shop"}}
    assert not provider.diff(created.id, created.outs, news).replaces
    assert provider.update(created.id, created.outs, news).outs["tags"] == {"team": "shop"}
    assert tags_of(created.id) == {"team": "shop", acm.RESOURCE_TAG: "certfleet/test/shop"}


def test_unchanged_inputs_are_no_change(provider, pki):
    props = inputs(pki)
    created = provider.create(props)
    assert provider.diff(created.id, created.outs, props).changes is False


def test_key_type_change_replaces_and_the_new_create_does_not_take_the_old_one(provider, pki):
    old = provider.create(inputs(pki))
    ec = inputs(pki, kind="EC_prime256v1", slot=1)
    assert provider.diff(old.id, old.outs, ec).replaces == ["certificate_pem"]
    new = provider.create(ec)
    assert new.id != old.id and new.outs["key_algorithm"] == "EC_prime256v1"
    provider.delete(old.id, old.outs)  # create-before-delete: the old one goes last
    assert certificates() == [new.id]


def test_region_change_replaces(provider, pki):
    props = inputs(pki)
    assert provider.diff("arn", {**props, "key_algorithm": "RSA_2048"},
                         {**props, "region": "eu-west-1"}).replaces == ["region"]


# --- read ---------------------------------------------------------------------------------------------------

def test_read_keeps_the_key_and_reports_tag_drift(provider, pki):
    created = provider.create(inputs(pki))
    acm_client().add_tags_to_certificate(CertificateArn=created.id, Tags=[{"Key": "team", "Value": "other"}])
    result = provider.read(created.id, created.outs)
    assert result.id == created.id
    assert result.inputs["tags"] == {"team": "other"}
    assert result.inputs["private_key_pem"] == created.outs["private_key_pem"]  # never read back: kept
    assert result.inputs["certificate_pem"] == created.outs["certificate_pem"]


def test_read_shows_an_out_of_band_re_import_as_certificate_drift(provider, pki):
    created = provider.create(inputs(pki))
    other = inputs(pki, slot=1)
    acm_client().import_certificate(CertificateArn=created.id, Certificate=other["certificate_pem"].encode(),
                                    PrivateKey=other["private_key_pem"].encode(),
                                    CertificateChain=other["chain_pem"].encode())
    result = provider.read(created.id, created.outs)
    assert acm_import.fingerprint_of(result.inputs["certificate_pem"]) == result.outs["fingerprint"]
    assert result.outs["fingerprint"] != created.outs["fingerprint"]
    assert provider.diff(created.id, result.outs, inputs(pki)).changes is not False  # `up` re-imports ours


def test_read_of_a_deleted_certificate_removes_it(provider, pki):
    created = provider.create(inputs(pki))
    acm_client().delete_certificate(CertificateArn=created.id)
    assert provider.read(created.id, created.outs).id == ""


# --- delete ------------------------------------------------------------------------------------------------

def test_delete_and_delete_again(provider, pki):
    created = provider.create(inputs(pki))
    provider.delete(created.id, created.outs)
    assert certificates() == []
    provider.delete(created.id, created.outs)  # not found: fine


def test_delete_leaves_a_certificate_that_is_no_longer_ours(provider, pki):
    created = provider.create(inputs(pki))
    acm_client().add_tags_to_certificate(CertificateArn=created.id,
                                         Tags=[{"Key": acm.RESOURCE_TAG, "Value": "someone/else/x"}])
    provider.delete(created.id, created.outs)
    assert certificates() == [created.id]


def in_use_by_a_distribution(arn):
    """A CloudFront distribution serving the certificate (the emulator then refuses to delete it)."""
    cloudfront = boto3.client("cloudfront", region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    return cloudfront, create_distribution(cloudfront, "import-in-use", ["www.example.com"], arn)["Distribution"]


def test_delete_retries_while_a_distribution_uses_it(provider, pki):
    created = provider.create(inputs(pki))
    cloudfront, distribution = in_use_by_a_distribution(created.id)
    assert provider.read(created.id, created.outs).outs["in_use_by"] == [distribution["ARN"]]

    def unbind(config):
        config["Aliases"] = {"Quantity": 0}
        config["ViewerCertificate"] = {"CloudFrontDefaultCertificate": True}

    class ReleasingClock(FakeClock):
        """The distribution lets go of the certificate while the delete waits."""

        @classmethod
        def sleep(cls, seconds):
            update_distribution(cloudfront, distribution["Id"], unbind)
            super().sleep(seconds)

    provider.clock = ReleasingClock
    provider.delete(created.id, created.outs)
    assert certificates() == []


def test_delete_in_use_past_the_timeout_names_the_call_and_code(provider, pki):
    created = provider.create(inputs(pki, delete_in_use_timeout_seconds=30))
    in_use_by_a_distribution(created.id)
    with pytest.raises(CloudError) as err:
        provider.delete(created.id, created.outs)
    assert err.value.call == "acm.DeleteCertificate" and err.value.code == "ResourceInUseException"
    assert "imported certificate 'shop'" in str(err.value)
    assert FakeClock.t >= 30 and certificates() == [created.id]


# --- the key stays secret ------------------------------------------------------------------------------------

def test_an_error_that_echoes_the_key_is_scrubbed_and_not_chained(provider, pki):
    props = inputs(pki)
    inject("ImportCertificate", 400, "ValidationException",
           f"The private key is not valid: {props['private_key_pem']}", times=1)
    with pytest.raises(CloudError) as err:
        provider.create(props)
    assert err.value.code == "ValidationException" and err.value.call == "acm.ImportCertificate"
    assert no_key_text(str(err.value), props["private_key_pem"])
    # Nothing chained that Python (or the engine) would print: the SDK's exception holds the request.
    assert err.value.__cause__ is None and (err.value.__context__ is None or err.value.__suppress_context__)


def test_an_error_holding_key_lines_without_pem_armour_is_scrubbed(provider, pki):
    props = inputs(pki)
    body = "".join(props["private_key_pem"].splitlines()[1:-1])
    inject("ImportCertificate", 400, "ValidationException", f"bad key {body[:200]}", times=1)
    with pytest.raises(CloudError) as err:
        provider.create(props)
    assert body[:64] not in str(err.value) and body[64:128] not in str(err.value)


def test_outputs_and_the_pickled_provider_hold_no_key(provider, pki):
    props = inputs(pki)
    created = provider.create(props)
    assert created.outs["private_key_pem"] == props["private_key_pem"]  # kept for diffs, stored as a secret
    assert acm_import.SECRET_OUTPUTS == ["private_key_pem"]
    assert no_key_text(public_outputs(created.outs), props["private_key_pem"])
    assert no_key_text(public_outputs(provider.read(created.id, created.outs).outs), props["private_key_pem"])
    assert b"PRIVATE KEY" not in pickle.dumps(provider)
