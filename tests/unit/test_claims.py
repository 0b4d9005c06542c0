"""What a token's claims contribute to mappings (app.login.claims): pure."""

from __future__ import annotations

import pytest

from app.errors import SignInRefused
from app.login.claims import (
    GROUPS,
    MAX_VALUE_LENGTH,
    MAX_VALUES,
    ClaimValues,
    extract,
    is_groups_overage,
    refuse_overage,
)

BASE = {"iss": "https://idp.example", "aud": "client-1", "sub": "user-1", "exp": 2_000_000_000,
        "iat": 1_700_000_000}


def groups_of(values: ClaimValues) -> set[str]:
    return {v for c, v in values.pairs if c == GROUPS}


def claim_values(values: ClaimValues, claim: str) -> set[str]:
    return {v for c, v in values.pairs if c == claim}


# --- the groups claim ------------------------------------------------------------------------


def test_groups_list_becomes_group_pairs():
    v = extract({**BASE, "groups": ["a", "b"]}, "groups")
    assert v.groups_present is True
    assert groups_of(v) == {"a", "b"}


def test_single_string_counts_as_a_list_of_one():
    v = extract({**BASE, "groups": "admins"}, "groups")
    assert v.groups_present is True
    assert groups_of(v) == {"admins"}
    assert v == extract({**BASE, "groups": ["admins"]}, "groups")


def test_absent_groups_claim_is_not_present():
    v = extract(dict(BASE), "groups")
    assert v.groups_present is False
    assert groups_of(v) == set()


def test_empty_groups_list_is_present_but_empty():
    v = extract({**BASE, "groups": []}, "groups")
    assert v.groups_present is True
    assert groups_of(v) == set()


def test_groups_claim_of_another_shape_counts_as_absent():
    for bad in ({"x": 1}, 5, None, True, ["ok", 3]):
        v = extract({**BASE, "groups": bad}, "groups")
        assert v.groups_present is False, bad
        assert groups_of(v) == set(), bad


def test_configured_groups_claim_name_is_used():
    v = extract({**BASE, "roles": ["r1"], "groups": ["g1"]}, "roles")
    assert v.groups_present is True
    assert groups_of(v) == {"r1"}
    # "groups" is then an ordinary custom claim.
    assert claim_values(v, "groups") == {"g1"}


def test_values_are_kept_exactly():
    v = extract({**BASE, "groups": [" grp", "GRP", "grp "]}, "groups")
    assert groups_of(v) == {" grp", "GRP", "grp "}


def test_empty_string_values_are_ignored():
    v = extract({**BASE, "groups": ["", "a"]}, "groups")
    assert groups_of(v) == {"a"}
    assert v.groups_present is True


# --- token claims and other values -----------------------------------------------------------


@pytest.mark.parametrize("name", ["iss", "aud", "exp", "iat", "nbf", "azp", "nonce", "at_hash",
                                  "c_hash", "auth_time", "jti", "sid", "acr", "amr", "tid",
                                  "ver", "uti", "rh"])
def test_token_claims_are_never_values(name):
    v = extract({**BASE, name: "value-x", "groups": []}, "groups")
    assert all(c != name for c, _ in v.pairs)
    assert all(val != "value-x" for _, val in v.pairs)


def test_audience_and_issuer_are_not_values():
    v = extract({**BASE, "aud": ["client-1", "client-2"], "groups": ["g"]}, "groups")
    values = {val for _, val in v.pairs}
    assert "client-1" not in values and "client-2" not in values
    assert "https://idp.example" not in values
    assert {c for c, _ in v.pairs} == {GROUPS, "groups", "sub"}


def test_non_string_values_are_ignored():
    v = extract({**BASE, "groups": ["g"], "age": 42, "admin": True, "nested": {"a": "b"},
                 "mixed": ["x", 1], "nothing": None}, "groups")
    claims = {c for c, _ in v.pairs}
    assert not claims & {"age", "admin", "nested", "mixed", "nothing"}


