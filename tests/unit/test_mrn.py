"""Unit tests for app.mrn: MRN parsing/formatting and the team-id rule. Pure, no I/O."""

from __future__ import annotations

import pytest

from app import mrn
from app.errors import AppError, InvalidArgument
from app.mrn import (
    CAPTAIN,
    IAM,
    ID_RULE,
    PLATFORM_MRN,
    ScopeKind,
    ScopeRef,
    TeamRef,
    check_id,
    is_valid_id,
    org_mrn,
    parse_scope,
    parse_team,
    parse_team_owner_scope,
    space_mrn,
    team_mrn,
    workspace_mrn,
)

ORG = "//captain.api.mondoo.app/organizations/acme-corp"
SPACE = "//captain.api.mondoo.app/spaces/infra-space"
WORKSPACE = "//captain.api.mondoo.app/spaces/infra-space/workspaces/vms-01"
ORG_TEAM = "//captain.api.mondoo.app/organizations/acme-corp/teams/security-viewers"
SPACE_TEAM = "//captain.api.mondoo.app/spaces/infra-space/teams/space-editors"

SCOPE_FORMS = (
    "//captain.api.mondoo.app/organizations/ORG-ID",
    "//captain.api.mondoo.app/spaces/SPACE-ID",
    "//captain.api.mondoo.app/spaces/SPACE-ID/workspaces/WORKSPACE-ID",
)
TEAM_FORMS = (
    "//captain.api.mondoo.app/organizations/ORG-ID/teams/TEAM-ID",
    "//captain.api.mondoo.app/spaces/SPACE-ID/teams/TEAM-ID",
)


def assert_invalid(exc_info: pytest.ExceptionInfo[InvalidArgument], *fragments: str) -> None:
    err = exc_info.value
    assert isinstance(err, InvalidArgument)
    assert isinstance(err, AppError)
    assert err.code == "INVALID_ARGUMENT"
    assert err.extensions()["code"] == "INVALID_ARGUMENT"
    assert str(err) == err.message
    for fragment in fragments:
        assert fragment in err.message, f"{fragment!r} not in {err.message!r}"


# --------------------------------------------------------------------------- constants


def test_hosts_and_platform_mrn() -> None:
    assert CAPTAIN == "//captain.api.mondoo.app"
    assert IAM == "//iam.api.mondoo.app"
    assert PLATFORM_MRN == CAPTAIN


# --------------------------------------------------------------------------- formatting


def test_formatters_produce_the_documented_forms() -> None:
    assert org_mrn("acme-corp") == ORG
    assert space_mrn("infra-space") == SPACE
    assert workspace_mrn("infra-space", "vms-01") == WORKSPACE
    assert team_mrn(ORG, "security-viewers") == ORG_TEAM
    assert team_mrn(SPACE, "space-editors") == SPACE_TEAM
    assert mrn.user_mrn("u-1234") == "//captain.api.mondoo.app/users/u-1234"
    assert mrn.role_mrn("editor") == "//iam.api.mondoo.app/roles/editor"
    assert mrn.api_token_mrn(ORG, "tok1") == ORG + "/apitokens/tok1"


# --------------------------------------------------------------------------- parse_scope


def test_parse_scope_organization() -> None:
    ref = parse_scope(ORG)
    assert ref == ScopeRef(ScopeKind.ORGANIZATION, ORG, org_id="acme-corp")
    assert ref.kind is ScopeKind.ORGANIZATION
    assert ref.id == "acme-corp"
    assert ref.space_id is None and ref.workspace_id is None


def test_parse_scope_space() -> None:
    ref = parse_scope(SPACE)
    assert ref == ScopeRef(ScopeKind.SPACE, SPACE, space_id="infra-space")
    assert ref.kind is ScopeKind.SPACE
    assert ref.id == "infra-space"
    assert ref.org_id is None and ref.workspace_id is None


def test_parse_scope_workspace() -> None:
    ref = parse_scope(WORKSPACE)
    assert ref.kind is ScopeKind.WORKSPACE
    assert ref.mrn == WORKSPACE
    assert ref.space_id == "infra-space"
    assert ref.workspace_id == "vms-01"
    assert ref.org_id is None
    assert ref.id == "vms-01"


def test_scope_ref_is_immutable() -> None:
    ref = parse_scope(ORG)
    with pytest.raises(AttributeError):
        ref.org_id = "other"  # type: ignore[misc]


