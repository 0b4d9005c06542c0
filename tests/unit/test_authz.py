"""Unit tests for app.authz: decisions, inherited roles and escalation checks. Pure."""

from __future__ import annotations

import pytest

from app import authz
from app.authz import REQUIRED_ROLE, Action, Grant, Verdict, decide, roles_on, ungrantable
from app.mrn import PLATFORM_MRN, org_mrn, space_mrn, workspace_mrn
from app.roles import CATALOGUE, closure

ORG = org_mrn("acme-corp")
OTHER_ORG = org_mrn("globex-corp")
SPACE = space_mrn("infra-space")
OTHER_SPACE = space_mrn("apps-space")
WS = workspace_mrn("infra-space", "vms-01")
OTHER_WS = workspace_mrn("infra-space", "k8s-01")

# chains as the service builds them: the scope first, then its parents
ORG_CHAIN = (ORG,)
SPACE_CHAIN = (SPACE, ORG)
OTHER_SPACE_CHAIN = (OTHER_SPACE, ORG)
WS_CHAIN = (WS, SPACE, ORG)
OTHER_WS_CHAIN = (OTHER_WS, SPACE, ORG)

ALL_ROLES = list(CATALOGUE)
POLICY_ROLES = ["policy-manager", "policy-editor"]


def held(*names: str) -> frozenset[str]:
    """What the service passes to decide(): the closure of the roles bound."""
    return closure(names)


# --------------------------------------------------------------------------- the table


def test_required_role_table() -> None:
    assert REQUIRED_ROLE == {
        Action.READ: None,
        Action.MANAGE_TEAMS: "editor",
        Action.SET_ROLES: "owner",
        Action.MANAGE_API_TOKENS: "owner",
        Action.CREATE_SPACE: "owner",
        Action.CREATE_WORKSPACE: "editor",
        Action.CREATE_ORGANIZATION: "platform-admin",
    }


def test_every_action_has_a_required_role_entry() -> None:
    assert set(REQUIRED_ROLE) == set(Action)
    for needed in REQUIRED_ROLE.values():
        assert needed is None or needed in CATALOGUE


# --------------------------------------------------------------------------- decide


@pytest.mark.parametrize("action", list(Action))
def test_no_role_is_hidden_for_every_action(action: Action) -> None:
    assert decide(action, frozenset()) is Verdict.HIDDEN


@pytest.mark.parametrize(
    ("action", "not_enough"),
    [
        (Action.MANAGE_TEAMS, "viewer"),
        (Action.MANAGE_TEAMS, "agent"),
        (Action.MANAGE_TEAMS, "policy-manager"),
        (Action.SET_ROLES, "viewer"),
        (Action.SET_ROLES, "editor"),
        (Action.MANAGE_API_TOKENS, "viewer"),
        (Action.MANAGE_API_TOKENS, "editor"),
        (Action.CREATE_SPACE, "viewer"),
        (Action.CREATE_SPACE, "editor"),
        (Action.CREATE_WORKSPACE, "viewer"),
        (Action.CREATE_WORKSPACE, "sla-manager"),
        (Action.CREATE_ORGANIZATION, "viewer"),
        (Action.CREATE_ORGANIZATION, "editor"),
        (Action.CREATE_ORGANIZATION, "owner"),
    ],
)
def test_role_that_is_not_enough_is_forbidden(action: Action, not_enough: str) -> None:
    assert decide(action, held(not_enough)) is Verdict.FORBIDDEN


@pytest.mark.parametrize("action", [a for a in Action if REQUIRED_ROLE[a] is not None])
def test_every_role_that_neither_is_nor_implies_the_needed_one_is_forbidden(action: Action) -> None:
    needed = REQUIRED_ROLE[action]
    for name in ALL_ROLES:
        verdict = decide(action, held(name))
        if needed in closure([name]):
            assert verdict is Verdict.ALLOW, (action, name)
        else:
            assert verdict is Verdict.FORBIDDEN, (action, name)


@pytest.mark.parametrize("action", list(Action))
def test_the_needed_role_allows(action: Action) -> None:
    needed = REQUIRED_ROLE[action] or "viewer"
    assert decide(action, held(needed)) is Verdict.ALLOW
    assert decide(action, frozenset({needed})) is Verdict.ALLOW


@pytest.mark.parametrize("name", ALL_ROLES)
def test_any_role_allows_read(name: str) -> None:
    assert decide(Action.READ, held(name)) is Verdict.ALLOW


