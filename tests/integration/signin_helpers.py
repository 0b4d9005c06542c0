"""Shared set-up for sign-in tests: an organization with a provider, teams and mappings."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx

from tests.integration.harness import Org, Server
from tests.integration.oidc import Provider, exchange

SET_PROVIDER = """mutation($i: SetOidcProviderInput!) {
  setOidcProvider(input: $i) { orgMrn issuer audience groupsClaim missingClaim } }"""
CREATE_TEAM = "mutation($i: CreateTeamInput!) { createTeam(input: $i) { mrn } }"
ADD_MAPPING = """mutation($i: AddTeamExternalGroupMappingInput!) {
  addTeamExternalGroupMapping(input: $i) { mrn externalId claim } }"""
VIEWER = "{ viewer { mrn email name teams { mrn name } } }"


@dataclass
class SignInOrg:
    server: Server
    provider: Provider
    org: Org
    audience: str

    async def configure(self, **extra) -> dict:
        return (await self.server.ok(SET_PROVIDER, {"i": {
            "orgMrn": self.org.mrn, "issuer": self.provider.issuer, "audience": self.audience,
            **extra}}, token=self.org.token))["setOidcProvider"]

    async def team(self, team_id: str, roles: list[str] | None = None) -> str:
        inp = {"id": team_id, "name": team_id.replace("-", " ").title(), "scopeMrn": self.org.mrn}
        if roles:
            inp["roles"] = roles
        return (await self.server.ok(CREATE_TEAM, {"i": inp}, token=self.org.token))[
            "createTeam"]["mrn"]

    async def map(self, team_mrn: str, external_id: str, claim: str | None = None) -> str:
        inp = {"teamMrn": team_mrn, "externalId": external_id}
        if claim:
            inp["claim"] = claim
        return (await self.server.ok(ADD_MAPPING, {"i": inp}, token=self.org.token))[
            "addTeamExternalGroupMapping"]["mrn"]

    def id_token(self, sub: str, **claims) -> str:
        return self.provider.token({"sub": sub, "aud": self.audience, **claims})

    async def sign_in(self, sub: str, **claims) -> httpx.Response:
        return await self.exchange(self.id_token(sub, **claims))

    async def exchange(self, id_token: str, **extra: str) -> httpx.Response:
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                "subject_token": id_token,
                "subject_token_type": "urn:ietf:params:oauth:token-type:id_token", **extra}
        return await self.server.client.post(f"{self.server.base_url}/auth/token", data=form)

    async def access_token(self, sub: str, **claims) -> str:
        resp = await self.sign_in(sub, **claims)
        assert resp.status_code == 200, resp.text
        return resp.json()["access_token"]

    async def teams_of(self, access_token: str) -> set[str]:
        data = await self.server.ok(VIEWER, token=access_token)
        return {t["mrn"] for t in data["viewer"]["teams"]}


async def new_signin_org(server: Server, provider: Provider) -> SignInOrg:
    org = await server.new_org()
    s = SignInOrg(server, provider, org, f"client-{secrets.token_hex(4)}")
    await s.configure()
    return s


__all__ = ["SignInOrg", "new_signin_org", "exchange"]
