"""Template distributions and their versions: the clone source of the stack's distributions (seed 000's
existing_cf_info.distribution_id and config_version_id). The model is explained for users in
docs/template-versions.md; in short:

- A DistributionTemplate resource holds, in Pulumi state only, a snapshot of one template distribution's
  DistributionConfig. Nothing is created in the cloud; delete forgets the snapshot.
- Pinned (`templateVersion: "3"`): the snapshot is frozen. refresh keeps it, so later edits to the template
  never silently change the clones. Without a version store the version id is a label this stack gives to
  the snapshot its first create took of the live template: bumping the label takes a new snapshot, and two
  stacks pinning "3" may hold different snapshots. With a CloudFront Extensions store (`versionStore`), the
  snapshot is that store's version: its DynamoDB Version table row (PK distributionId S, SK versionId N; the
  row names the S3 object) and the S3 JSON object holding the DistributionConfig, exactly as CFE's
  cf_config_version_exporter writes them (reference/aws-cloudfront-extensions.md §4.5).
- Unpinned: refresh re-reads the live template, so a template edit shows as a change of the clones on the
  next `pulumi up --refresh` instead of going unnoticed.
- A changed template id, version or store replaces the resource (a new snapshot), which preview shows.
- check() looks the template or version up at preview, before anything is created (CFE checked after it had
  created the distributions, §8 defect 15), and fails naming it; without access to the account (no
  credentials or endpoint, AccessDenied) it skips the look, so previews of pull requests still run.

The snapshot is the template's config as it is, its own Aliases and ViewerCertificate included: the
distribution provider replaces those when it clones. Numbers come back from Pulumi state as floats (1.0);
the distribution provider turns them back into integers before sending a config.

IAM actions: cloudfront:GetDistributionConfig; with a version store dynamodb:GetItem and s3:GetObject.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

import botocore.exceptions
import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from components.aws.config_distributions import TEMPLATE_VERSION_PATTERN
from components.aws.clients import TransportErrors, client, cloud_error, error_code
from components.aws.cname_check import no_account_access
from components.dynamic import CertfleetProvider, CertfleetResource, changed_keys, is_unknown, tell_user
from components.errors import CertfleetError

CLOUDFRONT_REGION = "us-east-1"   # CloudFront is global; its API lives in us-east-1
DEFAULT_STORE_REGION = "us-east-1"
REPLACE_KEYS = ("template_id", "version", "store")   # every input: a change is a new snapshot
OUTPUT_KEYS = ("config", "taken_at", "source")
# CFE's versionId, a DynamoDB number counted from 1 sent as text (the config's rule, used again here).
VERSION_PATTERN = TEMPLATE_VERSION_PATTERN
SOURCE_GONE = ("NoSuchDistribution",)                       # GetDistributionConfig
TABLE_GONE = ("ResourceNotFoundException",)                 # DynamoDB GetItem on a missing table
OBJECT_GONE = ("NoSuchKey", "NoSuchBucket", "404")          # S3 GetObject


class MissingSource(CertfleetError):
    """The template, its version row or the version's S3 object is not there. `field`: the input to blame."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Snapshot:
    config: dict[str, Any]   # DistributionConfig as get_distribution_config returns it
    source: str              # where it came from, for people


def describe(template_id: str, version: str | None) -> str:
    return f"template {template_id}" + (f" version {version}" if version else " (live, unpinned)")


def resource_id(template_id: str, version: str | None) -> str:
    return f"{template_id}:{version or 'live'}"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def plain_json(value: Any) -> Any:
    """What Pulumi state can hold (the SDK's answers could carry datetimes)."""
    return json.loads(json.dumps(value, default=str))


# --- reading the sources ------------------------------------------------------------------------------------

def live_config(template_id: str) -> dict[str, Any]:
    """The template's DistributionConfig now (GetDistributionConfig)."""
    try:
        answer = client("cloudfront", CLOUDFRONT_REGION).get_distribution_config(Id=template_id)
    except botocore.exceptions.ClientError as err:
        if error_code(err) in SOURCE_GONE:
            raise MissingSource("template_id", f"template distribution {template_id} does not exist in this "
                                               f"account (CloudFront: {error_code(err)})") from err
        raise
    return plain_json(answer["DistributionConfig"])


def _text(item: Mapping[str, Any], key: str) -> str:
    return (item.get(key) or {}).get("S", "")


