"""The sign-in sync planner (app.login.sync): pure decisions, no database."""

from __future__ import annotations

from app.login.sync import Change, Held, Match, Plan, plan, plan_mapping_removal

TEAM_A = "//captain.api.mondoo.app/organizations/o/teams/team-a"
TEAM_B = "//captain.api.mondoo.app/organizations/o/teams/team-b"
TEAM_C = "//captain.api.mondoo.app/organizations/o/teams/team-c"
MAP_A1 = f"{TEAM_A}/externalgroupmappings/a1"
MAP_A2 = f"{TEAM_A}/externalgroupmappings/a2"
MAP_B = f"{TEAM_B}/externalgroupmappings/b1"
MAP_C = f"{TEAM_C}/externalgroupmappings/c1"


def match(mapping: str, team: str, value: str, claim: str = "") -> Match:
    return Match(mapping_mrn=mapping, team_mrn=team, claim=claim, value=value)


def held(team: str, *grants: str, by_hand: bool = False) -> Held:
    return Held(team_mrn=team, added_by_hand=by_hand, grants=frozenset(grants))


def changes(p: Plan) -> set[tuple]:
    return {(c.action, c.team_mrn, c.mapping_mrn, c.claim, c.value, c.membership)
            for c in p.changes}


# --- plan(): adds ----------------------------------------------------------------------------


def test_new_match_creates_membership_and_grant():
    m = match(MAP_A1, TEAM_A, "grp-a")
    p = plan([], [m])
    assert p.create_memberships == {TEAM_A}
    assert p.add_grants == [m]
    assert p.delete_memberships == set()
    assert p.remove_grants == []
    assert p.changes == [Change("add", TEAM_A, MAP_A1, "", "grp-a", "created")]
    assert not p.empty


def test_two_mappings_to_one_new_team_create_one_membership_two_grants():
    m1, m2 = match(MAP_A1, TEAM_A, "grp-1"), match(MAP_A2, TEAM_A, "grp-2")
    p = plan([], [m2, m1])
    assert p.create_memberships == {TEAM_A}
    assert sorted(p.add_grants, key=lambda m: m.mapping_mrn) == [m1, m2]
    assert changes(p) == {
        ("add", TEAM_A, MAP_A1, "", "grp-1", "created"),
        ("add", TEAM_A, MAP_A2, "", "grp-2", "created"),
    }


def test_same_mapping_matched_twice_is_granted_once():
    m = match(MAP_A1, TEAM_A, "grp-a")
    p = plan([], [m, m])
    assert p.add_grants == [m]
    assert len(p.changes) == 1


def test_new_grant_on_existing_membership_keeps_membership():
    p = plan([held(TEAM_A, MAP_A1)], [match(MAP_A1, TEAM_A, "g1"), match(MAP_A2, TEAM_A, "g2")])
    assert p.create_memberships == set()
    assert p.delete_memberships == set()
    assert p.add_grants == [match(MAP_A2, TEAM_A, "g2")]
    assert p.remove_grants == []
    assert changes(p) == {("add", TEAM_A, MAP_A2, "", "g2", "kept")}


def test_mapping_grant_on_manual_membership_is_added_not_created():
    p = plan([held(TEAM_A, by_hand=True)], [match(MAP_A1, TEAM_A, "g")])
    assert p.create_memberships == set()
    assert p.add_grants == [match(MAP_A1, TEAM_A, "g")]
    assert changes(p) == {("add", TEAM_A, MAP_A1, "", "g", "kept")}


def test_custom_claim_match_carries_its_claim():
    m = match(MAP_B, TEAM_B, "security", claim="department")
    p = plan([], [m])
    assert p.changes == [Change("add", TEAM_B, MAP_B, "department", "security", "created")]


# --- plan(): keeps ---------------------------------------------------------------------------


def test_unchanged_grants_make_an_empty_plan():
    p = plan([held(TEAM_A, MAP_A1), held(TEAM_B, MAP_B)],
             [match(MAP_A1, TEAM_A, "a"), match(MAP_B, TEAM_B, "b")])
    assert p.empty
    assert p.changes == []
    assert p.create_memberships == set() and p.delete_memberships == set()


def test_empty_plan_with_nothing_held_and_nothing_matched():
    p = plan([], [])
    assert p.empty and p.changes == []


# --- plan(): removes -------------------------------------------------------------------------


def test_lost_group_removes_sso_membership():
    p = plan([held(TEAM_A, MAP_A1), held(TEAM_B, MAP_B)], [match(MAP_A1, TEAM_A, "a")])
    assert p.remove_grants == [(TEAM_B, MAP_B)]
    assert p.delete_memberships == {TEAM_B}
    assert p.add_grants == [] and p.create_memberships == set()
    assert p.changes == [Change("remove", TEAM_B, MAP_B, None, None, "deleted")]


