"""Unit tests for app.roles: the role catalogue, parsing, implication and privilege order."""

from __future__ import annotations

import itertools

import pytest

from app.errors import InvalidArgument
from app.roles import (
    CATALOGUE,
    ROLE_PREFIX,
    Role,
    closure,
    highest,
    parse_role,
    parse_roles,
    sort_by_privilege,
    valid_role_list,
)

#: The role table of the reference guide, in its order (name, description).
SPEC_ROLES = [
    ("viewer", "Read-only access"),
    ("editor", "Read-write access"),
    ("owner", "Full control including IAM"),
    ("agent", "Asset scanning agent"),
    ("platform-admin", "Platform-level administration"),
    ("policy-manager", "Manage policies"),
    ("policy-editor", "Edit policies"),
    ("exception-reviewer", "Review security exceptions"),
    ("exceptions-requester", "Request security exceptions"),
    ("integrations-manager", "Manage integrations"),
    ("ticket-manager", "Manage tickets"),
    ("ticket-creator", "Create tickets"),
    ("query-pack-manager", "Manage query packs"),
    ("query-pack-editor", "Edit query packs"),
    ("sla-manager", "Manage SLA settings"),
]
SPEC_NAMES = [name for name, _ in SPEC_ROLES]


# --------------------------------------------------------------------------- catalogue


def test_catalogue_has_exactly_the_15_spec_roles_in_order() -> None:
    assert len(CATALOGUE) == 15
    assert list(CATALOGUE) == SPEC_NAMES


@pytest.mark.parametrize(("name", "description"), SPEC_ROLES)
def test_each_role_matches_the_spec(name: str, description: str) -> None:
    role = CATALOGUE[name]
    assert isinstance(role, Role)
    assert role.name == name
    assert role.description == description
    assert role.mrn == f"//iam.api.mondoo.app/roles/{name}"


def test_role_prefix() -> None:
    assert ROLE_PREFIX == "//iam.api.mondoo.app/roles/"


def test_implied_roles_are_all_in_the_catalogue() -> None:
    for role in CATALOGUE.values():
        assert role.implies <= set(CATALOGUE), role.name


def test_ranks_are_unique_enough_for_the_four_main_roles() -> None:
    r = {n: CATALOGUE[n].rank for n in ("viewer", "editor", "owner", "platform-admin")}
    assert r["platform-admin"] > r["owner"] > r["editor"] > r["viewer"]


def test_a_role_outranks_every_role_it_implies() -> None:
    for role in CATALOGUE.values():
        for implied in closure([role.name]) - {role.name}:
            assert role.rank > CATALOGUE[implied].rank, (role.name, implied)


def test_valid_role_list_lists_every_role_in_order() -> None:
    assert valid_role_list() == ", ".join(SPEC_NAMES)


# --------------------------------------------------------------------------- parse_role


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_parse_role_short_name(name: str) -> None:
    assert parse_role(name) == name


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_parse_role_full_mrn(name: str) -> None:
    assert parse_role(f"//iam.api.mondoo.app/roles/{name}") == name
    assert parse_role(CATALOGUE[name].mrn) == name


def test_parse_role_tolerates_surrounding_whitespace() -> None:
    assert parse_role("  editor ") == "editor"
    assert parse_role("\t//iam.api.mondoo.app/roles/owner\n") == "owner"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "admin",
        "Editor",  # names are case-sensitive
        "EDITOR",
        "editors",
        "view",
        "platform_admin",
        "platformadmin",
        "exception-requester",  # spelled "exceptions-requester" in the catalogue
        "exceptions-reviewer",
        "roles/editor",
        "/roles/editor",
        "//iam.api.mondoo.app/roles/",
        "//iam.api.mondoo.app/roles/admin",
        "//iam.api.mondoo.app/roles/Editor",
        "//iam.api.mondoo.app/roles/editor/",
        "//iam.api.mondoo.app/roles/editor/extra",
        "//iam.api.mondoo.app/roles//editor",
        "//iam.api.mondoo.app/role/editor",
        "//iam.api.mondoo.app/editor",
        "//captain.api.mondoo.app/roles/editor",  # other host
        "//iam.api.mondoo.com/roles/editor",
        "https://iam.api.mondoo.app/roles/editor",
        "iam.api.mondoo.app/roles/editor",
        "//iam.api.mondoo.app/roles/ editor",
        "edi tor",
    ],
)
def test_parse_role_rejects_unknown(bad: str) -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        parse_role(bad)
    err = exc_info.value
    assert err.code == "INVALID_ARGUMENT"
    assert err.details == {"field": "roles"}
    assert repr(bad) in err.message  # quotes the input as given
    assert "valid roles are" in err.message
    for name in SPEC_NAMES:
        assert name in err.message
    assert valid_role_list() in err.message
    assert "//iam.api.mondoo.app/roles/NAME" in err.message


