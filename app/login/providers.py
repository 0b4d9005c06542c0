"""Identity-provider configuration per organization: set, read, remove."""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlparse

from sqlalchemy import select

from app.access import access_for, load_scope
from app.audit import record
from app.authz import Action
from app.clock import now
from app.db import Database, add_unique
from app.errors import AlreadyExists, InvalidArgument, NotFound
from app.mrn import ScopeKind, parse_scope
from app.principals import Principal
from app.validation import check_name, has_control_characters
from models import OidcProvider


class MissingClaimPolicy(StrEnum):
    """What a sign-in does when the token has no groups claim at all."""

    FAIL = "FAIL"  # refuse the sign-in and change nothing
    KEEP = "KEEP"  # sign in; leave the SSO memberships as they are
    CLEAR = "CLEAR"  # sign in; remove the SSO memberships (as an empty list would)


def _check_url(value: str, field: str) -> str:
    value = (value or "").strip()
    if len(value) > 400 or has_control_characters(value):
        raise InvalidArgument(f"{field} must be a URL of at most 400 characters", field=field)
    parsed = urlparse(value)
    if parsed.scheme not in ("https", "http") or not parsed.netloc or parsed.fragment:
        raise InvalidArgument(f"{field} {value!r} must be an http(s) URL", field=field)
    return value


def _org_ref(org_mrn: str):
    ref = parse_scope(org_mrn, field="orgMrn")
    if ref.kind is not ScopeKind.ORGANIZATION:
        raise InvalidArgument(
            f"orgMrn {org_mrn!r} must be an organization MRN "
            "(//captain.api.mondoo.app/organizations/ORG-ID)", field="orgMrn",
        )
    return ref


async def set_provider(
    db: Database, principal: Principal, *, org_mrn: str, issuer: str, audience: str,
    groups_claim: str = "groups", jwks_uri: str | None = None,
    missing_claim: MissingClaimPolicy = MissingClaimPolicy.FAIL,
) -> OidcProvider:
    ref = _org_ref(org_mrn)
    issuer = _check_url(issuer, "issuer")
    audience = check_name(audience, "audience")
    groups_claim = check_name(groups_claim, "groupsClaim")
    jwks_uri = _check_url(jwks_uri, "jwksUri") if jwks_uri else None
    async with db.transaction() as session:
        access = await access_for(session, principal)
        org = await load_scope(session, ref.mrn)
        access.require(Action.SET_ROLES, org, f"organization {ref.mrn} not found")
        clash = (await session.execute(
            select(OidcProvider.org_mrn).where(
                OidcProvider.issuer == issuer, OidcProvider.audience == audience,
                OidcProvider.org_mrn != ref.mrn,
            )
        )).first()
        conflict = (f"another organization already signs in with issuer {issuer!r} and audience "
                    f"{audience!r}: register a separate application (client id) at the provider")
        if clash:
            raise AlreadyExists(conflict)
        row = await session.get(OidcProvider, ref.mrn)
        before = _view(row) if row else None
        if row is None:
            row = OidcProvider(org_mrn=ref.mrn, issuer=issuer, audience=audience,
                               groups_claim=groups_claim, jwks_uri=jwks_uri,
                               missing_claim=missing_claim.value)
            await add_unique(session, row, conflict)
        else:
            row.issuer, row.audience, row.groups_claim = issuer, audience, groups_claim
            row.jwks_uri, row.missing_claim, row.updated_at = jwks_uri, missing_claim.value, now()
            session.add(row)
            await session.flush()
        record(session, actor=principal.mrn, action="oidc_provider.set", org_mrn=ref.mrn,
               target_mrn=ref.mrn, details={"before": before, "after": _view(row)})
        return row


def _view(row: OidcProvider) -> dict:
    return {"issuer": row.issuer, "audience": row.audience, "groupsClaim": row.groups_claim,
            "jwksUri": row.jwks_uri, "missingClaim": row.missing_claim}


async def get_provider(db: Database, principal: Principal, *, org_mrn: str) -> OidcProvider | None:
    ref = _org_ref(org_mrn)
    async with db.read() as session:
        access = await access_for(session, principal)
        if not access.can_read(await load_scope(session, ref.mrn)):
            return None
        return await session.get(OidcProvider, ref.mrn)


async def remove_provider(db: Database, principal: Principal, *, org_mrn: str) -> bool:
    ref = _org_ref(org_mrn)
    async with db.transaction() as session:
        access = await access_for(session, principal)
        access.require(Action.SET_ROLES, await load_scope(session, ref.mrn),
                       f"organization {ref.mrn} not found")
        row = await session.get(OidcProvider, ref.mrn)
        if row is None:
            raise NotFound(f"organization {ref.mrn} has no identity provider")
        record(session, actor=principal.mrn, action="oidc_provider.removed", org_mrn=ref.mrn,
               target_mrn=ref.mrn, details={"before": _view(row)})
        await session.delete(row)
        return True
