"""Issue 9's whole cycle on the local default (stacks/Pulumi.local.yaml as it is, but for a shorter CAS validation
wait), with the real CLI.

One certificate of each cloud is deployed to two others: the CAS order `cdn` to ACM (serving the distribution `cdn`)
and SCM, the SCM certificate `portal` to ACM (serving `portal`) and CAS, the ACM import `static` (serving `static`)
to SCM and CAS. `up` issues and deploys everything; the emulators' clocks then move 340 days (as `scripts/local.sh clock
advance 340`), into `cdn`'s and `portal`'s 30-day renewal windows and ACM's own 60-day one: preview says what renews
before anything is bought; `up --refresh` buys one successor each (the SCM one with its answer lost on the way),
validates it through DNS and redeploys it in place (the ACM copies keep their ARN, so the distributions do not change;
the CAS and SCM copies are replaced by new ones); the CAS renewal waits for the console's "apply" (`scripts/local.sh
publish` plays it), then the next `up --refresh` finishes it. The edge check passes for every alias at every step,
the predecessors are kept (never revoked), and nothing is bought twice.
"""

from __future__ import annotations

import pytest

from datetime import datetime, timezone

import yaml

from emulators.aws.testing import AwsControl
from emulators.core.testing import ControlClient
from scripts import local_servers
from tests.e2e.test_outputs_schema_e2e import cas_server, local_project  # noqa: F401 (fixtures)

DAY = 86400
ADVANCE_DAYS = 340  # 25 days before a one-year certificate's expiry: inside renewBefore 30, and ACM's 60 days
RENEWING = {"alicloud.orders.cdn", "huaweicloud.certificates.portal"}
# The CAS successor waits for the console's "apply" through both `up`s of step 3, so its validation wait always
# runs to the timeout (the local default's 60 s, twice); every other CAS certificate is issued at the first look.
CAS_VALIDATION_TIMEOUT_SECONDS = 10


def shorten_cas_validation_wait(project) -> None:
    """The stack's copy of stacks/Pulumi.local.yaml with CAS_VALIDATION_TIMEOUT_SECONDS (nothing else changed)."""
    path = project.workdir / "stacks" / "Pulumi.local.yaml"
    stack = yaml.safe_load(path.read_text())
    stack["config"]["certfleet:alicloud"]["dns"]["validationTimeoutSeconds"] = CAS_VALIDATION_TIMEOUT_SECONDS
    path.write_text(yaml.safe_dump(stack))


