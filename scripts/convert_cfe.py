"""Convert a CloudFront Extensions "import-create-ssl" request body (seed 000) into certfleet stack config.

    python -m scripts.convert_cfe REQUEST.json [--stack NAME] [--template-map OLD=NEW ...]
                                  [--write-keys DIR] [--output FILE] [--adopt --job-id ID]

stdout: the `config:` YAML for stacks/Pulumi.<stack>.yaml (or nothing, with --output FILE, which is written
and never overwritten). stderr: one line per rule the original never checked, naming the request path
(`cnameList[1].sanList[2]: ...`), then the `pulumi config set --secret` command for each private key: keys are
never in the YAML. With --write-keys DIR each key is written to DIR/<entry>.key.pem (mode 0600) and the
command reads that file; without it the command names the file to write the request's PrivateKeyPem to.

--template-map OLD=NEW  clone NEW where the request says existing_cf_info.distribution_id OLD (another account's
                        template, or the local emulator's).
--adopt --job-id ID     find what that job already made (ACM certificates and CloudFront distributions tagged
                        job_token=ID, with the AWS credentials and AWS_ENDPOINT_URL of the environment) and give
                        each entry `adopt: <ARN or id>` for the object with its names; each object that matches
                        no entry, or more than one, is reported.

Exit 0 when a config was produced (findings or not), 1 when nothing sensible could be (no entry at all, a body
that is not JSON), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import yaml

from scripts import cfe_request
from scripts.cfe_request import Conversion

NAMESPACE = "certfleet"


# --- adopt: match a job's objects to the entries ------------------------------------------------------------

def adopt_job(conversion: Conversion, job_id: str) -> None:
    """Give each entry `adopt:` for the job object that has exactly its names (certificates: ACM names; imports:
    an IMPORTED certificate with the PEM's names; distributions: the aliases it should serve, else the
    certificate it is bound to). Whatever matches nothing, or several, is reported and left alone."""
    from scripts import aws_inventory
    certs, dists = aws_inventory.job_objects(job_id)
    aws = conversion.aws
    if not certs and not dists:
        conversion.report("--job-id", f"no ACM certificate or CloudFront distribution is tagged "
                                      f"{aws_inventory.JOB_TAG}={job_id} for these credentials; nothing adopted")
        return
    used: set[str] = set()
    reused = _reused(conversion)
    for section, wanted_type in (("certificates", "AMAZON_ISSUED"), ("imports", "IMPORTED")):
        for name, entry in (aws.get(section) or {}).items():
            if name in reused:
                continue   # served by a wildcard entry's certificate: nothing of its own to adopt
            found = [c for c in certs if c.type == wanted_type and c.names == conversion.entry_names[name]]
            arn = _one(conversion, section, name, [c.arn for c in found])
            if arn:
                entry["adopt"] = arn
                used.add(arn)
    entry_arn = {n: e["adopt"] for s in ("certificates", "imports") for n, e in (aws.get(s) or {}).items()
                 if "adopt" in e}
    for name, entry in (aws.get("distributions") or {}).items():
        aliases = tuple(sorted(entry.get("aliases") or conversion.entry_names.get(entry["certificate"], ())))
        found = [d for d in dists if d.aliases == aliases]
        if not found and entry["certificate"] in entry_arn:
            found = [d for d in dists if d.certificate_arn == entry_arn[entry["certificate"]]]
        distribution_id = _one(conversion, "distributions", name, [d.id for d in found])
        if distribution_id:
            entry["adopt"] = distribution_id
            used.add(distribution_id)
    for c in certs:
        if c.arn not in used:
            conversion.report("--job-id", f"{c.arn} ({', '.join(c.names) or 'no names'}, {c.type}, {c.status}) "
                                          f"matches no entry: not adopted")
    for d in dists:
        if d.id not in used:
            conversion.report("--job-id", f"distribution {d.id} (aliases {', '.join(d.aliases) or 'none'}) matches "
                                          f"no entry: not adopted")


def _reused(conversion: Conversion) -> set[str]:
    """The certificates entries aggregate leaves unrequested (certfleet's rule, components/aws/aggregate.py)."""
    if not conversion.aws.get("aggregate"):
        return set()
    from components.aws import aggregate
    kinds = {**{n: aggregate.REQUESTED for n in conversion.aws.get("certificates") or {}},
             **{n: aggregate.IMPORTED for n in conversion.aws.get("imports") or {}}}
    return {r.entry for r in aggregate.reuses(aggregate.CertificateEntry(n, k, conversion.entry_names[n])
                                              for n, k in kinds.items())}


def _one(conversion: Conversion, section: str, name: str, found: list[str]) -> str | None:
    path = conversion.sources.get(name, name)
    if len(found) == 1:
        return found[0]
    if found:
        conversion.report(path, f"{section}.{name}: several objects of the job match ({', '.join(found)}); "
                                f"none adopted, add `adopt:` by hand")
    else:
        conversion.report(path, f"{section}.{name}: nothing of the job matches; it will be created")
    return None


# --- output -------------------------------------------------------------------------------------------------

class _Literal(str):
    """Multi-line text written as a YAML block (`|`), as PEMs are in docs/config-aws.md."""


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Literal, _literal)


