"""What the AWS providers share to adopt an existing object by id (issue 14): who owns it, how a difference is
told, what state records, and whether destroy keeps it.

The order of the checks at preview (each provider's `check`), first answer wins:
1. no access to the account (no credentials, AccessDenied, no endpoint): skip, as cnameCheck does (PR previews);
2. the object is missing: a CheckFailure naming the id;
3. it is tagged certfleet:resource by another identity: refused, naming that owner;
4. a replace-level difference without replaceAdopted: a CheckFailure naming each field;
5. in-place differences: told (a warning), and `up` brings the object to the entry.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from pulumi.dynamic import CheckFailure

from components.aws.cname_check import no_account_access  # noqa: F401 (re-exported for the providers)
from components.dynamic import declared_in_this_run, note_declared, tell_user
from components.dynamic import foreign_owner  # noqa: F401 (re-exported for the providers)

ADOPT_INPUTS = ("adopt_id", "replace_adopted", "on_destroy")


def adoption_inputs(spec: Any) -> dict[str, Any]:
    """The provider inputs of an entry's adopt keys (config_adopt.Adoption's fields on every AWS spec)."""
    return {"adopt_id": spec.adopt, "replace_adopted": spec.replace_adopted, "on_destroy": spec.on_destroy}


def adoption_outputs(props: Mapping[str, Any], adopted: bool) -> dict[str, Any]:
    """What state records: `adopted` is decided once, by the create, and carried by update and read after it;
    removing `adopt` from the entry changes nothing (adopt_id is no diff key)."""
    return {"adopted": bool(adopted), "adopt_id": props.get("adopt_id"),
            "replace_adopted": bool(props.get("replace_adopted")), "on_destroy": props.get("on_destroy")}


def standing_for_adopted(olds: Mapping[str, Any], news: Mapping[str, Any], id_key: str) -> bool:
    """Does the resource (still) stand for the adopted object? Not once a replacement made a new one."""
    return bool(news.get("adopt_id")) and olds.get(id_key) in (None, "", news["adopt_id"])


def look_failures(found: Any) -> list[CheckFailure] | None:
    """A provider's look at the object to adopt (its `_adoptable`: None, a problem's text, or what it read) as
    check's answer: [] skips (no access), one failure for a problem, None when there is something to compare."""
    if found is None:
        return []
    return [CheckFailure("adopt_id", found)] if isinstance(found, str) else None


def owned_elsewhere(what: str, object_id: str, owner: str) -> str:
    return (f"{what}: {object_id} is already managed by certfleet resource {owner} (tag certfleet:resource); an "
            f"object belongs to one entry: remove it from that stack's config (its destroy keeps an adopted object) "
            f"or adopt another one")


def differences(pairs: Iterable[tuple[str, Any, Any]]) -> list[str]:
    """'field (object: x, entry: y)' for each (field, object's value, entry's value) that differ."""
    return [f"{field} (object: {live!r}, entry: {wanted!r})" for field, live, wanted in pairs if live != wanted]


def replace_refused(what: str, object_id: str, fields: list[str], new_kind: str) -> str:
    return (f"{what}: {object_id} differs from the entry in what only a new {new_kind} can change: "
            f"{'; '.join(fields)}. Make the entry match, or set replaceAdopted: true to make a new {new_kind} "
            f"(the adopted one is kept)")


def tell_differences(what: str, object_id: str, in_place: list[str], replaced: list[str], new_kind: str) -> None:
    if replaced:
        tell_user(f"{what}: replaceAdopted: a new {new_kind} is made instead of adopting {object_id}, which is kept "
                  f"(it differs: {'; '.join(replaced)})")
    elif in_place:
        tell_user(f"{what}: adopting {object_id}; up changes it in place to match the entry: {'; '.join(in_place)}")


def kept_on_destroy(kind: str, name: str, props: Mapping[str, Any]) -> bool:
    """Does this delete leave the object? An adopted object is kept unless its entry says onDestroy: delete, and
    always when the delete is the old half of a replacement (replaceAdopted keeps it); `onDestroy: keep` keeps
    any object."""
    if props.get("on_destroy") == "keep":
        return True
    if props.get("adopted"):
        return props.get("on_destroy") != "delete" or declared_in_this_run(kind, name)
    return False


def keep_message(what: str, object_id: str, props: Mapping[str, Any], cloud_name: str) -> str:
    why = "it was adopted" if props.get("adopted") else "its entry says onDestroy: keep"
    return (f"{what}: kept {object_id} in {cloud_name} ({why}); certfleet's own tags were removed from it, its "
            f"other tags are as they were")


def note_declared_names(kind: str, news: Mapping[str, Any], name_key: str) -> None:
    """From `check`: the entry's name and its former names (`previousNames`, as the identities in
    previous_resource_tags) are declared in this run, so a delete under any of them is a replacement's old half,
    never a real destroy (a rename and a replacement in one `up` hand delete the old name's state)."""
    former = [i.rsplit("/", 1)[-1] for i in news.get("previous_resource_tags") or [] if isinstance(i, str)]
    note_declared(kind, news.get(name_key), *former)
