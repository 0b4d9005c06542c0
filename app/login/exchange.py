"""Token exchange (RFC 8693): an identity provider's ID token in, a teamclaims access token out.

At that moment the user's SSO team memberships are synced from the token's claims.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, exists, select, update
from sqlalchemy.exc import IntegrityError

from app.audit import LOGIN_HOOK, event, record_many
from app.clock import now
from app.db import (
    Database,
    Executor,
    advisory_lock,
    insert_or_ignore,
    is_foreign_key_violation,
    mappings_lock_key,
)
from app.errors import InvalidToken, SignInRefused
from app.login import claims as claim_rules
from app.login import idtoken
from app.login.jwks import KeyCache
from app.login.providers import MissingClaimPolicy
from app.login.store import (
    Holdings,
    apply_plan,
    held_memberships,
    keep_claims,
    matching_mappings,
)
from app.login.sync import Held, Match, Plan
from app.login.sync import plan as plan_sync
from app.mrn import user_mrn as make_user_mrn
from app.secrets import new_id
from app.sessions import access_token, open_session
from app.signing import KeyRing
from app.validation import has_control_characters
from models import LoginClaims, OidcProvider, Team, TeamMember, User

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
#: A sign-in whose transaction meets a concurrently deleted team runs again (then it is gone).
_ATTEMPTS = 3


class ExchangeError(Exception):
    """An RFC 6749 §5.2 error response."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Verified:
    provider: OidcProvider
    claims: dict[str, Any]


#: Built once: every sign-in runs it.
_PROVIDERS_OF_ISSUER = select(OidcProvider).where(OidcProvider.issuer == bindparam("issuer"))


async def find_provider(session: Executor, unverified: Mapping[str, Any]) -> OidcProvider:
    iss = unverified.get("iss")
    aud = unverified.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not isinstance(iss, str):
        raise InvalidToken("the ID token has no issuer ('iss')")
    rows = (await session.execute(_PROVIDERS_OF_ISSUER, {"issuer": iss})).scalars()
    candidates = [p for p in rows if p.audience in audiences]
    if not candidates:
        raise InvalidToken(
            f"no organization accepts ID tokens from issuer {iss!r} for audience {audiences}"
        )
    return candidates[0]  # (issuer, audience) is unique


async def verify(db: Database, keys: KeyCache, token: str) -> Verified:
    """Validate an ID token against the provider configured for its issuer and audience."""
    _, unverified = idtoken.unverified_header_and_claims(token)
    async with db.read() as session:
        provider = await find_provider(session, unverified)
    jwks_uri = provider.jwks_uri or await keys.jwks_uri(provider.issuer)
    expect = idtoken.Expectations(provider.issuer, provider.audience)
    try:
        claims = idtoken.validate(token, await keys.keys(jwks_uri), expect, time.time())
    except idtoken.UnknownKey as unknown:
        fresh = await keys.keys_after_unknown_kid(jwks_uri)
        try:
            if fresh is None:
                raise unknown
            claims = idtoken.validate(token, fresh, expect, time.time())
        except idtoken.UnknownKey:
            raise InvalidToken(
                f"the ID token is signed with key {unknown.kid!r}, which the provider's JWKS "
                "does not publish"
            ) from None
    return Verified(provider, claims)