@pytest.mark.parametrize(
    "action",
    [
        Action.READ,
        Action.MANAGE_TEAMS,
        Action.SET_ROLES,
        Action.MANAGE_API_TOKENS,
        Action.CREATE_SPACE,
        Action.CREATE_WORKSPACE,
    ],
)
def test_owner_can_do_every_org_action(action: Action) -> None:
    assert decide(action, held("owner")) is Verdict.ALLOW


def test_owner_manages_teams_through_the_implied_editor_role() -> None:
    assert "editor" in held("owner")
    assert decide(Action.MANAGE_TEAMS, held("owner")) is Verdict.ALLOW
    assert (
        decide(Action.MANAGE_TEAMS, roles_on({ORG: frozenset({"owner"})}, ORG_CHAIN))
        is Verdict.ALLOW
    )
    assert decide(Action.CREATE_WORKSPACE, held("owner")) is Verdict.ALLOW


def test_editor_abilities() -> None:
    h = held("editor")
    assert decide(Action.READ, h) is Verdict.ALLOW
    assert decide(Action.MANAGE_TEAMS, h) is Verdict.ALLOW
    assert decide(Action.CREATE_WORKSPACE, h) is Verdict.ALLOW
    assert decide(Action.SET_ROLES, h) is Verdict.FORBIDDEN
    assert decide(Action.MANAGE_API_TOKENS, h) is Verdict.FORBIDDEN
    assert decide(Action.CREATE_SPACE, h) is Verdict.FORBIDDEN


def test_only_platform_admin_creates_organizations() -> None:
    assert decide(Action.CREATE_ORGANIZATION, held("platform-admin")) is Verdict.ALLOW
    assert (
        decide(Action.CREATE_ORGANIZATION, held(*[n for n in ALL_ROLES if n != "platform-admin"]))
        is Verdict.FORBIDDEN
    )


def test_verdict_values() -> None:
    assert {v.value for v in Verdict} == {"allow", "hidden", "forbidden"}


# --------------------------------------------------------------------------- roles_on


def test_roles_on_no_grants() -> None:
    assert roles_on({}, WS_CHAIN) == frozenset()
    assert roles_on({}, ()) == frozenset()


def test_roles_on_returns_the_closure() -> None:
    assert roles_on({ORG: frozenset({"editor"})}, ORG_CHAIN) == frozenset({"editor", "viewer"})


@pytest.mark.parametrize(
    "chain", [ORG_CHAIN, SPACE_CHAIN, WS_CHAIN, OTHER_SPACE_CHAIN, OTHER_WS_CHAIN]
)
def test_org_binding_applies_to_org_spaces_and_workspaces(chain: tuple[str, ...]) -> None:
    grants = {ORG: frozenset({"editor"})}
    assert roles_on(grants, chain) == frozenset({"editor", "viewer"})


def test_space_binding_applies_to_space_and_its_workspaces_only() -> None:
    grants = {SPACE: frozenset({"owner"})}
    assert "owner" in roles_on(grants, SPACE_CHAIN)
    assert "owner" in roles_on(grants, WS_CHAIN)
    assert roles_on(grants, ORG_CHAIN) == frozenset()
    assert roles_on(grants, OTHER_SPACE_CHAIN) == frozenset()


def test_workspace_binding_does_not_apply_to_its_space_or_org_or_siblings() -> None:
    grants = {WS: frozenset({"editor"})}
    assert roles_on(grants, WS_CHAIN) == frozenset({"editor", "viewer"})
    assert roles_on(grants, SPACE_CHAIN) == frozenset()
    assert roles_on(grants, ORG_CHAIN) == frozenset()
    assert roles_on(grants, OTHER_WS_CHAIN) == frozenset()


def test_roles_on_unions_every_level_of_the_chain() -> None:
    grants = {
        ORG: frozenset({"viewer"}),
        SPACE: frozenset({"policy-manager"}),
        WS: frozenset({"ticket-manager"}),
        OTHER_ORG: frozenset({"owner"}),
    }
    assert roles_on(grants, WS_CHAIN) == frozenset(
        {"viewer", "policy-manager", "policy-editor", "ticket-manager", "ticket-creator"}
    )
    assert roles_on(grants, SPACE_CHAIN) == frozenset({"viewer", "policy-manager", "policy-editor"})
    assert roles_on(grants, ORG_CHAIN) == frozenset({"viewer"})


def test_other_orgs_bindings_do_not_leak() -> None:
    grants = {OTHER_ORG: frozenset({"owner"})}
    assert roles_on(grants, ORG_CHAIN) == frozenset()
    assert roles_on(grants, WS_CHAIN) == frozenset()
    assert decide(Action.READ, roles_on(grants, SPACE_CHAIN)) is Verdict.HIDDEN


