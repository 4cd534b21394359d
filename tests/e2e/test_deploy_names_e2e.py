"""A distribution served by a deployed copy whose source changes its names, end to end (the real `pulumi` CLI against
the AWS, CAS and SCM emulators): while the successor is pending every `up` succeeds and the distribution keeps
serving the old aliases with the old certificate ("waiting for certificate"); once the successor is issued and
re-imported into the same ACM ARN, the distribution binds the new aliases and its edge check sees the new
certificate (components/aws/cloudfront.py: certificate_fingerprint, NOT_COVERING)."""

from __future__ import annotations

from scripts.report import edge_lines
from tests.e2e.conftest import project  # noqa: F401 (fixture)
from tests.e2e.test_cloudfront_e2e import certificate_of, live_distributions, set_secret_key
from tests.e2e.test_deploy_e2e import clouds, publish, start_stack  # noqa: F401 (fixture)


def test_new_names_wait_for_the_successor_then_bind_and_check_the_edge_again(clouds):  # noqa: F811
    project, cas, scm = clouds
    _, config, static_key = start_stack(project)
    project.run("up", "--yes", "--skip-preview")
    publish(project, cas, scm)
    project.run("up", "--yes", "--skip-preview", "--refresh")
    before = project.outputs()["aws"]["distributions"]["portal"]
    copy_arn = before["certificate_arn"]
    assert before["bound"] and before["aliases"] == ["portal.example.com"] and before["certificate_fingerprint"]

    # The source names portal2 now: a successor is bought; its ACM copy still holds the portal certificate.
    config["huaweicloud"]["certificates"]["portal"]["domains"] = ["portal2.example.com"]
    project.write_stack("e2e", config)
    set_secret_key(project, static_key)
    project.run("preview")
    project.run("up", "--yes", "--skip-preview")  # failed before: InvalidViewerCertificate (does not cover portal2)
    waiting = project.outputs()["aws"]["distributions"]["portal"]
    assert waiting["stage"] == "waiting for certificate", waiting
    [(dist_id, live)] = live_distributions().items()
    assert sorted(live["Aliases"]["Items"]) == ["portal.example.com"] and certificate_of(live) == copy_arn

    # The successor is issued: the copy is re-imported in place, the distribution binds portal2 and checks it.
    publish(project, cas, scm)
    project.run("up", "--yes", "--skip-preview", "--refresh")
    bound = project.outputs()["aws"]["distributions"]["portal"]
    live = live_distributions()[dist_id]
    assert sorted(live["Aliases"]["Items"]) == ["portal2.example.com"] and certificate_of(live) == copy_arn
    assert bound["stage"] == "deployed" and bound["certificate_fingerprint"] != before["certificate_fingerprint"]
    deployed = project.outputs()["huaweicloud"]["certificates"]["portal"]["deployments"]["aws"]
    assert bound["certificate_fingerprint"] == deployed["fingerprint"]
    if bound["edge"]:  # the edge check ran: it saw the successor, not the certificate before it
        assert {r["fingerprint"] for r in bound["edge"].values()} == {deployed["fingerprint"]}
        assert not any("NOT CHECKED" in line for line in edge_lines(bound))
    project.run("preview", "--expect-no-changes")
