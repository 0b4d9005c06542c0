"""Operator set-up from the command line: an organization and a first API token."""

from __future__ import annotations

from app.db import Database
from app.mrn import PLATFORM_MRN, check_id, org_mrn
from app.scopes import create_organization_unchecked
from app.tokens import IssuedToken, issue_token_unchecked
from models import Scope


async def bootstrap_org(db: Database, *, org_id: str, name: str | None) -> tuple[Scope, bool, IssuedToken]:
    """Create the organization if it does not exist; issue an owner token for it.

    Returns the organization, whether it was created now, and the token.
    """
    mrn = org_mrn(check_id(org_id, "organization id"))
    async with db.transaction() as session:
        org = await session.get(Scope, mrn)
        created = org is None
        if org is None:
            org = await create_organization_unchecked(session, org_id=org_id, name=name or org_id)
        token = await issue_token_unchecked(
            session, scope=org, name="bootstrap", roles=["owner"],
            description="Created by `teamclaims bootstrap`", created_by="cli:bootstrap",
        )
        return org, created, token


async def bootstrap_platform_admin(db: Database) -> IssuedToken:
    async with db.transaction() as session:
        platform = await session.get(Scope, PLATFORM_MRN)
        if platform is None:
            raise RuntimeError("the database is not migrated: run `teamclaims migrate` first")
        return await issue_token_unchecked(
            session, scope=platform, name="platform-admin", roles=["platform-admin"],
            description="Created by `teamclaims bootstrap --platform-admin`",
            created_by="cli:bootstrap",
        )
