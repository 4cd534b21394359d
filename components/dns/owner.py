"""The stack's identity in DNS: what its owner records say (`certfleet-owner=<project>/<stack>/<random>`).

`<project>/<stack>` alone would not do: every clone of certfleet is project `certfleet`, so two teams with a
stack named `prod` sharing a zone would pass each other's ownership check, and one team's destroy would delete
the CNAME the other's certificate renews through. A random part, made once by the create of this resource and
kept in the stack's state, tells them apart. Nothing in the cloud is this resource's: delete does nothing.
"""

from __future__ import annotations

import secrets
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult

from components.dynamic import CertfleetProvider, CertfleetResource


class DnsOwnerProvider(CertfleetProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        owner = f"{props['stack']}/{secrets.token_hex(6)}"
        return CreateResult(owner, {**props, "owner": owner})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # Never replaced: a new identity would make every record of the stack look like another stack's. A stack
        # renamed keeps its identity with its state, which is what moved.
        return DiffResult(changes=False, replaces=[], stables=["owner"], delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        return None


class DnsOwner(CertfleetResource, module="dns", name="Owner"):
    """Type token: pulumi-python:dynamic/dns:Owner."""

    owner: pulumi.Output[str]

    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(DnsOwnerProvider(), resource_name,
                         {"stack": f"{pulumi.get_project()}/{pulumi.get_stack()}", "owner": None}, opts)


_STACK_OWNER: list[DnsOwner] = []


def stack_owner() -> pulumi.Output[str]:
    """The program's one DnsOwner (declared on first use, by the first section with a `dns` block)."""
    if not _STACK_OWNER:
        _STACK_OWNER.append(DnsOwner("dns-owner"))
    return _STACK_OWNER[0].owner
