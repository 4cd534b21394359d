"""certfleet: load config -> build components -> export outputs. Everything else lives in components/."""

import os

import pulumi

from components import output_wait, sdk_debug_log, source_positions
from components.config import load_from_pulumi
from components.errors import ConfigError
from components.fleet import AwsCertificates
from components.fleet import HuaweiCertificates
from components.fleet import AlicloudOrders
from components.renewal import PreviousOutputsUnreadable, previous_outputs_for
from components.deploy.fleet import Deployments, sources, with_deployments

source_positions.install()  # the state records the project's frames only, not the interpreter's
sdk_debug_log.install()  # the SDK's debug messages cost a blocking engine call each; CERTFLEET_SDK_DEBUG=1 keeps them
if not output_wait.install():  # the end-of-program wait for outputs in linear time, not quadratic
    pulumi.log.warn("certfleet: this Pulumi SDK is not the one components/output_wait.py was written against; the "
                    "program waits for its outputs the SDK's way (slower for large fleets)")

try:
    fleet = load_from_pulumi()
except ConfigError as err:
    # RunError: the CLI prints the message without a Python traceback, and nothing is created.
    raise pulumi.RunError(str(err)) from None

for warning in fleet.warnings:
    pulumi.log.warn(warning)

if os.environ.get("PULUMI_SKIP_CHECKPOINTS", "").lower() in ("1", "true") and (fleet.alicloud or fleet.huaweicloud):
    # The purchase journal (components/journal.py) must be in the saved state before a paid create runs.
    raise pulumi.RunError("PULUMI_SKIP_CHECKPOINTS is set, but this stack buys certificates (certfleet:alicloud, "
                          "certfleet:huaweicloud): without a checkpoint after each step, a run killed mid-way "
                          "cannot tell the next one which paid orders were in flight. Unset it for this stack")

# The outputs follow schema/outputs.v1.schema.json (docs/outputs.md); pipelines gate on them.
OUTPUTS_SCHEMA_VERSION = 1
pulumi.export("schemaVersion", OUTPUTS_SCHEMA_VERSION)

# The sections that can be deployed elsewhere come first: the deployment targets (components/deploy/) take their
# certificates, and a distribution may be served by a deployed ACM copy. (The order of declaration changes no URN.)
# Renewal before expiry decides from the stack's own previous outputs, read once (components/renewal.py).
try:
    previous = previous_outputs_for({"alicloud": fleet.alicloud.orders if fleet.alicloud else (),
                                     "huaweicloud": fleet.huaweicloud.certificates if fleet.huaweicloud else ()})
except PreviousOutputsUnreadable as err:
    raise pulumi.RunError(str(err)) from None
huaweicloud = HuaweiCertificates("huaweicloud", fleet.huaweicloud, previous=previous) \
    if fleet.huaweicloud is not None else None
alicloud = AlicloudOrders("alicloud", fleet.alicloud, previous=previous) if fleet.alicloud is not None else None
deploy_sources = sources(fleet, alicloud, huaweicloud)
deploy = Deployments("deploy", fleet, deploy_sources) if deploy_sources else None

if fleet.aws is not None:
    aws = AwsCertificates("aws", fleet.aws, deployed=deploy.acm() if deploy else None)
    aws_exports = aws.exports()
    aws_exports["imports"] = with_deployments(aws_exports["imports"], "aws.imports", deploy)
    pulumi.export("aws", aws_exports)

if huaweicloud is not None:
    pulumi.export("huaweicloud", {"certificates": with_deployments(huaweicloud.summary(), "huaweicloud.certificates",
                                                                    deploy)})

if alicloud is not None:
    pulumi.export("alicloud", {"orders": with_deployments(alicloud.summary(), "alicloud.orders", deploy)})