def version_row(store: Mapping[str, str], template_id: str, version: str) -> dict[str, str]:
    """The CFE Version table's row of (template, version): its text attributes (s3_bucket, s3_key, ...)."""
    where = f"CloudFront Extensions version table {store['table']} ({store['region']})"
    try:
        item = client("dynamodb", store["region"]).get_item(
            TableName=store["table"],
            Key={"distributionId": {"S": template_id}, "versionId": {"N": version}}).get("Item")
    except botocore.exceptions.ClientError as err:
        if error_code(err) in TABLE_GONE:
            raise MissingSource("store", f"{where} does not exist (DynamoDB: {error_code(err)}); "
                                         f"needed for template {template_id} version {version}") from err
        raise
    if not item:
        raise MissingSource("version", f"template {template_id} has no version {version} in {where}")
    return {key: _text(item, key) for key in ("s3_bucket", "s3_key", "config_link", "dateTime", "note")}


def _object_location(row: Mapping[str, str]) -> tuple[str, str]:
    if row["s3_bucket"] and row["s3_key"]:
        return row["s3_bucket"], row["s3_key"]
    bucket, _, key = row["config_link"].removeprefix("s3://").partition("/")  # older rows: the link only
    return bucket, key


def stored_config(store: Mapping[str, str], template_id: str, version: str) -> Snapshot:
    """A CFE version: its row, then the S3 JSON object the row names (a DistributionConfig)."""
    row = version_row(store, template_id, version)
    bucket, key = _object_location(row)
    uri = f"s3://{bucket}/{key}"
    what = f"template {template_id} version {version}"
    if not bucket or not key:
        raise MissingSource("version", f"the version row of {what} names no S3 object")
    try:
        body = client("s3", store["region"]).get_object(Bucket=bucket, Key=key)["Body"].read()
    except botocore.exceptions.ClientError as err:
        if error_code(err) in OBJECT_GONE:
            raise MissingSource("version", f"{uri}, the config of {what}, does not exist "
                                           f"(S3: {error_code(err)})") from err
        raise
    try:
        config = json.loads(body)
    except ValueError:
        config = None
    if isinstance(config, dict) and isinstance(config.get("DistributionConfig"), dict):
        config = config["DistributionConfig"]  # a whole GetDistributionConfig answer: take its config
    if not isinstance(config, dict) or "Origins" not in config or "DefaultCacheBehavior" not in config:
        raise MissingSource("version", f"{uri}, the config of {what}, is not a CloudFront DistributionConfig")
    exported = f", exported {row['dateTime']}" if row["dateTime"] else ""
    return Snapshot(plain_json(config), f"{uri} (CFE version {version}{exported})")


def service_of(props: Mapping[str, Any]) -> str:
    """Where the snapshot comes from, for error texts."""
    return "dynamodb/s3" if props.get("version") and props.get("store") else "cloudfront"


def take_snapshot(props: Mapping[str, Any], taken_at: str) -> Snapshot:
    template_id, version, store = props["template_id"], props.get("version"), props.get("store")
    if version and store:
        return stored_config(store, template_id, version)
    return Snapshot(live_config(template_id), f"live template {template_id} at {taken_at}")


# --- checks (pure first, then the cloud) ---------------------------------------------------------------------

def input_problems(news: Mapping[str, Any]) -> list[CheckFailure]:
    """The config rules again, for resources built without components/config.py."""
    failures = []
    template_id, version, store = news.get("template_id"), news.get("version"), news.get("store")
    if not is_unknown(template_id) and (not isinstance(template_id, str) or not template_id.strip()):
        failures.append(CheckFailure("template_id", "must be a CloudFront distribution id such as E195R1W5GIVPF5"))
    if version is not None and not is_unknown(version) and (
            not isinstance(version, str) or not VERSION_PATTERN.fullmatch(version)):
        failures.append(CheckFailure("version", f"must be a config version id, a whole number from 1 as text "
                                                f"such as \"3\" (None: follow the live template), got {version!r}"))
    if store is not None and not is_unknown(store) and (
            not isinstance(store, Mapping) or not isinstance(store.get("table"), str) or not store["table"]
            or not isinstance(store.get("region", DEFAULT_STORE_REGION), str)):
        failures.append(CheckFailure("store", "must be None or {table: <DynamoDB table name>, region: <region>}"))
    return failures


def store_input(store: Any) -> dict[str, str] | None:
    """None, a mapping or a VersionStoreSpec (components/aws/config_distributions.py) as the provider's input."""
    if store is None:
        return None
    if isinstance(store, Mapping):
        return {"table": store.get("table"), "region": store.get("region") or DEFAULT_STORE_REGION}
    return {"table": store.table, "region": store.region or DEFAULT_STORE_REGION}


