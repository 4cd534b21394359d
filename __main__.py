"""certfleet: load config -> build components -> export outputs. Everything else lives in components/."""

import os

import pulumi

from components.config import load_from_pulumi
from components.errors import ConfigError
from components.fleet import AwsCertificates
from components.fleet import HuaweiCertificates
from components.fleet import AlicloudOrders

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

if fleet.aws is not None:
    aws = AwsCertificates("aws", fleet.aws)
    pulumi.export("aws", aws.exports())

if fleet.huaweicloud is not None:
    huaweicloud = HuaweiCertificates("huaweicloud", fleet.huaweicloud)
    pulumi.export("huaweicloud", {"certificates": huaweicloud.summary()})

if fleet.alicloud is not None:
    alicloud = AlicloudOrders("alicloud", fleet.alicloud)
    pulumi.export("alicloud", {"orders": alicloud.summary()})