def _blocks(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _blocks(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blocks(v) for v in value]
    if isinstance(value, str) and "\n" in value:
        return _Literal(value)
    return value


def dump_yaml(document: dict[str, Any]) -> str:
    """YAML as a stack file has it: keys in the given order, PEMs as `|` blocks."""
    return yaml.dump(_blocks(document), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)


def to_yaml(aws: dict[str, Any]) -> str:
    return dump_yaml({"config": {f"{NAMESPACE}:aws": aws}})


def key_commands(conversion: Conversion, stack: str | None, keys_dir: Path | None) -> list[str]:
    """One `pulumi config set --secret` per private key; with keys_dir the keys are written there (0600)."""
    commands = []
    for name, key in conversion.private_keys.items():
        file = (keys_dir / f"{name}.key.pem") if keys_dir else Path(f"{name}.key.pem")
        if keys_dir:
            _write_private(file, key)
        stack_flag = f" --stack {stack}" if stack else ""
        source = "" if keys_dir else f"   # {conversion.sources.get(name, name)}.PrivateKeyPem"
        commands.append(f"pulumi config set{stack_flag} --secret --path "
                        f"'{NAMESPACE}:aws.imports.{name}.privateKey' < {file}{source}")
    return commands


def _write_private(file: Path, text: str) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    os.chmod(file, 0o600)   # an existing file keeps its mode through O_CREAT


def run(argv: list[str], out: TextIO, err: TextIO) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.convert_cfe", description=__doc__.split("\n\n")[0])
    parser.add_argument("request", help="the request body (JSON), '-' for stdin")
    parser.add_argument("--stack", help="the stack the config is for (named in the commands printed)")
    parser.add_argument("--template-map", action="append", default=[], metavar="OLD=NEW")
    parser.add_argument("--write-keys", type=Path, metavar="DIR", help="write each private key to DIR (0600)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the YAML here (never overwrites)")
    parser.add_argument("--adopt", action="store_true", help="adopt what the job (--job-id) already made")
    parser.add_argument("--job-id", help="the CloudFront Extensions job id (its job_token tag)")
    args = parser.parse_args(argv)
    if args.adopt and not args.job_id:
        parser.error("--adopt needs --job-id (the job id CloudFront Extensions answered with)")
    template_map = {}
    for pair in args.template_map:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            parser.error(f"--template-map takes OLD=NEW, got {pair!r}")
        template_map[old] = new
    if args.output and args.output.exists():
        parser.error(f"{args.output} exists; certfleet does not overwrite a stack file: merge the printed YAML")

    text = sys.stdin.read() if args.request == "-" else Path(args.request).read_text()
    try:
        body, notes = cfe_request.parse_request(text)
    except ValueError as e:   # json.JSONDecodeError is a ValueError
        print(f"{args.request}: not a request body: {e}", file=err)
        return 1
    conversion = cfe_request.convert(body, template_map)
    conversion.findings[:0] = notes
    unknown = sorted(set(template_map) - {str((e.get("existing_cf_info") or {}).get("distribution_id", "")).strip()
                                          for key in ("cnameList", "pemList") for e in (body.get(key) or [])
                                          if isinstance(e, dict)})
    for old in unknown:
        conversion.report("--template-map", f"{old} is not a distribution_id of the request; unused")
    if args.adopt:
        adopt_job(conversion, args.job_id)

    produced = bool(conversion.aws.get("certificates") or conversion.aws.get("imports"))
    for finding in conversion.findings:
        print(finding, file=err)
    if not produced:
        print("nothing to convert: no usable cnameList or pemList entry (see above)", file=err)
        return 1
    document = to_yaml(conversion.aws)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(document)
    else:
        out.write(document)
    commands = key_commands(conversion, args.stack, args.write_keys)
    if commands:
        where = f"the files in {args.write_keys}" if args.write_keys else \
            "files holding each pemList[i].PrivateKeyPem (write them yourself; the keys are not in the YAML)"
        print(f"private keys: set each as a Pulumi secret from {where}:", file=err)
        for command in commands:
            print(f"  {command}", file=err)
    return 0


def main() -> None:
    sys.exit(run(sys.argv[1:], sys.stdout, sys.stderr))


if __name__ == "__main__":
    main()