def snapshot_kept(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """A pinned snapshot already in state, asked for again: no need to look at the cloud."""
    return bool(news.get("version")) and bool(olds) and not changed_keys(olds, news, REPLACE_KEYS)


def source_problems(news: Mapping[str, Any]) -> list[CheckFailure]:
    """Is the template (or its version) there? [] also when this process cannot look (PR previews)."""
    try:
        take_snapshot(news, "preview")
    except MissingSource as missing:
        return [CheckFailure(missing.field, str(missing))]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as err:
        if no_account_access(err):
            return []
        if isinstance(err, botocore.exceptions.ClientError):
            raise cloud_error(service_of(news), "check", describe(news["template_id"], news.get("version")),
                              err) from err
        raise
    return []


# --- the provider -------------------------------------------------------------------------------------------

class DistributionTemplateProvider(CertfleetProvider):
    """A snapshot of a template's DistributionConfig, kept in state. Holds no state itself."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        if isinstance(news.get("store"), Mapping):
            news = {**news, "store": store_input(news["store"])}  # the region's default filled in
        failures = input_problems(news)
        if failures or any(is_unknown(news.get(k)) for k in REPLACE_KEYS) or snapshot_kept(olds, news):
            return CheckResult(news, failures)
        return CheckResult(news, source_problems(news))

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = changed_keys(olds, news, REPLACE_KEYS)
        if not replaces:
            return DiffResult(changes=False)
        # changes=None lets the engine compute (and show) which input changed; it keeps our replaces.
        return DiffResult(changes=None, replaces=replaces, delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        taken_at = now_iso()
        what = describe(props["template_id"], props.get("version"))
        with TransportErrors(service_of(props), "create: taking the snapshot", what):
            snapshot = self._snapshot(props, taken_at)
        return CreateResult(resource_id(props["template_id"], props.get("version")),
                            {**self._inputs(props), "config": snapshot.config, "taken_at": taken_at,
                             "source": snapshot.source})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if props.get("version") or not props.get("config"):
            return ReadResult(id_, props, self._inputs(props))  # pinned: the snapshot is frozen
        what = describe(props["template_id"], None)
        with TransportErrors("cloudfront", "refresh: reading the live template", what):
            try:
                config = live_config(props["template_id"])
            except MissingSource as missing:
                tell_user(f"{missing}: keeping the last snapshot ({props.get('source')}); the next preview fails "
                          f"until the stack's template is changed")
                return ReadResult(id_, props, self._inputs(props))
            except botocore.exceptions.ClientError as err:
                raise cloud_error("cloudfront", "GetDistributionConfig", what, err) from err
        if config == props["config"]:
            return ReadResult(id_, props, self._inputs(props))  # unchanged: keep when it was taken
        taken_at = now_iso()
        return ReadResult(id_, {**props, "config": config, "taken_at": taken_at,
                                "source": f"live template {props['template_id']} at {taken_at}"},
                          self._inputs(props))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Every input replaces (diff), so an update changes nothing but must not drop the outputs.
        return UpdateResult({**olds, **self._inputs(news)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        return None  # state only: nothing in the cloud belongs to this resource

    # --- steps ---

    @staticmethod
    def _inputs(props: Mapping[str, Any]) -> dict[str, Any]:
        return {key: props.get(key) for key in REPLACE_KEYS}

    @staticmethod
    def _snapshot(props: Mapping[str, Any], taken_at: str) -> Snapshot:
        try:
            return take_snapshot(props, taken_at)
        except botocore.exceptions.ClientError as err:
            raise cloud_error(service_of(props), "snapshot", describe(props["template_id"], props.get("version")), err) from err


# --- the resource ---------------------------------------------------------------------------------------------

class DistributionTemplate(CertfleetResource, module="aws", name="DistributionTemplate"):
    """A snapshot of a template distribution's config. Type token: pulumi-python:dynamic/aws:DistributionTemplate."""

    config: pulumi.Output[dict]
    taken_at: pulumi.Output[str]
    source: pulumi.Output[str]

    def __init__(self, name: str, template_id: str, version: str | None, store: Any,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        # The template's config may hold origin secrets (CustomHeaders that lock an origin to CloudFront).
        secret = pulumi.ResourceOptions(additional_secret_outputs=["config"])
        super().__init__(DistributionTemplateProvider(), name,
                         {**template_inputs(template_id, version, store), **dict.fromkeys(OUTPUT_KEYS)},
                         pulumi.ResourceOptions.merge(opts, secret))


def template_inputs(template_id: str, version: str | None, store: Any) -> dict[str, Any]:
    """The provider's inputs. `store`: None, {"table", "region"} or a VersionStoreSpec."""
    return {"template_id": template_id, "version": version, "store": store_input(store)}


def template_resource_name(template_id: str, version: str | None) -> str:
    """One DistributionTemplate per (template, version) the stack uses; a name that says which."""
    return f"template-{template_id}-{f'v{version}' if version else 'live'}"
