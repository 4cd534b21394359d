"""The crash-and-fault campaign at CI size: `python -m scripts.campaign --short` on its own local servers
(docs/campaign.md), once per CAS listing shape (`--cas-listing`: ListUserCertificateOrder shows an order's primary
name only, the emulator's default, or every name): a kill between the call and the state write never buys twice
whatever the listing shows (about a minute each; the first also kills `pulumi up` at every step of an SCM v2
purchase, about a minute more; the second kills it over a renewal of the CAS and SCM entries, about a minute
more). A failure here is a money-safety defect: read the printed block (seed, the runs that
bought each duplicate or orphan, and the faults that hit them) and rerun with `--seed N --keep DIR`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scripts.campaign import MARKER, _marked_pids
from tests.conftest import ROOT

CAMPAIGN_TIMEOUT_SECONDS = 600


@pytest.mark.long
@pytest.mark.parametrize("cas_listing", ["primary", "all"])
def test_short_campaign_buys_every_entry_once_and_converges(tmp_path, pulumi_bin, cas_listing):
    result_file = tmp_path / "campaign.json"
    v2_steps = cas_listing == "primary"  # the SCM v2 step kills once: they do not depend on the CAS listing
    renewal = not v2_steps  # the renewal phase once, in the other variant (about a minute each)
    completed = subprocess.run(
        [sys.executable, "-m", "scripts.campaign", "--short", "--json", str(result_file),
         "--pulumi-bin", pulumi_bin, "--cas-listing", cas_listing, "--v2-steps" if v2_steps else "--no-v2-steps",
         "--renewal" if renewal else "--no-renewal"],
        cwd=ROOT, capture_output=True, text=True, timeout=CAMPAIGN_TIMEOUT_SECONDS)
    output = f"{completed.stdout}\n{completed.stderr}"
    assert result_file.exists(), output
    result = json.loads(result_file.read_text())
    assert "error" not in result, output
    assert result["settings"]["cas_listing"] == cas_listing, output

    # The campaign really ran: it killed `pulumi up` mid-run and injected faults.
    assert len(result["kills"]) == 4, output
    assert any(kill["killed"] for kill in result["kills"]), output
    assert any(sum(counts.values()) for counts in result["faults"].values()), output

    # Two `pulumi up` at once: the second fails on the stack lock and buys nothing.
    concurrent = result["concurrent"]
    assert concurrent["second_failed_on_lock"], output
    assert concurrent["bought_by_second"] == 0, output
    assert set(concurrent["per_entry"].values()) == {1}, output

    # Money and secrets: one paid object per entry, nothing outside the state, no plaintext key or credential.
    assert set(result["per_entry"].values()) == {1}, output
    assert {"cas/gen", "cas/docs"} <= set(result["per_entry"]), output  # a CSR order and a multi-name one
    assert "scm/legacy" in result["per_entry"], output  # bought through the SCM v2 purchase (no tags with it)
    if v2_steps:  # killed at every step of a v2 purchase: each time exactly one certificate afterwards
        steps = result["v2_steps"]
        assert [s["operation"] for s in steps] == ["PurchaseCertificateV2", "BatchCreateOrDeleteTags",
                                                   "ApplyCertificate", "ApplyCertificate"], output
        assert all(s["killed"] and s["up_exit"] == 0 and s["at_server"] == 1 for s in steps), output
        # untagged (the answer or the tag call lost): taken after the look, recorded adopted; tagged: proven
        assert [s["adopted"] for s in steps] == [True, True, False, False], output
    if renewal:  # killed over a renewal: one successor per renewing entry, predecessor kept, generation 1
        renewed = result["renewal"]
        assert {"cas/gen", "scm/portal", "scm/api", "scm/legacy"} <= set(renewed["successors"]), output
        assert set(renewed["successors"].values()) == {1}, output
        assert all(renewed["predecessors_kept"].values()), output
        assert set(renewed["generations"].values()) == {1}, output
        assert renewed["converged"] and len(renewed["kills"]) == 2, output
        assert renewed["kills"][0]["killed"], output  # the first kill waits for a successor to be bought
    else:
        assert result["renewal"] == {}, output
    assert result["duplicates"] == 0, output
    assert result["orphans"] == 0, output
    assert result["converged"] and result["runs_to_converge"] <= 3, output
    assert result["pending_operations_left"] == 0, output
    assert result["plaintext"] == 0, output
    assert completed.returncode == 0, output
    assert completed.stdout.strip().splitlines()[-1] == "duplicates 0, orphans 0"

    # Nothing the campaign started is left running.
    assert _marked_pids(f"{MARKER}={result['campaign_id']}") == []