def moment(text: str) -> datetime:
    """An expiry as the outputs give it (ISO 8601, or SCM's own "2028-11-04 19:27:03.0", UTC)."""
    parsed = datetime.fromisoformat(text.split(".")[0].replace(" ", "T"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def deployments(outputs: dict) -> dict[str, dict]:
    """Every deployed copy of the stack: {"<section>.<kind>.<entry>.<cloud>": outputs}."""
    found = {}
    for source, entry in entries(outputs).items():
        for cloud, copy in (entry.get("deployments") or {}).items():
            found[f"{source}.{cloud}"] = copy
    return found


def entries(outputs: dict) -> dict[str, dict]:
    return {**{f"alicloud.orders.{n}": o for n, o in outputs["alicloud"]["orders"].items()},
            **{f"huaweicloud.certificates.{n}": c for n, c in outputs["huaweicloud"]["certificates"].items()},
            **{f"aws.imports.{n}": i for n, i in outputs["aws"]["imports"].items()}}


def assert_edges_serve_every_alias(outputs: dict) -> None:
    for name, distribution in outputs["aws"]["distributions"].items():
        assert distribution["bound"], (name, distribution["status_message"])
        assert set(distribution["edge"]) == set(distribution["aliases"]), (name, distribution["edge"])
        assert all(check["ok"] for check in distribution["edge"].values()), (name, distribution["edge"])


def paid_at_servers(cas: ControlClient, scm: ControlClient) -> tuple[list[dict], list[dict]]:
    """The CAS orders and the bought (not imported) SCM certificates, as the emulators hold them."""
    cas_state, scm_state = cas.call("GET", "state"), scm.call("GET", "state")
    orders = list(cas_state["orders"].values()) if isinstance(cas_state["orders"], dict) else cas_state["orders"]
    certificates = scm_state["certificates"]
    certificates = list(certificates.values()) if isinstance(certificates, dict) else certificates
    return orders, [c for c in certificates if not c.get("imported") and c.get("source") != "import"]


def ids(orders: list[dict], certificates: list[dict]) -> tuple[set, set]:
    return {o["order_id"] for o in orders}, {c["id"] for c in certificates}


@pytest.mark.long
def test_issue_deploy_renew_redeploy_and_retire_across_clouds(local_project, cas_server, scm_emulator, scm_control,
                                                              aws):
    project = local_project
    shorten_cas_validation_wait(project)
    cas, scm, aws_control = ControlClient(cas_server.url), scm_control, AwsControl(aws)

    # 1. One `up`: every certificate issued (DNS-validated ones through the records certfleet writes) and deployed.
    project.run("up", "--yes", "--skip-preview", stack="local")
    first = project.outputs("local")
    copies = deployments(first)
    assert set(copies) == {"alicloud.orders.cdn.aws", "alicloud.orders.cdn.huaweicloud",
                           "huaweicloud.certificates.portal.aws", "huaweicloud.certificates.portal.alicloud",
                           "aws.imports.static.huaweicloud", "aws.imports.static.alicloud"}, sorted(copies)
    assert all(copy["id"] and copy["fingerprint"] for copy in copies.values()), copies
    assert first["alicloud"]["orders"]["cdn"]["not_after"] and first["huaweicloud"]["certificates"]["portal"]["not_after"]
    assert_edges_serve_every_alias(first)
    orders_before, bought_before = paid_at_servers(cas, scm)

    # 2. Into the renewal windows: the emulators' clocks and certfleet's (scripts/local.sh clock advance).
    for advance in (cas.advance_clock, scm.advance_clock, aws_control.advance_clock):
        advance(ADVANCE_DAYS * DAY)
    project.env[local_servers.CLOCK_VARIABLE] = str(ADVANCE_DAYS * DAY)
    preview = project.run("preview", "--refresh", stack="local")
    for source in RENEWING:
        assert f"renews {source}: expires in" in preview.stdout + preview.stderr, source
    assert ids(*paid_at_servers(cas, scm)) == ids(orders_before, bought_before)  # a preview buys nothing

    # 3. The SCM successor's purchase answer is lost on the way (the run may fail or find it by its tags): the
    # next run buys nothing more.
    scm.add_fault("SubscribeCertificate", drop_response=True, times=1)
    project.run("up", "--yes", "--skip-preview", "--refresh", stack="local", check=False)
    project.run("up", "--yes", "--skip-preview", "--refresh", stack="local")
    renewing = project.outputs("local")
    portal = renewing["huaweicloud"]["certificates"]["portal"]
    assert portal["renewal"]["generation"] == 1 and portal["certificate_id"] != \
        first["huaweicloud"]["certificates"]["portal"]["certificate_id"]
    # The CAS successor is bought (RenewCertificateOrderForPackageRequest) and waits for the console's "apply".
    assert_edges_serve_every_alias(renewing)  # the SCM successor served, the CAS predecessor still serving
    cdn = renewing["alicloud"]["orders"]["cdn"]
    assert cdn["renewal"]["generation"] == 1 and cdn["state"] == "payed", cdn["status_message"]
    published = local_servers.publish_challenges(renewing, {"cas": {"url": cas_server.url},
                                                            "scm": {"url": scm_emulator.url}})
    assert "CAS renewal cdn (applied for)" in published, published

    # 4. The next `up --refresh` validates the CAS successor through DNS and redeploys it.
    project.run("up", "--yes", "--skip-preview", "--refresh", stack="local")
    renewed = project.outputs("local")
    for source, entry in entries(renewed).items():
        before = entries(first)[source]
        if source in RENEWING:
            assert entry["renewal"]["generation"] == 1 and moment(entry["not_after"]) > moment(before["not_after"]), source
        for cloud, copy in (entry.get("deployments") or {}).items():
            old = before["deployments"][cloud]
            if source in RENEWING:
                assert copy["fingerprint"] != old["fingerprint"] and moment(copy["not_after"]) == moment(entry["not_after"]), \
                    (source, cloud, copy)
                if cloud == "aws":  # re-imported onto the same ARN: CloudFront needs no change
                    assert copy["id"] == old["id"], (source, copy)
            else:
                assert copy == old, (source, cloud)
    for name in ("cdn", "portal"):
        assert renewed["aws"]["distributions"][name]["certificate_arn"] == \
            first["aws"]["distributions"][name]["certificate_arn"]
    assert_edges_serve_every_alias(renewed)
    # ACM renewed its own in-use certificates itself (same ARN, later expiry).
    for name in ("shop", "wildcard"):
        acm = renewed["aws"]["certificates"][name]
        assert acm["arn"] == first["aws"]["certificates"][name]["arn"] and acm["renewal_status"] == "SUCCESS", acm

    # 5. Exactly one successor each; the predecessors are kept, not revoked.
    orders_after, bought_after = paid_at_servers(cas, scm)
    new_orders, new_bought = (ids(orders_after, bought_after)[i] - ids(orders_before, bought_before)[i] for i in (0, 1))
    assert len(new_orders) == 1 and len(new_bought) == 1, (new_orders, new_bought)
    predecessor_order = first["alicloud"]["orders"]["cdn"]["order_id"]
    assert any(str(o.get("order_id")) == predecessor_order and o.get("state") == "certificate" for o in orders_after)

    # 6. Nothing left to do.
    project.run("preview", "--expect-no-changes", stack="local")