def test_empty_matches_remove_every_sso_membership():
    p = plan([held(TEAM_A, MAP_A1, MAP_A2), held(TEAM_B, MAP_B)], [])
    assert p.delete_memberships == {TEAM_A, TEAM_B}
    assert sorted(p.remove_grants) == sorted([(TEAM_A, MAP_A1), (TEAM_A, MAP_A2), (TEAM_B, MAP_B)])
    assert {c.membership for c in p.changes} == {"deleted"}
    assert {c.action for c in p.changes} == {"remove"}


def test_sso_membership_without_any_grant_left_is_deleted():
    """A stale SSO row (no grants, not by hand) is not justified by anything: it goes."""
    p = plan([held(TEAM_A)], [])
    assert p.delete_memberships == {TEAM_A}


def test_membership_justified_by_two_mappings_survives_losing_one():
    p = plan([held(TEAM_A, MAP_A1, MAP_A2)], [match(MAP_A2, TEAM_A, "g2")])
    assert p.remove_grants == [(TEAM_A, MAP_A1)]
    assert p.delete_memberships == set()
    assert p.changes == [Change("remove", TEAM_A, MAP_A1, None, None, "kept")]


def test_membership_justified_by_two_mappings_goes_when_both_are_lost():
    p = plan([held(TEAM_A, MAP_A1, MAP_A2)], [])
    assert p.delete_memberships == {TEAM_A}
    assert sorted(p.remove_grants) == [(TEAM_A, MAP_A1), (TEAM_A, MAP_A2)]
    assert {c.membership for c in p.changes} == {"deleted"}


def test_match_for_another_team_does_not_keep_a_lost_membership():
    p = plan([held(TEAM_A, MAP_A1)], [match(MAP_B, TEAM_B, "b")])
    assert p.delete_memberships == {TEAM_A}
    assert p.create_memberships == {TEAM_B}


def test_swap_of_mapping_within_a_team_keeps_membership():
    p = plan([held(TEAM_A, MAP_A1)], [match(MAP_A2, TEAM_A, "g2")])
    assert p.delete_memberships == set() and p.create_memberships == set()
    assert p.remove_grants == [(TEAM_A, MAP_A1)]
    assert p.add_grants == [match(MAP_A2, TEAM_A, "g2")]
    assert changes(p) == {
        ("remove", TEAM_A, MAP_A1, None, None, "kept"),
        ("add", TEAM_A, MAP_A2, "", "g2", "kept"),
    }


# --- plan(): manual memberships are never deleted -------------------------------------------


def test_manual_membership_without_grants_is_never_deleted():
    p = plan([held(TEAM_A, by_hand=True)], [])
    assert p.empty
    assert p.delete_memberships == set()
    assert p.changes == []


def test_manual_membership_losing_its_only_grant_is_kept():
    p = plan([held(TEAM_A, MAP_A1, by_hand=True)], [])
    assert p.remove_grants == [(TEAM_A, MAP_A1)]
    assert p.delete_memberships == set()
    assert p.changes == [Change("remove", TEAM_A, MAP_A1, None, None, "kept")]


def test_mixed_memberships_with_empty_matches_delete_only_sso_ones():
    p = plan([held(TEAM_A, by_hand=True), held(TEAM_B, MAP_B),
              held(TEAM_C, MAP_C, by_hand=True)], [])
    assert p.delete_memberships == {TEAM_B}
    assert sorted(p.remove_grants) == sorted([(TEAM_B, MAP_B), (TEAM_C, MAP_C)])


# --- plan_mapping_removal() ------------------------------------------------------------------


def test_mapping_removal_deletes_memberships_only_that_mapping_justified():
    users = {
        "u-only": held(TEAM_A, MAP_A1),
        "u-two": held(TEAM_A, MAP_A1, MAP_A2),
        "u-hand": held(TEAM_A, MAP_A1, by_hand=True),
        "u-other": held(TEAM_A, MAP_A2),
    }
    p = plan_mapping_removal(users, MAP_A1)
    assert p.delete_memberships == {"u-only"}
    assert sorted(p.remove_grants) == [("u-hand", MAP_A1), ("u-only", MAP_A1), ("u-two", MAP_A1)]
    by_user = dict(zip((u for u, _ in p.remove_grants), p.changes, strict=True))
    assert by_user["u-only"].membership == "deleted"
    assert by_user["u-two"].membership == "kept"
    assert by_user["u-hand"].membership == "kept"
    assert all(c.action == "remove" and c.mapping_mrn == MAP_A1 and c.team_mrn == TEAM_A
               for c in p.changes)
    assert p.add_grants == [] and p.create_memberships == set()


def test_mapping_removal_with_no_holders_is_empty():
    p = plan_mapping_removal({"u": held(TEAM_A, MAP_A2), "v": held(TEAM_A, by_hand=True)}, MAP_A1)
    assert p.empty and p.changes == [] and p.delete_memberships == set()


def test_mapping_removal_of_nobody():
    assert plan_mapping_removal({}, MAP_A1).empty
