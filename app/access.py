"""Loads what the permission decisions in ``app.authz`` need, and enforces them.

A change decides inside its own transaction, on the bindings read there, as they are at that
moment; a read decides on the bindings read with the caller's credentials in the same request
(``access_for``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app import authz
from app.authz import Action, Grant, Grants, Verdict
from app.db import Executor
from app.errors import Forbidden, NotFound
from app.principals import GRANTS, Principal
from app.roles import CATALOGUE
from models import Scope


def chain_of(scope: Scope) -> tuple[str, ...]:
    """The scope, then the scopes whose bindings it inherits (space, organization)."""
    chain = [scope.mrn]
    for parent in (scope.space_mrn, scope.org_mrn):
        if parent and parent not in chain:
            chain.append(parent)
    return tuple(chain)


async def load_scope(session: AsyncSession, mrn: str) -> Scope | None:
    return await session.get(Scope, mrn)


async def load_grants(session: AsyncSession, identity_mrn: str) -> dict[str, frozenset[str]]:
    """Roles bound to an identity and, for a user, to every team it belongs to, by scope."""
    rows = (await session.execute(GRANTS, {"identity": identity_mrn})).all()
    return authz.grants_from(rows)


@dataclass
class Access:
    """The caller's grants, loaded once per operation."""

    principal: Principal
    grants: Grants

    def roles_on(self, scope: Scope) -> frozenset[str]:
        if not self._same_org(scope):
            return frozenset()
        return authz.roles_on(self.grants, chain_of(scope))

    def _same_org(self, scope: Scope) -> bool:
        home = self.principal.home_org_mrn
        return home is None or scope.org_mrn == home

    def can_read(self, scope: Scope | None) -> bool:
        return scope is not None and bool(self.roles_on(scope))

    def require(self, action: Action, scope: Scope | None, hidden: str) -> None:
        """Allow, or raise NOT_FOUND (with ``hidden``) / FORBIDDEN.

        ``hidden`` is the message for an object that does not exist: a caller
        with no role on the scope gets exactly that answer too.
        """
        if scope is None:
            raise NotFound(hidden)
        verdict = authz.decide(action, self.roles_on(scope))
        if verdict is Verdict.HIDDEN:
            raise NotFound(hidden)
        if verdict is Verdict.FORBIDDEN:
            needed = authz.REQUIRED_ROLE[action]
            raise Forbidden(
                f"to {action.value} on {scope.mrn} you need the {needed!r} role there "
                f"(or on a scope above it); you hold: "
                f"{', '.join(sorted(self.roles_on(scope))) or 'none'}"
            )

    def require_grantable(self, wanted: list[Grant], what: str) -> None:
        """Refuse to hand out any role the caller does not itself hold on that scope."""
        if not self._same_org_chains(wanted):
            missing = wanted
        else:
            missing = authz.ungrantable(self.grants, wanted)
        if missing:
            listed = ", ".join(f"{CATALOGUE[g.role].name} on {g.scope_mrn}" for g in missing)
            raise Forbidden(
                f"{what} would hand out roles you do not hold: {listed}. "
                "Nobody can grant more than they have."
            )

    def _same_org_chains(self, wanted: list[Grant]) -> bool:
        home = self.principal.home_org_mrn
        return home is None or all(home in g.chain for g in wanted)


async def access_for(session: Executor, principal: Principal) -> Access:
    """The caller's grants. A read uses those read with the caller's credentials in the same
    request (the read runs outside a transaction anyway: each statement sees what is committed
    when it starts); a transaction reads them again, so a change is decided on the bindings as
    they are inside it."""
    if principal.grants is not None and getattr(session, "read_only", False):
        return Access(principal, principal.grants)
    return Access(principal, await load_grants(session, principal.mrn))