def test_parse_scope_strips_surrounding_whitespace_and_returns_clean_mrn() -> None:
    ref = parse_scope(f"  {ORG}\n")
    assert ref.kind is ScopeKind.ORGANIZATION
    assert ref.mrn == ORG
    assert ref.org_id == "acme-corp"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "acme-corp",
        "organizations/acme-corp",
        "/captain.api.mondoo.app/organizations/acme-corp",  # one slash
        "https://captain.api.mondoo.app/organizations/acme-corp",
        "//iam.api.mondoo.app/organizations/acme-corp",  # wrong host
        "//CAPTAIN.api.mondoo.app/organizations/acme-corp",  # host is case-sensitive
        "//captain.api.mondoo.com/organizations/acme-corp",  # wrong domain
        "//captain.api.mondoo.app/organization/acme-corp",  # singular collection
        "//captain.api.mondoo.app/Organizations/acme-corp",
        "//captain.api.mondoo.app/orgs/acme-corp",
        "//captain.api.mondoo.app/organizations/",  # empty id
        "//captain.api.mondoo.app/organizations",
        "//captain.api.mondoo.app/spaces/",
        "//captain.api.mondoo.app/spaces//workspaces/vms-01",  # empty space id
        "//captain.api.mondoo.app/spaces/infra-space/workspaces/",  # empty workspace id
        "//captain.api.mondoo.app/organizations/acme-corp/",  # trailing slash
        "//captain.api.mondoo.app/organizations/acme-corp/extra",  # extra segment
        "//captain.api.mondoo.app/organizations/acme-corp/spaces/infra-space",
        "//captain.api.mondoo.app/organizations/acme-corp/workspaces/vms-01",
        "//captain.api.mondoo.app/spaces/infra-space/workspaces/vms-01/extra",
        "//captain.api.mondoo.app/spaces/infra-space/workspaces/vms-01/teams/t-team",
        ORG_TEAM,  # a team is not a scope
        SPACE_TEAM,
        "//captain.api.mondoo.app/users/u-1234",  # a user is not a scope
        "//captain.api.mondoo.app",  # the platform itself is not accepted as a scope
        "//captain.api.mondoo.app/organizations/acme corp",  # whitespace inside the id
        "//captain.api.mondoo.app/organizations/acme\tcorp",
        "//captain.api.mondoo.app/spaces/infra space/workspaces/vms-01",
        "//captain.api.mondoo.app/spaces/infra-space/workspaces/vms 01",
        "//captain.api.mondoo.app /organizations/acme-corp",
    ],
)
def test_parse_scope_rejects_malformed(bad: str) -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        parse_scope(bad)
    assert_invalid(exc_info, "malformed scopeMrn", *SCOPE_FORMS)
    assert exc_info.value.details == {"field": "scopeMrn"}


def test_parse_scope_none_is_malformed_not_a_crash() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        parse_scope(None)  # type: ignore[arg-type]
    assert_invalid(exc_info, "malformed scopeMrn")


def test_parse_scope_quotes_the_input_and_uses_the_given_field_name() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        parse_scope("//captain.api.mondoo.app/nope/x", field="spaceMrn")
    assert_invalid(exc_info, "malformed spaceMrn", "'//captain.api.mondoo.app/nope/x'")
    assert exc_info.value.details["field"] == "spaceMrn"
    assert exc_info.value.extensions() == {"code": "INVALID_ARGUMENT", "field": "spaceMrn"}


# --------------------------------------------------------------------------- parse_team_owner_scope


def test_team_owner_scope_accepts_org_and_space() -> None:
    assert parse_team_owner_scope(ORG) == parse_scope(ORG)
    assert parse_team_owner_scope(SPACE) == parse_scope(SPACE)


def test_team_owner_scope_rejects_workspace() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        parse_team_owner_scope(WORKSPACE)
    assert_invalid(
        exc_info,
        "not a workspace",
        WORKSPACE,
        "//captain.api.mondoo.app/organizations/ORG-ID",
        "//captain.api.mondoo.app/spaces/SPACE-ID",
    )
    assert exc_info.value.details == {"field": "scopeMrn"}


def test_team_owner_scope_rejects_malformed_with_scope_forms() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        parse_team_owner_scope("//evil.example.com/organizations/acme-corp")
    assert_invalid(exc_info, "malformed scopeMrn", *SCOPE_FORMS)


def test_team_owner_scope_custom_field() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        parse_team_owner_scope(WORKSPACE, field="spaceMrn")
    assert exc_info.value.details == {"field": "spaceMrn"}
    assert "spaceMrn" in exc_info.value.message


# --------------------------------------------------------------------------- parse_team