def _text_claim(claims: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = claims.get(name)
    if not isinstance(value, str) or has_control_characters(value):
        return None
    return value.strip()[:limit] or None


async def _lock_identity(session: Executor, org: str, issuer: str, subject: str) -> None:
    """Serialise sign-ins of one identity, and hold off removals of the organization's mappings
    until this sign-in has written what it matched (PostgreSQL; SQLite serialises all writers)."""
    await advisory_lock(session, f"{org}\n{issuer}\n{subject}", shared=(mappings_lock_key(org),))


@dataclass(frozen=True)
class SigningIn:
    """The user a sign-in is for, as stored once the provider's claims are applied."""

    mrn: str
    email: str
    email_verified: bool
    #: Whether a pending membership names the email (read with the user: usually none).
    pending: bool


#: The sign-in's statements, built once: it runs them on every sign-in, and plain column
#: statements skip the ORM's per-object work (identity map, unit of work at flush).
#: Pending memberships by email alone: ix_team_member_pending_email holds only the few pending
#: rows, so this is one probe (joined to the organization's teams, SQLite without table
#: statistics would walk all of them instead). The organization is checked on what it finds.
_PENDING = select(TeamMember.id, TeamMember.team_mrn).where(
    TeamMember.pending_email == bindparam("email"))
#: The user, and whether any membership waits for the token's email: the usual answer, no, costs
#: no round trip of its own.
_FIND_USER = select(User.mrn, User.email, User.name, User.email_verified,
                    exists(_PENDING).label("pending")).where(
    User.org_mrn == bindparam("org"), User.issuer == bindparam("issuer"),
    User.subject == bindparam("subject"))
_UPDATE_USER = update(User).where(User.mrn == bindparam("user")).values(
    email=bindparam("email"), name=bindparam("name"), email_verified=bindparam("verified"),
    updated_at=bindparam("at"))
_STORED_CLAIMS = select(LoginClaims.claims).where(LoginClaims.user_mrn == bindparam("user"),
                                                 LoginClaims.org_mrn == bindparam("org"))
_TEAMS_IN_ORG = select(Team.mrn).where(Team.mrn.in_(bindparam("teams", expanding=True)),
                                       Team.org_mrn == bindparam("org"))


async def _upsert_user(session: Executor, org_mrn: str, issuer: str,
                       claims: Mapping[str, Any]) -> SigningIn:
    subject = claims["sub"]
    email = (_text_claim(claims, "email", 320) or "").casefold()
    name = _text_claim(claims, "name", 200)
    verified = bool(email) and email_verified(claims)
    key = {"org": org_mrn, "issuer": issuer, "subject": subject, "email": email}
    # Sign-ins of one identity run one at a time (_lock_identity): look first, insert if new.
    found = (await session.execute(_FIND_USER, key)).first()
    if found is None:
        user_id = new_id(8)
        await insert_or_ignore(session, User, [{
            "mrn": make_user_mrn(user_id), "id": user_id, "email": email, "name": name,
            "issuer": issuer, "subject": subject, "email_verified": verified, "org_mrn": org_mrn,
        }])
        found = (await session.execute(_FIND_USER, key)).one()
    mrn, stored_email, stored_name, stored_verified, pending = found
    if (email, name or stored_name, verified) != (stored_email, stored_name, stored_verified):
        # The provider is the source of truth for who the subject is now.
        await session.execute(_UPDATE_USER, {"user": mrn, "email": email,
                                             "name": name or stored_name, "verified": verified,
                                             "at": now()})
    return SigningIn(mrn, email, verified, bool(pending) and bool(email))


def email_verified(claims: Mapping[str, Any]) -> bool:
    return claims.get("email_verified") in (True, "true")


async def _claim_pending(session: Executor, user: SigningIn, org_mrn: str) -> None:
    """Pending memberships for this email become the user's, if the provider verified it."""
    if not user.pending or not user.email_verified:
        return
    pending = (await session.execute(_PENDING, {"email": user.email})).all()
    if pending:
        ours = set((await session.execute(_TEAMS_IN_ORG, {
            "teams": [team for _, team in pending], "org": org_mrn})).scalars())
        pending = [(pending_id, team) for pending_id, team in pending if team in ours]
    events = []
    for pending_id, team_mrn in pending:
        already = (await session.execute(select(TeamMember.id).where(
            TeamMember.team_mrn == team_mrn, TeamMember.user_mrn == user.mrn))).first()
        if already:
            await session.execute(update(TeamMember).where(TeamMember.id == already[0])
                                  .values(added_by_hand=True))
            await session.execute(delete(TeamMember).where(TeamMember.id == pending_id))
        else:
            await session.execute(update(TeamMember).where(TeamMember.id == pending_id)
                                  .values(user_mrn=user.mrn, pending_email=None))
        events.append(event(actor=LOGIN_HOOK, action="team_member.pending_claimed",
                            org_mrn=org_mrn, subject_mrn=user.mrn, target_mrn=team_mrn,
                            details={"email": user.email}))
    await record_many(session, events)


@dataclass(frozen=True)
class ClaimReading:
    """What a sign-in reads from the claims: the values, and whether sync is skipped (KEEP)."""

    values: claim_rules.ClaimValues
    keep: bool


def read_claims(claims: Mapping[str, Any], *, groups_claim: str,
                missing_claim: MissingClaimPolicy) -> ClaimReading:
    """The claim rules of a sign-in, before anything is written. Raises SignInRefused."""
    claim_rules.refuse_overage(claims, groups_claim)
    claim_rules.refuse_too_many_values(claims, groups_claim)
    values = claim_rules.extract(claims, groups_claim)
    if not values.groups_present and missing_claim is MissingClaimPolicy.FAIL:
        raise SignInRefused(
            f"the ID token has no {groups_claim!r} claim, so team memberships cannot be decided; "
            f"configure the identity provider to emit it (or set missingClaim to KEEP or CLEAR)"
        )
    return ClaimReading(values, not values.groups_present
                        and missing_claim is MissingClaimPolicy.KEEP)


@dataclass
class SyncDecision:
    """Everything a sign-in would change for a user, decided from the database as it is."""

    reading: ClaimReading
    matches: list[Match]
    plan: Plan
    holdings: Holdings

    @property
    def held(self) -> list[Held]:
        return self.holdings.held


async def decide_sync(session: Executor, *, user_mrn: str | None, org_mrn: str,
                      reading: ClaimReading) -> SyncDecision:
    """The one decision both a real sign-in and a dry run (explainAccess) make."""
    holdings = Holdings() if user_mrn is None else await held_memberships(
        session, user_mrn, org_mrn)
    matches = await matching_mappings(session, org_mrn, reading.values)
    plan = Plan() if reading.keep else plan_sync(holdings.held, matches)
    return SyncDecision(reading, matches, plan, holdings)


async def sign_in(db: Database, keys: KeyCache, ring: KeyRing, *, token: str, issuer: str,
                  ttl: int, on_plan: Callable[[Plan], None] | None = None) -> dict[str, Any]:
    """Validate, sync memberships, open a session; returns the RFC 8693 token response.

    ``on_plan`` sees the membership changes once they are committed (for metrics).
    """
    verified = await verify(db, keys, token)
    provider, claims = verified.provider, verified.claims
    reading = read_claims(claims, groups_claim=provider.groups_claim,
                          missing_claim=MissingClaimPolicy(provider.missing_claim))
    for attempt in range(_ATTEMPTS):
        try:
            async with db.statements() as session:
                decision, row = await _sync_and_open_session(
                    session, provider=provider, claims=claims, reading=reading, ttl=ttl)
            break
        except IntegrityError as exc:
            # A team deleted while this sign-in added the user to it: decide again.
            if attempt + 1 == _ATTEMPTS or not is_foreign_key_violation(exc):
                raise
    if on_plan is not None:
        on_plan(decision.plan)
    return {
        "access_token": access_token(ring, row, issuer=issuer),
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": ttl,
    }


async def _sync_and_open_session(
    session: Executor, *, provider: OidcProvider, claims: Mapping[str, Any],
    reading: ClaimReading, ttl: int,
) -> tuple[SyncDecision, Any]:
    org = provider.org_mrn
    await _lock_identity(session, org, provider.issuer, claims["sub"])
    user = await _upsert_user(session, org, provider.issuer, claims)
    await _claim_pending(session, user, org)
    values = reading.values
    if reading.keep:
        stored = (await session.execute(_STORED_CLAIMS, {"user": user.mrn, "org": org})).scalar()
        previous = json.loads(stored) if stored is not None else {}
        if claim_rules.GROUPS in previous:
            values = claim_rules.ClaimValues(
                values.pairs | {(claim_rules.GROUPS, v) for v in previous[claim_rules.GROUPS]},
                True,
            )
    decision = await decide_sync(session, user_mrn=user.mrn, org_mrn=org, reading=reading)
    await keep_claims(session, user_mrn=user.mrn, org_mrn=org, claims=values.document)
    row = await open_session(session, user_mrn=user.mrn, org_mrn=org, ttl_seconds=ttl)
    # The membership changes and the session's own audit row go in one batch.
    await apply_plan(session, user_mrn=user.mrn, org_mrn=org, plan=decision.plan,
                     holdings=decision.holdings, also_audit=[event(
                         actor=LOGIN_HOOK, action="session.opened", org_mrn=org,
                         subject_mrn=user.mrn, target_mrn=row.id)])
    return decision, row


def check_form(form: Mapping[str, str]) -> str:
    """The subject token of a well-formed exchange request, or an RFC 6749 error."""
    grant = form.get("grant_type")
    if grant != GRANT_TYPE:
        raise ExchangeError("unsupported_grant_type",
                            f"grant_type must be {GRANT_TYPE}")
    token_type = form.get("subject_token_type")
    if token_type != ID_TOKEN_TYPE:
        raise ExchangeError("invalid_request",
                            f"subject_token_type must be {ID_TOKEN_TYPE}")
    if form.get("actor_token"):
        raise ExchangeError("invalid_request", "delegation (actor_token) is not supported")
    requested = form.get("requested_token_type")
    if requested and requested != ACCESS_TOKEN_TYPE:
        raise ExchangeError("invalid_request",
                            f"requested_token_type can only be {ACCESS_TOKEN_TYPE}")
    token = form.get("subject_token")
    if not token:
        raise ExchangeError("invalid_request", "subject_token is required")
    return token
