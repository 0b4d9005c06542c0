"""An email names a user only when that user's own identity provider verified it.

Otherwise anyone whose provider lets them claim an arbitrary, unverified email could sign in
first and receive the memberships and roles meant for the mailbox's owner.
"""

from __future__ import annotations

import secrets

from tests.integration.harness import Org, Server

ADD = """mutation($i: AddTeamMemberInput!) { addTeamMember(input: $i) { createdPending memberMrn } }"""
SET_ROLES = "mutation($i: SetRolesInput!) { setRoles(input: $i) { mrns } }"
CREATE_TEAM = "mutation($i: CreateTeamInput!) { createTeam(input: $i) { mrn } }"


def email() -> str:
    return f"person.{secrets.token_hex(4)}@example.com"


async def team(server: Server, org: Org) -> str:
    return (await server.ok(CREATE_TEAM, {"i": {"name": "T", "scopeMrn": org.mrn}},
                            token=org.token))["createTeam"]["mrn"]


async def test_unverified_email_stays_pending(server: Server, org: Org) -> None:
    address = email()
    await server.create_user(address, signed_in_to=org.mrn, email_verified=False)
    t = await team(server, org)
    added = (await server.ok(ADD, {"i": {"teamMrn": t, "email": address}}, token=org.token))
    assert added["addTeamMember"] == {"createdPending": True, "memberMrn": None}


async def test_email_verified_only_in_another_organization_stays_pending(
    server: Server, org: Org
) -> None:
    other = await server.new_org()
    address = email()
    await server.create_user(address, signed_in_to=other.mrn, email_verified=True)
    t = await team(server, org)
    added = (await server.ok(ADD, {"i": {"teamMrn": t, "email": address}}, token=org.token))
    assert added["addTeamMember"] == {"createdPending": True, "memberMrn": None}


async def test_verified_email_of_this_organization_names_the_user(server: Server, org: Org) -> None:
    address = email()
    user = await server.create_user(address, signed_in_to=org.mrn, email_verified=True)
    t = await team(server, org)
    added = (await server.ok(ADD, {"i": {"teamMrn": t, "email": address}}, token=org.token))
    assert added["addTeamMember"] == {"createdPending": False, "memberMrn": user}


async def test_set_roles_by_unverified_email_is_not_found(server: Server, org: Org) -> None:
    address = email()
    await server.create_user(address, signed_in_to=org.mrn, email_verified=False)
    before = await server.snapshot()
    err = await server.error(SET_ROLES, {"i": {"scopeMrn": org.mrn, "identity": address,
                                               "roles": ["viewer"]}}, token=org.token)
    assert err["code"] == "NOT_FOUND"
    assert await server.snapshot() == before
