"""scripts/bench: seed an organization, start teamclaims and a local OIDC provider, drive them
with wrk, and report requests/s and latency per scenario against the floor of the same run.

Everything listens on 127.0.0.1, every scenario runs --duration seconds, and every process the
bench starts is stopped when it ends (or is interrupted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from benchlib import loadgen, procs, profiling, report
from benchlib.loadgen import Scenario
from benchlib.progress import Progress, say
from benchlib.seed import (
    AUDIENCE,
    ORG_ID,
    ORG_MRN,
    Layout,
    PostgresWriter,
    Seeded,
    Spec,
    SQLiteWriter,
    grow_mappings,
    seed,
)
from benchlib.tokens import exchange_body, mint

SCENARIOS = ["a", "b", "c", "d", "e", "f"]
GRAPHQL = "application/json"
FORM = "application/x-www-form-urlencoded"
#: Upper bounds on the rate of scenarios whose bodies are used once, to size them.
UNIQUE_RATE_CAP = 3000


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scripts/bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", help="PostgreSQL server (postgresql+asyncpg://...; a fresh "
                   "database is created on it and dropped at the end) or a new SQLite file "
                   "(sqlite+aiosqlite:///path). Default: a SQLite file in the work directory")
    seed_args = p.add_argument_group("seed")
    seed_args.add_argument("--users", type=int, default=100_000)
    seed_args.add_argument("--teams", type=int, default=10_000)
    seed_args.add_argument("--mappings", type=int, default=20_000)
    seed_args.add_argument("--spaces", type=int, default=3)
    seed_args.add_argument("--workspaces", type=int, default=30)
    seed_args.add_argument("--groups-per-token", type=int, default=200)
    seed_args.add_argument("--teams-per-user", type=int, default=20,
                           help="mapped groups (SSO teams) per user and token; (d) moves a user "
                           "between two such sets")
    load = p.add_argument_group("load")
    load.add_argument("--workers", type=int, default=1, help="uvicorn workers")
    load.add_argument("--duration", type=int, default=10,
                      help="seconds per scenario (whole seconds: wrk's unit)")
    load.add_argument("--warmup", type=int, default=2,
                      help="seconds of unmeasured load before the repeatable scenarios")
    load.add_argument("--connections", type=int, default=50)
    load.add_argument("--threads", type=int, default=1, help="wrk threads")
    load.add_argument("--scenarios", default=",".join(SCENARIOS),
                      help="comma-separated subset of a,b,c,d,e,f (default: all)")
    load.add_argument("--growth-factor", type=int, default=10,
                      help="after the scenarios, run (b) again, multiply the mappings by this "
                      "and run (b) once more: the change between these two (1: skip)")
    load.add_argument("--log-level", default="info",
                      help="TEAMCLAIMS_LOG_LEVEL of the server (info: the access log is on, as "
                      "in production)")
    out = p.add_argument_group("output")
    out.add_argument("--json", type=Path, help="write the results here")
    out.add_argument("--markdown", type=Path, help="also write the Markdown table here")
    out.add_argument("--profile", action="store_true",
                     help="profile the server with py-spy during an extra run of (b)")
    out.add_argument("--profile-scenarios", default="",
                     help="profile these scenarios instead (comma-separated, from b-f)")
    out.add_argument("--sql-report", action="store_true",
                     help="at the end, time every SQL statement of 100 sequential sign-ins "
                     "of (b) and of (d), run in-process, and EXPLAIN the slowest")
    out.add_argument("--output-dir", type=Path,
                     help="where profiles go (default: next to --json, else ./bench-results)")
    out.add_argument("--workdir", type=Path, help="scratch directory (default: a new temporary "
                     "one, removed at the end)")
    out.add_argument("--keep", action="store_true",
                     help="keep the work directory and the database")
    return p


# --------------------------------------------------------------------------- helpers

def gql(base: str, token: str, query: str, variables: dict) -> dict:
    resp = httpx.post(f"{base}/query", json={"query": query, "variables": variables},
                      headers={"Authorization": f"Bearer {token}"}, timeout=60)
    body = resp.json()
    if resp.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"GraphQL call failed: {resp.status_code} {body}")
    return body["data"]


def sync_changes(base: str) -> dict[str, float]:
    """teamclaims_signin_membership_changes_total by action (one worker's registry)."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    out = {"add": 0.0, "remove": 0.0}
    for m in re.finditer(r'^teamclaims_signin_membership_changes_total\{action="(\w+)"\} (\S+)$',
                         text, re.M):
        out[m.group(1)] = float(m.group(2))
    return out


def split(items: list[str], parts: int) -> list[list[str]]:
    return [items[i::parts] for i in range(parts)]


def _dsn(url) -> str:
    """asyncpg's form of a SQLAlchemy URL."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class Database:
    """A fresh database for this run: a SQLite file or a new database on a PostgreSQL server."""

    def __init__(self, url: str | None, workdir: Path, keep: bool) -> None:
        self.keep = keep
        self.admin_dsn: str | None = None
        self.name: str | None = None
        self.settings: dict[str, str] = {}
        if url is None or url.startswith("sqlite"):
            self.backend = "sqlite"
            path = Path(url.split("///", 1)[1]) if url else workdir / "bench.db"
            if path.exists():
                raise SystemExit(f"bench: {path} exists; the bench seeds a fresh database")
            self.path = path.resolve()
            self.url = f"sqlite+aiosqlite:///{self.path}"
            return
        if not url.startswith("postgresql"):
            raise SystemExit("bench: --database-url must be postgresql+asyncpg://... or sqlite...")
        parsed = make_url(url)
        socket_dir = parsed.query.get("host")
        if not (parsed.host in ("127.0.0.1", "localhost", "::1")
                or (parsed.host is None and isinstance(socket_dir, str)
                    and socket_dir.startswith("/"))):
            raise SystemExit("bench: the bench only talks to loopback addresses or a Unix "
                             "socket (?host=/socket/dir)")
        self.backend = "postgresql"
        self.admin_dsn = _dsn(parsed)
        self.name = f"teamclaims_bench_{secrets.token_hex(4)}"
        own = parsed.set(database=self.name)
        self.url = own.render_as_string(hide_password=False)
        self.dsn = _dsn(own)

    async def create(self) -> None:
        if self.backend != "postgresql":
            import sqlite3

            self.settings = {"sqlite_version": sqlite3.sqlite_version}
            return
        import asyncpg

        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{self.name}"')
            self.settings = {name: await conn.fetchval(f"SHOW {name}") for name in (
                "server_version", "fsync", "synchronous_commit", "shared_buffers",
                "max_connections")}
        finally:
            await conn.close()
        if not self.keep:
            procs.on_exit(self.drop)

    def drop(self) -> None:
        """Drop the database; from any context (an interrupt may land inside an event loop)."""
        errors: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(self._drop())
            except BaseException as exc:  # reported below
                errors.append(exc)

        worker = threading.Thread(target=run)
        worker.start()
        worker.join(timeout=60)
        if errors:
            raise errors[0]

    async def _drop(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await conn.close()

    async def writer(self, *, bulk: bool):
        if self.backend == "sqlite":
            return SQLiteWriter(str(self.path), bulk=bulk)
        w = await PostgresWriter.open(self.dsn)
        if bulk:
            # Foreign keys are checked by construction here; skipping their triggers during
            # the load needs superuser (a throwaway server has it), otherwise they stay on.
            try:
                await w.conn.execute("SET session_replication_role = replica")
            except Exception:
                await w.tx.rollback()
                w.tx = w.conn.transaction()
                await w.tx.start()
        return w


def seed_progress():
    state: dict = {"step": None, "bar": None}

    def tick(step: str, done: int, total: int) -> None:
        if state["step"] != step:
            if state["bar"] is not None:
                state["bar"].close()
            state["step"] = step
            state["bar"] = Progress(total, f"seed: {step}")
        state["bar"].set(done)

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].close()

    return tick, close


# --------------------------------------------------------------------------- the run

class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.keys = [k.strip() for k in args.scenarios.split(",") if k.strip()]
        unknown = set(self.keys) - set(SCENARIOS)
        if unknown:
            raise SystemExit(f"bench: unknown scenarios {sorted(unknown)}; choose from a-f")
        prof = args.profile_scenarios or ("b" if args.profile else "")
        self.profile_keys = [k.strip() for k in prof.split(",") if k.strip()]
        if set(self.profile_keys) - set(SCENARIOS[1:]) - {"a"} or "a" in self.profile_keys:
            raise SystemExit("bench: --profile-scenarios takes scenarios among b-f")
        if set(self.profile_keys) - set(self.keys):
            raise SystemExit("bench: profile only scenarios that run (see --scenarios)")
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            self.workdir = args.workdir.resolve()
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix="teamclaims-bench-"))
            if not args.keep:
                procs.on_exit(lambda: shutil.rmtree(self.workdir, ignore_errors=True))
        self.output_dir = (args.output_dir or (args.json.parent if args.json else
                                                Path("bench-results"))).resolve()
        self.spec = Spec(args.users, args.teams, args.mappings, args.spaces, args.workspaces,
                         args.groups_per_token, args.teams_per_user)
        self.spec.check()
        if args.duration < 1 or args.warmup < 0 or args.connections < 1:
            raise SystemExit("bench: --duration >= 1, --warmup >= 0, --connections >= 1")
        self.tag = secrets.token_hex(3)
        self.results: dict = {"scenarios": {}}
        self.threads = max(1, args.threads)
        # Tokens outlive the whole run (seed, scenarios, profiles).
        self.token_ttl = int(4 * 3600 + 20 * args.duration)

    @property
    def db_process(self) -> str | None:
        """The command name of the database server's processes (loopback: same machine)."""
        return "postgres" if self.db.backend == "postgresql" else None

    def env(self) -> dict[str, str]:
        return {**os.environ, "TEAMCLAIMS_DATABASE_URL": self.db.url,
                "TEAMCLAIMS_LOG_LEVEL": self.args.log_level}

    # setup -----------------------------------------------------------------------------
    def setup(self) -> None:
        a = self.args
        say(f"work directory {self.workdir}")
        self.provider = procs.start_provider(self.workdir / "provider.log")
        say(f"OIDC provider at {self.provider.issuer}")
        self.db = Database(a.database_url, self.workdir, a.keep)
        asyncio.run(self.db.create())
        say(f"database: {self.db.backend} {self.db.name or self.db.path}")
        procs.run([str(procs.BIN / "teamclaims"), "migrate"], env=self.env())
        out = procs.run([str(procs.BIN / "teamclaims"), "bootstrap", "--org-id", ORG_ID,
                         "--name", "Bench organization"], env=self.env())
        self.owner_token = out.strip().splitlines()[-1]
        self.layout = Layout(self.spec, self.provider.issuer)
        tick, close = seed_progress()

        async def do_seed() -> Seeded:
            w = await self.db.writer(bulk=True)
            try:
                return await seed(w, self.layout, progress=tick)
            finally:
                await w.close()

        self.seeded = asyncio.run(do_seed())
        close()
        rows = self.seeded.counts
        say(f"seeded in {self.seeded.seconds:.1f}s: " +
            ", ".join(f"{k} {v:,}" for k, v in sorted(rows.items())))
        self.server = procs.start_server("teamclaims", "teamclaims", env=self.env(),
                                         workers=a.workers, log_level=a.log_level,
                                         log_path=self.workdir / "server.log")
        say(f"teamclaims at {self.server.base_url} ({a.workers} worker(s))")
        gql(self.server.base_url, self.owner_token,
            "mutation($i: SetOidcProviderInput!) { setOidcProvider(input: $i) { issuer } }",
            {"i": {"orgMrn": ORG_MRN, "issuer": self.provider.issuer, "audience": AUDIENCE}})
        if "a" in self.keys:
            self.floor = procs.start_server("floor", "floor", env=self.env(), workers=a.workers,
                                            log_level=a.log_level,
                                            log_path=self.workdir / "floor.log")
        self.mint_fixed_tokens()

    def mint_fixed_tokens(self) -> None:
        s = self.seeded
        claims = [c for c in s.returning] if {"b"} & set(self.keys) else []
        if "d" in self.keys:
            claims += [m[0] for m in s.movers] + [m[1] for m in s.movers]
        if not claims:
            return
        bar = Progress(len(claims), "mint ID tokens (b, d)")
        tokens = asyncio.run(mint(self.provider.issuer, claims, expires_in=self.token_ttl,
                                  tick=bar.set))
        bar.close()
        n_b = len(s.returning) if "b" in self.keys else 0
        self.b_tokens = tokens[:n_b]
        movers = tokens[n_b:]
        half = len(movers) // 2
        self.d_tokens = list(zip(movers[:half], movers[half:], strict=True))
        if self.b_tokens:  # a first exchange: discovery and JWKS fetched before any timing
            resp = httpx.post(f"{self.server.base_url}/auth/token",
                              content=exchange_body(self.b_tokens[0]),
                              headers={"Content-Type": FORM}, timeout=30)
            if resp.status_code != 200:
                raise RuntimeError(f"the token exchange does not work: {resp.text}")

    # scenarios -------------------------------------------------------------------------
    def scenario(self, key: str, tag: str) -> Scenario:
        t = self.threads
        base = self.server.base_url
        k = self.spec.mapped_per_user
        g = self.spec.groups_per_token
        if key == "a":
            return Scenario("a", "(a) floor: bare Starlette route, constant JSON",
                            self.floor.base_url + "/", method="GET")
        if key == "b":
            bodies = [exchange_body(tok) for tok in self.b_tokens]
            return Scenario("b", f"(b) sign-in, returning user, {g} groups, no change",
                            base + "/auth/token", content_type=FORM, bodies=split(bodies, t))
        if key == "c":
            n = self.unique_budget()
            claims = [{"sub": f"first-{tag}-{i}", "aud": AUDIENCE,
                       "email": f"first-{tag}-{i}@bench.example", "email_verified": True,
                       "name": f"First {i}", "groups": c["groups"]}
                      for i, c in zip(range(n), self._cycle(self.seeded.returning, n),
                                      strict=False)]
            bar = Progress(n, "mint ID tokens (c)")
            tokens = asyncio.run(mint(self.provider.issuer, claims, expires_in=self.token_ttl,
                                      tick=bar.set))
            bar.close()
            return Scenario("c", f"(c) first sign-in, {g} groups ({k} teams)",
                            base + "/auth/token", content_type=FORM, unique=True,
                            bodies=split([exchange_body(x) for x in tokens], t))
        if key == "d":
            per_thread = []
            for tid in range(t):
                mine = self.d_tokens[tid::t]
                # The users are seeded in set A: send B to each, then A, and round again.
                per_thread.append([exchange_body(b) for _, b in mine] +
                                  [exchange_body(a) for a, _ in mine])
            return Scenario("d", f"(d) sign-in moving the user between {k} teams",
                            base + "/auth/token", content_type=FORM, bodies=per_thread)
        auth = f"Bearer {self.owner_token}"
        if key == "e":
            return Scenario("e", "(e) createTeam + setRoles + addTeamExternalGroupMapping",
                            base + "/query", content_type=GRAPHQL, authorization=auth,
                            graphql=True, unique=True,
                            bodies=split(self.mutation_bodies(tag, self.unique_budget(e=True)), t))
        if key == "f":
            return Scenario("f", "(f) getRoles / effectiveRoles", base + "/query",
                            content_type=GRAPHQL, authorization=auth, graphql=True,
                            bodies=split(self.read_bodies(), t))
        raise ValueError(key)

    @staticmethod
    def _cycle(items: list, n: int):
        for i in range(n):
            yield items[i % len(items)]

    def unique_budget(self, e: bool = False) -> int:
        """Bodies for a scenario that may use each only once: its rate can only be lower than
        (b)'s (c does what b does and writes more); without (b), a generous cap."""
        b = self.results["scenarios"].get("b")
        rate = UNIQUE_RATE_CAP if e or b is None else min(UNIQUE_RATE_CAP, 1.5 * b["rps"] + 50)
        return int(rate * self.args.duration) + 200

    def mutation_bodies(self, tag: str, n: int) -> list[str]:
        lay = self.layout
        org_teams = [t for t in range(self.spec.teams) if lay.team_scope(t) == ORG_MRN][:300]
        targets = [w for w, _ in lay.workspaces] or [ORG_MRN]
        create = "mutation($input: CreateTeamInput!) { createTeam(input: $input) { mrn name } }"
        set_roles = ("mutation($input: SetRolesInput!) { setRoles(input: $input) "
                     "{ identity_mrn mrns } }")
        add_mapping = ("mutation($input: AddTeamExternalGroupMappingInput!) "
                       "{ addTeamExternalGroupMapping(input: $input) { mrn externalId } }")
        out = []
        for i in range(n):
            step, kind = divmod(i, 3)
            if kind == 0:
                body = {"query": create, "variables": {"input": {
                    "id": f"bench-{tag}-{step}", "name": f"Bench team {tag} {step}",
                    "scopeMrn": ORG_MRN}}}
            elif kind == 1:
                t = org_teams[step % len(org_teams)]
                role = ["viewer", "editor"][(step // len(org_teams)) % 2]
                body = {"query": set_roles, "variables": {"input": {
                    "scopeMrn": targets[t % len(targets)], "identity": lay.team_mrn(t),
                    "roles": [role]}}}
            else:
                t = (step * 7919) % self.spec.teams
                body = {"query": add_mapping, "variables": {"input": {
                    "teamMrn": lay.team_mrn(t), "externalId": f"bench-{tag}-{step}"}}}
            out.append(json.dumps(body, separators=(",", ":")))
        return out

    def read_bodies(self) -> list[str]:
        lay = self.layout
        get_roles = ("query($i: String!, $s: String!) { getRoles(identity: $i, scopeMrn: $s) "
                     "{ identityMrn scopeMrn roles } }")
        effective = ("query($i: String!, $s: String!) { effectiveRoles(identity: $i, "
                     "scopeMrn: $s) { identityMrn scopeMrn roles sources { role scopeMrn viaMrn "
                     "inherited } } }")
        users = self.seeded.sample_users or [lay.user_mrn(0)]
        targets = [w for w, _ in lay.workspaces] or [ORG_MRN]
        out = []
        for i in range(2000):
            if i % 2 == 0:
                t = (i * 7919) % self.spec.teams
                body = {"query": get_roles,
                        "variables": {"i": lay.team_mrn(t), "s": lay.team_binding(t)[0]}}
            else:
                body = {"query": effective, "variables": {"i": users[(i // 2) % len(users)],
                                                          "s": targets[i % len(targets)]}}
            out.append(json.dumps(body, separators=(",", ":")))
        return out

    def measure(self, key: str, s: Scenario, *, label: str, warmup: bool = True) -> dict:
        a = self.args
        script = loadgen.write_script(s, self.workdir)
        repeatable = not s.unique and key not in ("d",)
        if warmup and repeatable and a.warmup > 0:
            loadgen.run(s, script, threads=self.threads, connections=a.connections,
                        duration=a.warmup, label=f"{label} warm-up")
            procs.wait_idle(procs.server_pids(self.floor if key == "a" else self.server))
        exchange = s.url.endswith("/auth/token")
        before = sync_changes(self.server.base_url) if exchange else None
        server = self.floor if key == "a" else self.server
        meter = procs.CpuMeter(procs.server_pids(server), database=self.db_process)
        r = loadgen.run(s, script, threads=self.threads, connections=a.connections,
                        duration=a.duration, label=label)
        r["cpu"] = meter.stop()
        self.check_interference(r, label)
        # Requests still queued in the server when wrk stopped finish now, not in the next
        # scenario's time.
        r["drain_seconds"] = procs.wait_idle(procs.server_pids(server))
        r["title"] = s.title
        r["exhausted"] = bool(s.unique and r["wraps"])
        if before is not None and a.workers == 1:
            after = sync_changes(self.server.base_url)
            r["membership_changes"] = {k: int(after[k] - before[k]) for k in after}
        return r

    @staticmethod
    def check_interference(r: dict, label: str) -> None:
        """CPU used by processes that are neither the server, the database nor wrk (another
        job on the machine) skews the numbers: measure it and say so."""
        c = r["cpu"]
        machine = c["machine_busy_pct"] * (os.cpu_count() or 1)
        c["wrk_cpu_pct"] = r.pop("wrk_cpu_pct")
        known = c["server_cpu_pct"] + c.get("database_cpu_pct", 0.0) + c["wrk_cpu_pct"]
        c["other_cpu_pct"] = round(max(0.0, machine - known), 1)
        r["interference"] = c["other_cpu_pct"] > 25
        if r["interference"]:
            say(f"warning: {label}: other processes used {c['other_cpu_pct']:.0f}% of a core "
                "during the measurement; its numbers are skewed")

    def profile(self, key: str) -> None:
        out_dir = self.output_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = out_dir / f"profile-{self.db.backend}-{key}"
        s = self.scenario(key, self.tag + "p")
        script = loadgen.write_script(s, self.workdir)
        raw = stem.with_suffix(".collapsed.txt")
        spy = profiling.start(self.server.process.pid, raw, self.args.duration)
        time.sleep(0.5)  # py-spy attaches
        meter = procs.CpuMeter(procs.server_pids(self.server), database=self.db_process)
        r = loadgen.run(s, script, threads=self.threads, connections=self.args.connections,
                        duration=self.args.duration, label=f"{key} under py-spy")
        cpu = meter.stop()
        profiling.finish(spy)
        procs.wait_idle(procs.server_pids(self.server))
        title = (f"scenario {s.title} on {self.db.backend}, {self.args.workers} worker(s), "
                 f"{self.args.connections} connections; {r['rps']:,.0f} req/s under py-spy")
        measured = self.results["scenarios"].get(key, {})
        summary = profiling.summarize(raw, title, cpu=cpu, measured=measured.get("cpu"))
        stem.with_suffix(".summary.txt").write_text(summary)
        profiling.flame_svg(raw, stem.with_suffix(".svg"), title)
        self.results.setdefault("profiles", {})[key] = {
            "collapsed": str(raw), "svg": str(stem.with_suffix(".svg")),
            "summary": str(stem.with_suffix(".summary.txt")), "rps_under_profiler": r["rps"],
        }
        say(f"profile of ({key}) written to {stem}.summary.txt / .svg / .collapsed.txt")

    def background_load(self) -> None:
        """How busy the machine is while the bench itself is idle: other work skews results."""
        meter = procs.CpuMeter([])
        time.sleep(2)
        busy = meter.stop()["machine_busy_pct"]
        self.results["background_busy_pct"] = busy
        if busy > 10:
            say(f"warning: the machine is {busy:.0f}% busy before any load (other processes); "
                "the numbers of this run are skewed")

    def run_scenarios(self) -> None:
        self.background_load()
        scen = self.results["scenarios"]
        for key in SCENARIOS:
            if key not in self.keys:
                continue
            s = self.scenario(key, self.tag)
            scen[key] = self.measure(key, s, label=f"scenario {key}")
            if key in self.profile_keys:
                self.profile(key)
        if "b" in self.keys and self.args.growth_factor > 1:
            self.grow_and_rerun()
        if "a" in self.keys and len(self.keys) > 1:
            # The floor again after the others: a shared machine drifts over minutes, so every
            # ratio is to the mean of the two, and the drift is reported.
            s = self.scenario("a", self.tag)
            s.key, s.title = "a_end", "(a) floor again, after the other scenarios"
            scen["a_end"] = self.measure("a", s, label="floor again")
        if self.args.sql_report:
            self.sql_report()
        floors = [scen[k]["rps"] for k in ("a", "a_end") if k in scen]
        floor = sum(floors) / len(floors) if floors else None
        if len(floors) == 2:
            self.results["floor"] = {
                "start_rps": floors[0], "end_rps": floors[1], "mean_rps": round(floor, 1),
                "drift_pct": round(100 * (floors[1] - floors[0]) / floors[0], 1)}
        for r in scen.values():
            # Four significant digits in the JSON, not four decimals: 0.00341 stays 0.00341.
            r["ratio_to_floor"] = float(f"{r['rps'] / floor:.4g}") if floor else None

    def sql_report(self) -> None:
        from benchlib import sqlreport

        mapped = self.spec.mappings * max(1, self.args.growth_factor)
        cases = {}
        if getattr(self, "b_tokens", None):
            cases[f"(b) returning user, {mapped:,} mappings"] = ([], self.b_tokens[1:101])
        if getattr(self, "d_tokens", None):
            # Sign every mover in with set A first (untimed): then B, A, ... each moves.
            movers = self.d_tokens[:50]
            cases[f"(d) moving between {self.spec.mapped_per_user} teams"] = (
                [a for a, _ in movers], [token for a, b in movers for token in (b, a)])
        say("SQL report: sequential in-process sign-ins with every statement timed")
        result = sqlreport.run(self.db.url, cases)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = self.output_dir / f"sql-{self.db.backend}.txt"
        path.write_text(sqlreport.render(result))
        self.results["sql_report"] = {"file": str(path), **result}
        say(f"SQL report written to {path}")

    def grow_and_rerun(self) -> None:
        factor = self.args.growth_factor
        before = self.spec.mappings

        async def grow() -> int:
            w = await self.db.writer(bulk=False)
            try:
                return await grow_mappings(w, self.layout, factor, tick=bar.set)
            finally:
                await w.close()

        # The comparison runs (b) twice on the same users: once more before growing (the first
        # (b) ran on rows nobody had read since the seed, and reads them into the caches), then
        # after. Only the mappings differ between the two.
        s = self.scenario("b", self.tag)
        s.key = "b_before_growth"
        s.title = f"(b) again, {before:,} mappings (before growing them)"
        baseline = self.measure("b", s, label="scenario b, before growing the mappings")
        self.results["scenarios"][s.key] = baseline
        bar = Progress(before * (factor - 1), f"grow mappings x{factor}")
        added = asyncio.run(grow())
        bar.close()
        s = self.scenario("b", self.tag)
        s.key = "b_mappings_x10" if factor == 10 else f"b_mappings_x{factor}"
        s.title = f"(b) again, {before * factor:,} mappings"
        r = self.measure("b", s, label=f"scenario b, mappings x{factor}")
        self.results["scenarios"][s.key] = r
        b = baseline
        self.results["mappings_growth"] = {
            "factor": factor, "mappings_before": before, "mappings_after": before + added,
            "rps_before": b["rps"], "rps_after": r["rps"],
            "change_pct": round(100 * (r["rps"] - b["rps"]) / b["rps"], 1) if b["rps"] else None,
            "p99_before_ms": b["latency_ms"]["p99"], "p99_after_ms": r["latency_ms"]["p99"],
        }

    # results ---------------------------------------------------------------------------
    def finish(self, started: float) -> dict:
        a, spec, seeded = self.args, self.spec, self.seeded
        self.results.update({
            "version": 1,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "wall_seconds": round(time.monotonic() - started, 1),
            "command": "scripts/bench " + " ".join(sys.argv[1:]),
            "database": {"backend": self.db.backend, **self.db.settings},
            "settings": {"workers": a.workers, "connections": a.connections,
                         "threads": self.threads, "duration": a.duration, "warmup": a.warmup,
                         "log_level": a.log_level, "load_generator": "wrk"},
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform(),
                        "background_busy_pct": self.results.pop("background_busy_pct", None)},
            "seed": {"users": spec.users, "teams": spec.teams, "mappings": spec.mappings,
                     "spaces": spec.spaces, "workspaces": spec.workspaces,
                     "groups_per_token": spec.groups_per_token,
                     "mapped_per_user": spec.mapped_per_user,
                     "returning_users": spec.returning, "movers": spec.movers,
                     "rows": seeded.counts, "seconds": round(seeded.seconds, 1)},
        })
        return self.results


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not loadgen.have_wrk():
        print("bench: wrk is not installed: `apt-get install -y wrk` "
              "(or scripts/install-bench-tools)", file=sys.stderr)
        return 2
    if shutil.which("node") is None:
        print("bench: node is not installed (the local OIDC provider needs it)", file=sys.stderr)
        return 2
    procs.install_handlers()
    started = time.monotonic()
    bench = Bench(args)
    try:
        bench.setup()
        bench.run_scenarios()
        results = bench.finish(started)
    finally:
        procs.cleanup()
    table = report.markdown(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        say(f"results written to {args.json}")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(table)
    print()
    print(table)
    return 0