def test_parse_team_in_org() -> None:
    ref = parse_team(ORG_TEAM)
    assert isinstance(ref, TeamRef)
    assert ref.mrn == ORG_TEAM
    assert ref.team_id == "security-viewers"
    assert ref.scope == ScopeRef(ScopeKind.ORGANIZATION, ORG, org_id="acme-corp")


def test_parse_team_in_space() -> None:
    ref = parse_team(SPACE_TEAM)
    assert ref.mrn == SPACE_TEAM
    assert ref.team_id == "space-editors"
    assert ref.scope.kind is ScopeKind.SPACE
    assert ref.scope.mrn == SPACE
    assert ref.scope.space_id == "infra-space"


def test_parse_team_strips_surrounding_whitespace() -> None:
    assert parse_team(f"\t{ORG_TEAM}  ").mrn == ORG_TEAM


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "security-viewers",
        ORG,  # a scope, not a team
        SPACE,
        WORKSPACE,
        "//captain.api.mondoo.app/spaces/infra-space/workspaces/vms-01/teams/t-team",  # no teams in workspaces
        "//captain.api.mondoo.app/teams/security-viewers",
        "//iam.api.mondoo.app/organizations/acme-corp/teams/security-viewers",  # wrong host
        "//captain.api.mondoo.com/organizations/acme-corp/teams/security-viewers",
        "//captain.api.mondoo.app/organizations/acme-corp/teams/",  # empty team id
        "//captain.api.mondoo.app/organizations//teams/security-viewers",  # empty org id
        "//captain.api.mondoo.app/organizations/acme-corp/teams/security-viewers/",
        "//captain.api.mondoo.app/organizations/acme-corp/teams/security-viewers/extra",
        "//captain.api.mondoo.app/organizations/acme-corp/team/security-viewers",
        "//captain.api.mondoo.app/organizations/acme-corp/teams/security viewers",
        "//captain.api.mondoo.app/organizations/acme corp/teams/security-viewers",
        "//captain.api.mondoo.app/users/u-1234",
        "//captain.api.mondoo.app/organizations/acme-corp/apitokens/tok1",
    ],
)
def test_parse_team_rejects_malformed(bad: str) -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        parse_team(bad)
    assert_invalid(exc_info, "malformed teamMrn", *TEAM_FORMS)
    assert exc_info.value.details == {"field": "teamMrn"}


def test_parse_team_custom_field() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        parse_team("nope", field="identity")
    assert_invalid(exc_info, "malformed identity", "'nope'")
    assert exc_info.value.details == {"field": "identity"}


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("org_id", ["acme-corp", "a_1b", "0000", "x" * 64])
def test_org_round_trip(org_id: str) -> None:
    ref = parse_scope(org_mrn(org_id))
    assert (ref.kind, ref.org_id, ref.mrn) == (ScopeKind.ORGANIZATION, org_id, org_mrn(org_id))


@pytest.mark.parametrize("space_id", ["infra-space", "s_1234", "9" * 64])
def test_space_round_trip(space_id: str) -> None:
    ref = parse_scope(space_mrn(space_id))
    assert (ref.kind, ref.space_id, ref.mrn) == (ScopeKind.SPACE, space_id, space_mrn(space_id))
    assert space_mrn(ref.space_id) == ref.mrn


def test_workspace_round_trip() -> None:
    ref = parse_scope(workspace_mrn("infra-space", "vms-01"))
    assert ref.kind is ScopeKind.WORKSPACE
    assert workspace_mrn(ref.space_id, ref.workspace_id) == ref.mrn  # type: ignore[arg-type]


@pytest.mark.parametrize("scope", [ORG, SPACE])
@pytest.mark.parametrize("team_id", ["security-viewers", "_ops", "t123", "a" * 64])
def test_team_round_trip(scope: str, team_id: str) -> None:
    full = team_mrn(scope, team_id)
    ref = parse_team(full)
    assert ref.mrn == full
    assert ref.team_id == team_id
    assert ref.scope.mrn == scope
    assert team_mrn(ref.scope.mrn, ref.team_id) == full


# --------------------------------------------------------------------------- predicates


def test_is_team_mrn() -> None:
    assert mrn.is_team_mrn(ORG_TEAM)
    assert mrn.is_team_mrn(SPACE_TEAM)
    assert not mrn.is_team_mrn(ORG)
    assert not mrn.is_team_mrn(WORKSPACE + "/teams/x-team")
    assert not mrn.is_team_mrn(ORG_TEAM + "/")