def test_decision_over_an_inherited_role() -> None:
    grants = {ORG: frozenset({"viewer"}), SPACE: frozenset({"editor"})}
    assert decide(Action.MANAGE_TEAMS, roles_on(grants, ORG_CHAIN)) is Verdict.FORBIDDEN
    assert decide(Action.MANAGE_TEAMS, roles_on(grants, SPACE_CHAIN)) is Verdict.ALLOW
    assert decide(Action.MANAGE_TEAMS, roles_on(grants, WS_CHAIN)) is Verdict.ALLOW
    assert decide(Action.MANAGE_TEAMS, roles_on(grants, OTHER_SPACE_CHAIN)) is Verdict.FORBIDDEN


# --------------------------------------------------------------------------- ungrantable


def test_grant_scope_mrn_is_the_first_of_the_chain() -> None:
    assert Grant("viewer", WS_CHAIN).scope_mrn == WS


def test_nothing_wanted_nothing_missing() -> None:
    assert ungrantable({}, []) == []


def test_caller_with_no_roles_can_hand_out_nothing() -> None:
    wanted = [Grant(r, ORG_CHAIN) for r in ALL_ROLES]
    assert ungrantable({}, wanted) == wanted


def test_editor_cannot_hand_out_owner() -> None:
    grants = {ORG: frozenset({"editor"})}
    owner = Grant("owner", ORG_CHAIN)
    assert ungrantable(grants, [owner]) == [owner]
    assert ungrantable(grants, [Grant("owner", SPACE_CHAIN)]) == [Grant("owner", SPACE_CHAIN)]


def test_editor_can_hand_out_editor_and_viewer_only() -> None:
    grants = {ORG: frozenset({"editor"})}
    assert ungrantable(grants, [Grant("editor", ORG_CHAIN), Grant("viewer", WS_CHAIN)]) == []
    assert ungrantable(grants, [Grant("policy-editor", ORG_CHAIN)]) == [
        Grant("policy-editor", ORG_CHAIN)
    ]


def test_viewer_cannot_hand_out_editor() -> None:
    grants = {ORG: frozenset({"viewer"})}
    assert ungrantable(grants, [Grant("editor", ORG_CHAIN)]) == [Grant("editor", ORG_CHAIN)]


def test_owner_can_hand_out_editor_viewer_and_policy_roles() -> None:
    grants = {ORG: frozenset({"owner"})}
    wanted = [Grant(r, ORG_CHAIN) for r in ["editor", "viewer", *POLICY_ROLES]]
    assert ungrantable(grants, wanted) == []


def test_owner_can_hand_out_every_role_but_platform_admin() -> None:
    grants = {ORG: frozenset({"owner"})}
    wanted = [Grant(r, chain) for r in ALL_ROLES for chain in (ORG_CHAIN, SPACE_CHAIN, WS_CHAIN)]
    missing = ungrantable(grants, wanted)
    assert missing == [
        Grant("platform-admin", ORG_CHAIN),
        Grant("platform-admin", SPACE_CHAIN),
        Grant("platform-admin", WS_CHAIN),
    ]


def test_owner_cannot_hand_out_platform_admin_on_the_platform() -> None:
    grants = {ORG: frozenset({"owner"})}
    g = Grant("platform-admin", (PLATFORM_MRN,))
    assert ungrantable(grants, [g]) == [g]


def test_role_held_only_on_a_space_cannot_be_handed_out_on_the_org() -> None:
    grants = {SPACE: frozenset({"owner"})}
    on_org = Grant("editor", ORG_CHAIN)
    assert ungrantable(grants, [on_org]) == [on_org]
    on_other_space = Grant("editor", OTHER_SPACE_CHAIN)
    assert ungrantable(grants, [on_other_space]) == [on_other_space]
    # ... but can be on the space itself and below it
    assert ungrantable(grants, [Grant("editor", SPACE_CHAIN), Grant("owner", WS_CHAIN)]) == []


def test_role_held_on_org_can_be_handed_out_on_a_child_space_and_workspace() -> None:
    grants = {ORG: frozenset({"editor"})}
    wanted = [
        Grant("editor", SPACE_CHAIN),
        Grant("viewer", WS_CHAIN),
        Grant("editor", OTHER_WS_CHAIN),
    ]
    assert ungrantable(grants, wanted) == []


def test_role_held_on_a_workspace_cannot_be_handed_out_on_its_space() -> None:
    grants = {WS: frozenset({"owner"})}
    assert ungrantable(grants, [Grant("viewer", SPACE_CHAIN)]) == [Grant("viewer", SPACE_CHAIN)]
    assert ungrantable(grants, [Grant("viewer", OTHER_WS_CHAIN)]) == [
        Grant("viewer", OTHER_WS_CHAIN)
    ]
    assert ungrantable(grants, [Grant("owner", WS_CHAIN)]) == []