def test_parse_role_none_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument):
        parse_role(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- parse_roles


def test_parse_roles_empty() -> None:
    assert parse_roles([]) == []


def test_parse_roles_keeps_order() -> None:
    assert parse_roles(["sla-manager", "viewer", "owner"]) == ["sla-manager", "viewer", "owner"]


def test_parse_roles_drops_duplicates_keeping_first_seen_order() -> None:
    values = [
        "editor",
        "//iam.api.mondoo.app/roles/viewer",
        "//iam.api.mondoo.app/roles/editor",
        "viewer",
        " editor ",
        "agent",
        "editor",
    ]
    assert parse_roles(values) == ["editor", "viewer", "agent"]


def test_parse_roles_accepts_any_iterable() -> None:
    assert parse_roles(iter(("viewer", "viewer"))) == ["viewer"]
    assert parse_roles(("owner",)) == ["owner"]


def test_parse_roles_refuses_the_whole_list_on_one_unknown_role() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        parse_roles(["viewer", "superuser", "editor"])
    assert "'superuser'" in exc_info.value.message


# --------------------------------------------------------------------------- closure


def test_closure_of_nothing_is_nothing() -> None:
    assert closure([]) == frozenset()


def test_closure_contains_the_roles_themselves() -> None:
    for name in SPEC_NAMES:
        assert name in closure([name])


def test_viewer_implies_nothing_else() -> None:
    assert closure(["viewer"]) == frozenset({"viewer"})


def test_editor_implies_viewer_but_not_owner() -> None:
    held = closure(["editor"])
    assert held == frozenset({"editor", "viewer"})
    assert "owner" not in held
    assert "platform-admin" not in held


def test_owner_implies_editor_and_viewer_but_not_platform_admin() -> None:
    held = closure(["owner"])
    assert {"owner", "editor", "viewer"} <= held
    assert "platform-admin" not in held


def test_owner_implies_every_org_role_but_platform_admin() -> None:
    assert closure(["owner"]) == frozenset(SPEC_NAMES) - {"platform-admin"}


def test_platform_admin_implies_only_itself() -> None:
    # platform-admin is granted on the platform, not a super-owner of every org
    assert closure(["platform-admin"]) == frozenset({"platform-admin"})


@pytest.mark.parametrize(
    ("manager", "editor"),
    [
        ("policy-manager", "policy-editor"),
        ("query-pack-manager", "query-pack-editor"),
        ("ticket-manager", "ticket-creator"),
        ("exception-reviewer", "exceptions-requester"),
    ],
)
def test_managers_imply_their_editor_roles_only(manager: str, editor: str) -> None:
    assert closure([manager]) == frozenset({manager, editor})
    # ... and not the other way round
    assert closure([editor]) == frozenset({editor})


@pytest.mark.parametrize(
    "name",
    [
        "agent",
        "integrations-manager",
        "sla-manager",
        "policy-editor",
        "query-pack-editor",
        "ticket-creator",
        "exceptions-requester",
    ],
)
def test_leaf_roles_imply_nothing(name: str) -> None:
    assert closure([name]) == frozenset({name})


def test_no_role_but_owner_implies_owner_or_editor() -> None:
    for name in SPEC_NAMES:
        held = closure([name])
        if name != "owner":
            assert "owner" not in held, name
        if name not in ("owner", "editor"):
            assert "editor" not in held, name


def test_closure_is_union_of_closures_and_idempotent() -> None:
    for a, b in itertools.combinations(SPEC_NAMES, 2):
        both = closure([a, b])
        assert both == closure([a]) | closure([b])
        assert closure(both) == both


def test_closure_accepts_duplicates_and_iterators() -> None:
    assert closure(iter(["editor", "editor", "viewer"])) == frozenset({"editor", "viewer"})


# --------------------------------------------------------------------------- highest / sort


def test_highest_of_nothing_is_none() -> None:
    assert highest([]) is None


def test_highest_picks_the_most_privileged() -> None:
    assert highest(["viewer", "editor", "owner", "platform-admin"]) == "platform-admin"
    assert highest(["platform-admin", "viewer"]) == "platform-admin"
    assert highest(["viewer", "owner", "editor"]) == "owner"
    assert highest(["editor", "viewer"]) == "editor"
    assert highest(["viewer"]) == "viewer"
    assert highest(iter(["editor", "owner"])) == "owner"


def test_highest_ranks_owner_over_every_org_role() -> None:
    assert highest(SPEC_NAMES[::-1]) == "platform-admin"
    assert highest([n for n in SPEC_NAMES if n != "platform-admin"]) == "owner"


def test_highest_prefers_viewer_over_agent() -> None:
    assert highest(["agent", "viewer"]) == "viewer"


def test_sort_by_privilege_descending_and_deduplicated() -> None:
    assert sort_by_privilege(["viewer", "owner", "editor", "viewer", "platform-admin"]) == [
        "platform-admin",
        "owner",
        "editor",
        "viewer",
    ]
    assert sort_by_privilege([]) == []


def test_sort_by_privilege_breaks_ties_by_name() -> None:
    tied = ["sla-manager", "integrations-manager", "ticket-manager", "policy-manager"]
    assert {CATALOGUE[n].rank for n in tied} == {30}
    assert sort_by_privilege(tied) == sorted(tied)


def test_sort_by_privilege_of_whole_catalogue_is_consistent_with_highest() -> None:
    ordered = sort_by_privilege(SPEC_NAMES)
    assert len(ordered) == 15
    assert ordered[0] == highest(SPEC_NAMES) == "platform-admin"
    ranks = [CATALOGUE[n].rank for n in ordered]
    assert ranks == sorted(ranks, reverse=True)
    assert ordered[-1] == "agent"