def test_is_user_mrn() -> None:
    assert mrn.is_user_mrn("//captain.api.mondoo.app/users/u-1234")
    assert not mrn.is_user_mrn("//captain.api.mondoo.app/users/")
    assert not mrn.is_user_mrn("//captain.api.mondoo.app/users/a/b")
    assert not mrn.is_user_mrn("//iam.api.mondoo.app/users/u-1234")
    assert not mrn.is_user_mrn(ORG_TEAM)


def test_is_api_token_mrn() -> None:
    assert mrn.is_api_token_mrn(ORG + "/apitokens/tok1")
    assert mrn.is_api_token_mrn(SPACE + "/apitokens/tok1")
    assert mrn.is_api_token_mrn(CAPTAIN + "/apitokens/tok1")
    assert not mrn.is_api_token_mrn(ORG + "/apitokens/")
    assert not mrn.is_api_token_mrn(ORG + "/apitokens/tok1/x")
    assert not mrn.is_api_token_mrn(ORG_TEAM)


def test_looks_like_mrn() -> None:
    assert mrn.looks_like_mrn(ORG)
    assert mrn.looks_like_mrn("//anything")
    assert not mrn.looks_like_mrn("alice@example.com")
    assert not mrn.looks_like_mrn("/captain.api.mondoo.app/users/x")


def test_identity_forms_names_every_identity_kind() -> None:
    for fragment in ("teams/TEAM-ID", "users/USER-ID", "apitokens/TOKEN-ID", "email"):
        assert fragment in mrn.IDENTITY_FORMS


# --------------------------------------------------------------------------- the id rule


def test_id_rule_text_matches_the_spec() -> None:
    assert "4 to 64 characters" in ID_RULE
    for word in (
        "lowercase letters",
        "digits",
        "dashes",
        "underscores",
        "not starting with a dash",
    ):
        assert word in ID_RULE


@pytest.mark.parametrize(
    "value",
    [
        "abcd",  # 4: minimum
        "a" * 64,  # 64: maximum
        "security-viewers",
        "space_editors",
        "_leading-underscore",
        "_abc",
        "1abc",  # leading digit allowed
        "0000",
        "a-b-c",
        "a--b",
        "abc-",  # trailing dash is fine
        "abc_",
        "a1-_",
        "____",
        "-".join(["ab"] * 21),  # 62 chars with many dashes
    ],
)
def test_valid_ids(value: str) -> None:
    assert is_valid_id(value)
    assert check_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "a",
        "abc",  # 3: too short
        "a" * 65,  # 65: too long
        "a" * 200,
        "ABCD",
        "Abcd",
        "abcD",
        "-abc",  # leading dash
        "----",
        "-" + "a" * 10,
        "ab cd",  # space
        " abcd",
        "abcd ",
        "abcd\n",  # trailing newline must not sneak past `$`
        "\nabcd",
        "ab\tcd",
        "abçd",  # unicode letter
        "äbcd",
        "abcdé",
        "abc\u0430",  # Cyrillic a
        "ab\u00a0cd",  # no-break space
        "\uff41bcd",  # fullwidth a
        "abc\u0661",  # Arabic-Indic digit one
        "ab.cd",
        "ab/cd",
        "ab:cd",
        "ab@cd",
        "ab+cd",
    ],
)
def test_invalid_ids(value: str) -> None:
    assert not is_valid_id(value)
    with pytest.raises(InvalidArgument) as exc_info:
        check_id(value)
    assert_invalid(exc_info, ID_RULE, repr(value))
    assert exc_info.value.details == {"field": "id"}


def test_boundary_lengths_exactly() -> None:
    assert [is_valid_id("a" * n) for n in (3, 4, 64, 65)] == [False, True, True, False]
    assert [is_valid_id("_" + "1" * (n - 1)) for n in (3, 4, 64, 65)] == [False, True, True, False]


def test_check_id_names_what_was_checked() -> None:
    with pytest.raises(InvalidArgument) as exc_info:
        check_id("BAD", what="team id")
    assert exc_info.value.message == f"invalid team id 'BAD': it must be {ID_RULE}"


# --------------------------------------------------------------------------- email shape


@pytest.mark.parametrize(
    "value", ["alice@example.com", "a.b+tag@sub.example.co.uk", "x@y.z", "ALICE@EXAMPLE.COM"]
)
def test_is_email_accepts(value: str) -> None:
    assert mrn.is_email(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "alice",
        "alice@",
        "@example.com",
        "alice@example",
        "alice@@example.com",
        "alice@exa@mple.com",
        "al ice@example.com",
        "alice@example.com ",
        "alice@exa/mple.com",
        "//captain.api.mondoo.app/users/alice@example.com",
    ],
)
def test_is_email_rejects(value: str) -> None:
    assert not mrn.is_email(value)
