"""A realistic organization written with bulk SQL (sqlite3 executemany / asyncpg COPY).

The organization ``bench`` has spaces and workspaces, teams (four in five in the organization,
the rest in spaces) each bound to a role on some scope, external group mappings (Entra ID style
object ids, ``mappings / teams`` per team), and users who all signed in once: each user's
last-sign-in claims (LoginClaims) hold ``groups_per_token`` groups, ``teams_per_user`` of them
mapped, and the user's SSO memberships and grants are exactly what those groups justify — what
a real sign-in would have written. Every tenth user also has one membership added by hand,
every hundredth a direct role, one team in a hundred a pending membership by email.

Users ``0 .. returning-1`` are the returning users of scenario (b); the next ``movers`` users
are the ones scenario (d) moves between two sets of teams (seeded in set A).
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

CAPTAIN = "//captain.api.mondoo.app"
ORG_ID = "bench"
ORG_MRN = f"{CAPTAIN}/organizations/{ORG_ID}"
AUDIENCE = "teamclaims-bench"
USER_CHUNK = 2000


@dataclass(frozen=True)
class Spec:
    users: int
    teams: int
    mappings: int
    spaces: int
    workspaces: int
    groups_per_token: int = 200
    teams_per_user: int = 20
    rng_seed: int = 20261125

    @property
    def mappable_teams(self) -> int:
        """Teams with at least one mapping (mapping j belongs to team j % teams)."""
        return min(self.teams, self.mappings)

    @property
    def mapped_per_user(self) -> int:
        """Mapped groups (= SSO teams) per token; (d) needs two disjoint sets of teams."""
        return max(1, min(self.teams_per_user, self.mappable_teams // 2))

    @property
    def returning(self) -> int:
        return min(1000, max(1, self.users // 4))

    @property
    def movers(self) -> int:
        return min(500, max(1, self.users // 4))

    @property
    def noise_groups(self) -> int:
        return max(20_000, 4 * self.groups_per_token)

    def check(self) -> None:
        if self.users < 8 or self.teams < 2 or self.mappings < 2:
            raise SystemExit("bench: the seed needs at least 8 users, 2 teams and 2 mappings")
        if self.workspaces and not self.spaces:
            raise SystemExit("bench: workspaces live in spaces: give --spaces >= 1")
        if self.groups_per_token < self.mapped_per_user:
            raise SystemExit("bench: --groups-per-token must be at least --teams-per-user")


def group_id(kind: bytes, n: int) -> str:
    """A stable Entra-ID-style object id (UUID) for group ``n`` of a kind."""
    digest = hashlib.blake2b(kind + n.to_bytes(8, "big"), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


@dataclass
class Layout:
    """Names of everything in the seeded organization, computed (never read back)."""

    spec: Spec
    issuer: str
    spaces: list[str] = field(default_factory=list)  # space MRNs
    workspaces: list[tuple[str, str]] = field(default_factory=list)  # (workspace MRN, space MRN)
    noise: list[str] = field(default_factory=list)
    _mappings: list[tuple[str, str, str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        s = self.spec
        self.spaces = [f"{CAPTAIN}/spaces/bench-space-{i:02d}" for i in range(s.spaces)]
        self.workspaces = [
            (f"{self.spaces[w % s.spaces]}/workspaces/bench-ws-{w:03d}", self.spaces[w % s.spaces])
            for w in range(s.workspaces)
        ]
        noise = [group_id(b"n", k) for k in range(s.noise_groups)]
        random.Random(s.rng_seed).shuffle(noise)
        self.noise = noise + noise  # a user's unmapped groups: a window of this ring
        self._mappings = [self._mapping(j) for j in range(s.mappings)]

    # teams -------------------------------------------------------------------------------
    def team_scope(self, t: int) -> str:
        if not self.spaces or t % 5 != 4:
            return ORG_MRN
        return self.spaces[(t // 5) % len(self.spaces)]

    def team_mrn(self, t: int) -> str:
        return f"{self.team_scope(t)}/teams/team-{t:05d}"

    def workspaces_of(self, space_mrn: str) -> list[str]:
        return [w for w, sp in self.workspaces if sp == space_mrn]

    def team_binding(self, t: int) -> tuple[str, str]:
        """(scope MRN, role) of team t's one role binding."""
        scope = self.team_scope(t)
        if scope != ORG_MRN:
            mine = self.workspaces_of(scope)
            return (mine[t % len(mine)], "editor") if mine else (scope, "viewer")
        kind = t % 3
        if kind == 1 and self.workspaces:
            return self.workspaces[t % len(self.workspaces)][0], "editor"
        if kind == 2 and self.spaces:
            return self.spaces[(t // 3) % len(self.spaces)], "viewer"
        return ORG_MRN, "viewer"

    # mappings ----------------------------------------------------------------------------
    def mapping(self, j: int) -> tuple[str, str, str]:
        """(mapping MRN, team MRN, external id) of mapping j; j >= mappings are the 10x extras,
        whose external ids appear in no token."""
        if j < len(self._mappings):
            return self._mappings[j]
        return self._mapping(j)

    def _mapping(self, j: int) -> tuple[str, str, str]:
        team = self.team_mrn(j % self.spec.teams)
        ext = group_id(b"m" if j < self.spec.mappings else b"x", j)
        return f"{team}/externalgroupmappings/m{j:07d}", team, ext

    def mappings_of_team(self, t: int) -> int:
        return (self.spec.mappings - 1 - t) // self.spec.teams + 1

    # users -------------------------------------------------------------------------------
    @staticmethod
    def user_mrn(i: int) -> str:
        return f"{CAPTAIN}/users/bu{i:08d}"

    @staticmethod
    def subject(i: int) -> str:
        return f"bench-user-{i}"

    def claims(self, i: int, groups: list[str]) -> dict[str, Any]:
        """The ID-token claims of user i (iss, iat, exp, nbf are added by the provider)."""
        return {"sub": self.subject(i), "aud": AUDIENCE, "email": f"user{i}@bench.example",
                "email_verified": True, "name": f"Bench User {i}", "groups": groups}


def stored_claims(claims: dict[str, Any]) -> str:
    """What a sign-in keeps in LoginClaims for these claims: app.login.claims.extract(...)
    .as_dict() serialised with sort_keys (the groups appear under "" and under "groups")."""
    groups = json.dumps(sorted(set(claims["groups"])))
    one = json.dumps
    return (f'{{"": {groups}, "email": [{one(claims["email"])}], "groups": {groups}, '
            f'"name": [{one(claims["name"])}], "sub": [{one(claims["sub"])}]}}')


@dataclass
class Seeded:
    """What the scenarios need from the seed, and the row counts."""

    layout: Layout
    returning: list[dict[str, Any]] = field(default_factory=list)  # claims, scenario (b)
    movers: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # A, B
    sample_users: list[str] = field(default_factory=list)  # background user MRNs, (f)
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


# --------------------------------------------------------------------------- writers

class Writer:
    backend = ""

    async def columns(self, table: str) -> dict[str, bool]:
        """The table's columns: name -> whether an insert must give it (NOT NULL, no default)."""
        raise NotImplementedError

    def ts(self, dt: datetime) -> Any:
        raise NotImplementedError

    async def insert(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        raise NotImplementedError

    async def finish(self, tables: Sequence[str] = ()) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class SQLiteWriter(Writer):
    """One transaction, no journal while loading (a fresh file: a crash means seed again)."""

    backend = "sqlite"

    def __init__(self, path: str, *, bulk: bool = True) -> None:
        """``bulk``: the file is fresh and nobody else has it open (no journal while loading);
        otherwise a plain WAL transaction next to a running server."""
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=60)
        self.bulk = bulk
        pragmas = (("journal_mode=DELETE", "journal_mode=OFF", "synchronous=OFF",
                    "cache_size=-1000000", "temp_store=MEMORY", "foreign_keys=OFF") if bulk
                   else ("busy_timeout=60000",))
        for pragma in pragmas:
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("BEGIN")

    def ts(self, dt: datetime) -> str:
        return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's format

    async def columns(self, table: str) -> dict[str, bool]:
        rows = self.conn.execute(f"PRAGMA table_info({table})").fetchall()
        # cid, name, type, notnull, dflt_value, pk (an INTEGER primary key fills itself)
        return {r[1]: bool(r[3]) and r[4] is None and not (r[5] and r[2].upper() == "INTEGER")
                for r in rows}

    async def insert(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        marks = ", ".join("?" for _ in columns)
        self.conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    async def finish(self, tables: Sequence[str] = ()) -> None:
        self.conn.execute("COMMIT")
        if self.bulk:
            self.conn.execute("PRAGMA journal_mode=WAL")  # what the app runs with
        else:  # written beside the server: into the database file now, not during a measurement
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def close(self) -> None:
        self.conn.close()


class PostgresWriter(Writer):
    """COPY in one transaction; then the serial sequences and VACUUM ANALYZE (autovacuum's job
    on a live database)."""

    backend = "postgresql"
    SERIALS = ("team_member", "team_member_grant", "role_binding", "audit_event")

    def __init__(self, conn) -> None:
        self.conn = conn
        self.tx = None

    @classmethod
    async def open(cls, dsn: str) -> PostgresWriter:
        import asyncpg

        w = cls(await asyncpg.connect(dsn))
        w.tx = w.conn.transaction()
        await w.tx.start()
        return w

    def ts(self, dt: datetime) -> datetime:
        return dt

    async def columns(self, table: str) -> dict[str, bool]:
        rows = await self.conn.fetch(
            "SELECT column_name, is_nullable, column_default FROM information_schema.columns "
            "WHERE table_name = $1 AND table_schema = current_schema()", table)
        return {r["column_name"]: r["is_nullable"] == "NO" and r["column_default"] is None
                for r in rows}

    async def insert(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        await self.conn.copy_records_to_table(table, records=rows, columns=list(columns))

    async def finish(self, tables: Sequence[str] = ()) -> None:
        """``tables``: vacuum and analyze only these (after a partial load; what autovacuum
        would soon do, rather than during the next measurement); default: everything."""
        await self.tx.commit()
        if tables:
            for table in tables:
                await self.conn.execute(f"VACUUM ANALYZE {table}")
            return
        for table in self.SERIALS:
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)")
        await self.conn.execute("VACUUM ANALYZE")

    async def close(self) -> None:
        await self.conn.close()


# --------------------------------------------------------------------------- the seed

COLUMNS = {
    "scope": ("mrn", "kind", "id", "name", "description", "parent_mrn", "org_mrn", "space_mrn",
              "created_at", "updated_at"),
    "team": ("mrn", "id", "name", "description", "email", "scope_mrn", "org_mrn", "created_at",
             "updated_at"),
    "team_external_group_mapping": ("mrn", "team_mrn", "org_mrn", "external_id", "claim",
                                    "created_by", "created_at", "updated_at"),
    "role_binding": ("scope_mrn", "identity_mrn", "role", "created_at"),
    "user_account": ("mrn", "id", "email", "name", "org_mrn", "issuer", "subject",
                     "email_verified", "created_at", "updated_at"),
    "login_claims": ("user_mrn", "org_mrn", "claims", "signed_in_at"),
    "login_session": ("id", "user_mrn", "org_mrn", "created_at", "expires_at", "revoked_at"),
    "team_member": ("id", "team_mrn", "user_mrn", "pending_email", "added_by_hand", "created_at"),
    "team_member_grant": ("id", "member_id", "mapping_mrn", "claim", "value", "created_at"),
    "audit_event": ("at", "actor", "action", "org_mrn", "subject_mrn", "target_mrn",
                    "mapping_mrn", "claim", "value", "details"),
}


async def check_schema(writer: Writer) -> None:
    """Fail clearly when the models changed in a way the seed does not know yet."""
    problems = []
    for table, given in COLUMNS.items():
        actual = await writer.columns(table)
        if not actual:
            problems.append(f"table {table} does not exist")
            continue
        problems += [f"{table}.{c} no longer exists" for c in given if c not in actual]
        problems += [f"{table}.{c} is required (NOT NULL, no default) but not seeded"
                     for c, required in actual.items() if required and c not in given]
    if problems:
        raise SystemExit("bench: the schema changed; update scripts/benchlib/seed.py "
                         "(COLUMNS and the rows it writes):\n  " + "\n  ".join(problems))


async def seed(writer: Writer, layout: Layout, *,
               progress: Callable[[str, int, int], None] | None = None) -> Seeded:
    """Write the organization (which ``teamclaims bootstrap`` created) and everything in it."""
    await check_schema(writer)
    started = time.monotonic()
    spec = layout.spec
    rng = random.Random(spec.rng_seed)
    out = Seeded(layout)
    counts = out.counts
    now = datetime.now(UTC)
    days = [writer.ts(now - timedelta(days=400 - d, seconds=d * 97)) for d in range(365)]
    stamp = writer.ts(now - timedelta(days=1))

    async def insert(table: str, rows: list[tuple]) -> None:
        if rows:
            await writer.insert(table, COLUMNS[table], rows)
            counts[table] = counts.get(table, 0) + len(rows)

    def tick(step: str, done: int, total: int) -> None:
        if progress:
            progress(step, done, total)

    # scopes, teams, bindings, mappings, pending members ----------------------------------
    scopes = [(mrn, "space", mrn.rsplit("/", 1)[1], f"Space {n}", None, ORG_MRN, ORG_MRN, mrn,
               stamp, stamp) for n, mrn in enumerate(layout.spaces)]
    scopes += [(w, "workspace", w.rsplit("/", 1)[1], f"Workspace {n}", None, sp, ORG_MRN, sp,
                stamp, stamp) for n, (w, sp) in enumerate(layout.workspaces)]
    await insert("scope", scopes)
    teams, bindings = [], []
    for t in range(spec.teams):
        mrn = layout.team_mrn(t)
        teams.append((mrn, mrn.rsplit("/", 1)[1], f"Team {t}", f"seeded team {t}", None,
                      layout.team_scope(t), ORG_MRN, days[t % 365], days[t % 365]))
        scope, role = layout.team_binding(t)
        bindings.append((scope, mrn, role, days[t % 365]))
    await insert("team", teams)
    await insert("role_binding", bindings)
    tick("teams", spec.teams, spec.teams)
    await write_mappings(writer, layout, range(spec.mappings), counts, days,
                         lambda d: tick("mappings", d, spec.mappings))
    member_id = 0
    pending = []
    for t in range(0, spec.teams, 100):
        member_id += 1
        pending.append((member_id, layout.team_mrn(t), None, f"pending{t}@bench.example", True,
                        stamp))
    await insert("team_member", pending)

    # users, their last sign-in, memberships and grants -----------------------------------
    k = spec.mapped_per_user
    noise_n = spec.groups_per_token - k
    special = spec.returning + spec.movers
    grant_id = 0
    for start in range(0, spec.users, USER_CHUNK):
        users, claims_rows, sessions, audits, members, grants, direct = [], [], [], [], [], [], []
        for i in range(start, min(start + USER_CHUNK, spec.users)):
            mrn = layout.user_mrn(i)
            day = days[i % 365]
            mover = spec.returning <= i < special
            teams_of = rng.sample(range(spec.mappable_teams), 2 * k if mover else k)
            chosen = [(t, t + spec.teams * rng.randrange(layout.mappings_of_team(t)))
                      for t in teams_of]
            at = rng.randrange(spec.noise_groups)
            noise = layout.noise[at:at + noise_n]
            mapped = [(t, layout.mapping(j)) for t, j in chosen]
            now_in = mapped[:k]
            claims = layout.claims(i, [m[2] for _, m in now_in] + noise)
            if i < spec.returning:
                out.returning.append(claims)
            elif mover:
                other = layout.claims(i, [m[2] for _, m in mapped[k:]] + noise)
                out.movers.append((claims, other))
            elif len(out.sample_users) < 1000:
                out.sample_users.append(mrn)
            users.append((mrn, mrn.rsplit("/", 1)[1], claims["email"], claims["name"], ORG_MRN,
                          layout.issuer, claims["sub"], True, day, day))
            claims_rows.append((mrn, ORG_MRN, stored_claims(claims), day))
            sid = f"bench{i:027x}"
            sessions.append((sid, mrn, ORG_MRN, day, day, None))
            audits.append((day, "login-hook", "session.opened", ORG_MRN, mrn, sid, None, None,
                           None, None))
            sso_teams = set()
            for t, (mapping_mrn, team_mrn, ext) in now_in:
                member_id += 1
                grant_id += 1
                sso_teams.add(t)
                members.append((member_id, team_mrn, mrn, None, False, day))
                grants.append((grant_id, member_id, mapping_mrn, "", ext, day))
            if i >= special and i % 10 == 0:
                t = (i * 7) % spec.teams
                if t not in sso_teams:
                    member_id += 1
                    members.append((member_id, layout.team_mrn(t), mrn, None, True, day))
            if i >= special and i % 100 == 0 and layout.workspaces:
                direct.append((layout.workspaces[i % len(layout.workspaces)][0], mrn, "viewer",
                               day))
        await insert("user_account", users)
        await insert("login_claims", claims_rows)
        await insert("login_session", sessions)
        await insert("audit_event", audits)
        await insert("team_member", members)
        await insert("team_member_grant", grants)
        await insert("role_binding", direct)
        tick("users", min(start + USER_CHUNK, spec.users), spec.users)
    tick("indexes and statistics", 0, 1)
    await writer.finish()
    tick("indexes and statistics", 1, 1)
    out.seconds = time.monotonic() - started
    return out


async def write_mappings(writer: Writer, layout: Layout, indices: range, counts: dict[str, int],
                         days: list[Any] | None = None,
                         tick: Callable[[int], None] | None = None) -> None:
    stamp = writer.ts(datetime.now(UTC))
    chunk: list[tuple] = []
    done = 0
    for j in indices:
        mrn, team, ext = layout.mapping(j)
        day = days[j % len(days)] if days else stamp
        chunk.append((mrn, team, ORG_MRN, ext, "", None, day, day))
        if len(chunk) >= 20_000:
            await writer.insert("team_external_group_mapping",
                                COLUMNS["team_external_group_mapping"], chunk)
            done += len(chunk)
            chunk = []
            if tick:
                tick(done)
    if chunk:
        await writer.insert("team_external_group_mapping", COLUMNS["team_external_group_mapping"],
                            chunk)
        done += len(chunk)
    counts["team_external_group_mapping"] = counts.get("team_external_group_mapping", 0) + done
    if tick:
        tick(done)


async def grow_mappings(writer: Writer, layout: Layout, factor: int,
                        tick: Callable[[int], None] | None = None) -> int:
    """Add (factor - 1) x mappings to the existing teams, with external ids no token carries."""
    m = layout.spec.mappings
    counts: dict[str, int] = {}
    await write_mappings(writer, layout, range(m, m * factor), counts, tick=tick)
    await writer.finish(tables=["team_external_group_mapping"])
    return counts.get("team_external_group_mapping", 0)