def test_role_held_in_another_org_cannot_be_handed_out() -> None:
    grants = {OTHER_ORG: frozenset({"owner"})}
    g = Grant("viewer", SPACE_CHAIN)
    assert ungrantable(grants, [g]) == [g]


def test_manager_can_hand_out_its_editor_role_not_the_reverse() -> None:
    grants = {ORG: frozenset({"policy-editor"}), SPACE: frozenset({"query-pack-manager"})}
    assert ungrantable(grants, [Grant("policy-editor", WS_CHAIN)]) == []
    assert ungrantable(grants, [Grant("query-pack-editor", WS_CHAIN)]) == []
    assert ungrantable(grants, [Grant("policy-manager", WS_CHAIN)]) == [
        Grant("policy-manager", WS_CHAIN)
    ]


def test_ungrantable_returns_only_the_missing_grants_in_order() -> None:
    grants = {ORG: frozenset({"editor"}), SPACE: frozenset({"owner"})}
    wanted = [
        Grant("owner", ORG_CHAIN),  # missing: owner only on the space
        Grant("viewer", ORG_CHAIN),
        Grant("owner", SPACE_CHAIN),
        Grant("platform-admin", SPACE_CHAIN),  # missing
        Grant("sla-manager", WS_CHAIN),  # implied by owner on the space
        Grant("sla-manager", OTHER_SPACE_CHAIN),  # missing: only editor there
    ]
    assert ungrantable(grants, wanted) == [wanted[0], wanted[3], wanted[5]]


def test_platform_admin_on_the_platform_does_not_grant_org_roles() -> None:
    grants = {PLATFORM_MRN: frozenset({"platform-admin"})}
    assert ungrantable(grants, [Grant("platform-admin", (PLATFORM_MRN,))]) == []
    g = Grant("viewer", ORG_CHAIN)
    assert ungrantable(grants, [g]) == [g]


def test_grants_from_groups_roles_by_scope_and_skips_empty_rows():
    rows = [("//s/a", "viewer"), ("//s/a", "editor"), ("//s/b", "viewer"), (None, None)]
    assert authz.grants_from(rows) == {"//s/a": frozenset({"viewer", "editor"}),
                                       "//s/b": frozenset({"viewer"})}
    assert authz.grants_from([(None, None)]) == {}


# --------------------------------------------------------------------------- roles in effect


def _bound(*rows: tuple[str, str, str]) -> dict[str, list[tuple[str, str, str]]]:
    """(scope, role, via) rows grouped by scope, as the services group bindings."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row)
    return out


CHAINS = {ORG: ORG_CHAIN, SPACE: SPACE_CHAIN, WS: WS_CHAIN, OTHER_WS: OTHER_WS_CHAIN,
          OTHER_SPACE: OTHER_SPACE_CHAIN}


def test_roles_by_scope_inherits_from_above_and_names_the_highest_in_force():
    bound = _bound((WS, "viewer", "team-a"), (ORG, "editor", "user"), (SPACE, "owner", "team-b"))
    out = authz.roles_by_scope(bound, CHAINS, lambda row: row[1])
    # Organizations first, then spaces, then workspaces.
    assert [r.scope_mrn for r in out] == [ORG, SPACE, WS]
    org, space, ws = out
    assert (org.roles, org.in_force) == (["editor"], "editor")
    assert (space.roles, space.in_force) == (["owner", "editor"], "owner")
    assert (ws.roles, ws.in_force) == (["owner", "editor", "viewer"], "owner")
    # Sources: the scope's own first, then each scope above, in the chain's order.
    assert ws.sources == [(WS, "viewer", "team-a"), (SPACE, "owner", "team-b"),
                          (ORG, "editor", "user")]


def test_roles_by_scope_lists_a_role_once_but_keeps_every_source():
    bound = _bound((ORG, "viewer", "team-a"), (ORG, "viewer", "team-b"))
    (org,) = authz.roles_by_scope(bound, CHAINS, lambda row: row[1])
    assert org.roles == ["viewer"] and len(org.sources) == 2


def test_roles_by_scope_does_not_reach_siblings_or_scopes_nothing_is_bound_on():
    bound = _bound((WS, "editor", "team-a"), (OTHER_SPACE, "viewer", "team-b"))
    out = authz.roles_by_scope(bound, CHAINS, lambda row: row[1])
    assert [(r.scope_mrn, r.roles) for r in out] == [(OTHER_SPACE, ["viewer"]), (WS, ["editor"])]
    assert authz.roles_by_scope({}, CHAINS, lambda row: row[1]) == []