def test_custom_claims_produce_claim_value_pairs():
    v = extract({**BASE, "groups": ["g"], "department": "security",
                 "teams": ["red", "blue"]}, "groups")
    assert ("department", "security") in v.pairs
    assert ("teams", "red") in v.pairs and ("teams", "blue") in v.pairs
    # A custom value is not a group.
    assert "security" not in groups_of(v)
    assert (GROUPS, "g") in v.pairs


def test_custom_claim_single_string_is_list_of_one():
    v = extract({**BASE, "department": "security"}, "groups")
    assert claim_values(v, "department") == {"security"}
    assert v.groups_present is False


# --- bounds ----------------------------------------------------------------------------------


def test_value_longer_than_max_is_ignored():
    ok = "a" * MAX_VALUE_LENGTH
    too_long = "b" * (MAX_VALUE_LENGTH + 1)
    v = extract({**BASE, "groups": [ok, too_long]}, "groups")
    assert groups_of(v) == {ok}


def test_at_most_max_values_pairs():
    groups = [f"g{i}" for i in range(MAX_VALUES + 500)]
    v = extract({**BASE, "groups": groups}, "groups")
    assert len(v.pairs) <= MAX_VALUES
    assert len(groups_of(v)) == MAX_VALUES
    assert v.groups_present is True


def test_groups_take_precedence_over_custom_claims_when_bounded():
    many = [f"c{i}" for i in range(MAX_VALUES)]
    v = extract({**BASE, "other": many, "groups": ["wanted"]}, "groups")
    assert (GROUPS, "wanted") in v.pairs
    assert len(v.pairs) <= MAX_VALUES


def test_two_hundred_groups_are_all_kept():
    groups = [f"group-{i:03d}" for i in range(200)]
    v = extract({**BASE, "groups": groups}, "groups")
    assert groups_of(v) == set(groups)


# --- ClaimValues round trip ------------------------------------------------------------------


def test_as_dict_and_from_dict_round_trip():
    v = extract({**BASE, "groups": ["b", "a"], "department": "sec"}, "groups")
    d = v.as_dict()
    assert d[GROUPS] == ["a", "b"]
    assert d["department"] == ["sec"]
    assert ClaimValues.from_dict(d) == v


def test_from_dict_without_groups_is_not_present():
    v = ClaimValues.from_dict({"department": ["sec"]})
    assert v.groups_present is False
    assert v.pairs == frozenset({("department", "sec")})


# --- Entra ID group overage ------------------------------------------------------------------

OVERAGE = {
    **BASE,
    "_claim_names": {"groups": "src1"},
    "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}},
}


def test_overage_detected():
    assert is_groups_overage(OVERAGE, "groups") is True


def test_no_overage_when_groups_present():
    assert is_groups_overage({**OVERAGE, "groups": ["g"]}, "groups") is False


def test_no_overage_without_claim_names():
    assert is_groups_overage(dict(BASE), "groups") is False
    assert is_groups_overage({**BASE, "_claim_names": "groups"}, "groups") is False


def test_no_overage_for_another_claim_name():
    assert is_groups_overage(OVERAGE, "roles") is False
    assert is_groups_overage({**BASE, "_claim_names": {"roles": "src1"}}, "groups") is False


def test_refuse_overage_names_cause_and_fix():
    with pytest.raises(SignInRefused) as caught:
        refuse_overage(OVERAGE, "groups")
    message = caught.value.message.lower()
    assert "overage" in message
    assert "groups" in message
    assert "_claim_sources" in message
    assert "assigned to the application" in message  # the fix at the provider
    assert caught.value.code == "SIGN_IN_REFUSED"
    assert caught.value.oauth_error == "invalid_request"


def test_refuse_overage_passes_normal_tokens():
    refuse_overage({**BASE, "groups": ["g"]}, "groups")
    refuse_overage(dict(BASE), "groups")


def test_overage_claims_are_never_values():
    v = extract(OVERAGE, "groups")
    assert v.groups_present is False
    assert all(c not in ("_claim_names", "_claim_sources") for c, _ in v.pairs)
