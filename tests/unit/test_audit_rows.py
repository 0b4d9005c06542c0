"""Audit rows as column values (app.audit.event) and written many at once (record_many)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Insert, select

from app.audit import LOGIN_HOOK, event, record_many
from app.db import Database
from models import AuditEvent

TEAM = "//captain.api.mondoo.app/organizations/o/teams/t"
MAPPING = f"{TEAM}/externalgroupmappings/m1"
USER = "//captain.api.mondoo.app/users/u1"
ORG = "//captain.api.mondoo.app/organizations/o"


def test_event_has_exactly_the_audit_columns():
    row = event(actor=LOGIN_HOOK, action="team_member.sso_added")
    columns = {c.name for c in AuditEvent.__table__.columns} - {"id"}
    assert set(row) == columns
    assert row["actor"] == "login-hook"
    assert row["action"] == "team_member.sso_added"
    for unset in ("org_mrn", "subject_mrn", "target_mrn", "mapping_mrn", "claim", "value",
                  "details"):
        assert row[unset] is None, unset
    assert isinstance(row["at"], datetime) and row["at"].tzinfo is not None


def test_event_details_are_sorted_json():
    row = event(actor="a", action="b", details={"z": 1, "a": ["x", 'q"uote'], "t": datetime(
        2026, 1, 2, tzinfo=UTC)})
    assert row["details"] == json.dumps(
        {"a": ["x", 'q"uote'], "t": "2026-01-02 00:00:00+00:00", "z": 1}, sort_keys=True)
    assert list(json.loads(row["details"])) == ["a", "t", "z"]
    assert event(actor="a", action="b", details={})["details"] is None
    assert event(actor="a", action="b", details=None)["details"] is None


def test_event_keeps_claim_and_value_as_given():
    row = event(actor=LOGIN_HOOK, action="team_member.sso_removed", org_mrn=ORG,
                subject_mrn=USER, target_mrn=TEAM, mapping_mrn=MAPPING, claim="department",
                value="\U0001F600 a\"b", details={"membership": "deleted"})
    assert (row["org_mrn"], row["subject_mrn"], row["target_mrn"], row["mapping_mrn"],
            row["claim"], row["value"]) == (ORG, USER, TEAM, MAPPING, "department",
                                            "\U0001F600 a\"b")
    assert json.loads(row["details"]) == {"membership": "deleted"}


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    async def execute(self, stmt, params=None):
        self.calls.append((stmt, params))


async def test_record_many_with_no_events_runs_no_statement():
    session = _Recorder()
    await record_many(session, [])  # type: ignore[arg-type]
    assert session.calls == []


async def test_record_many_is_one_statement_for_all_events():
    session = _Recorder()
    events = [event(actor=LOGIN_HOOK, action="team_member.sso_added", value=f"g{i}")
              for i in range(5)]
    await record_many(session, events)  # type: ignore[arg-type]
    assert len(session.calls) == 1
    stmt, params = session.calls[0]
    assert isinstance(stmt, Insert) and stmt.table.name == AuditEvent.__tablename__
    # The rows are the events, stamped with one instant: one batch is one change.
    assert [{**p, "at": None} for p in params] == [{**e, "at": None} for e in events]
    assert len({p["at"] for p in params}) == 1
    assert params[0]["at"] >= max(e["at"] for e in events)


async def test_record_many_writes_one_row_per_event(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/audit.db")
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(AuditEvent.__table__.create)
        events = [
            event(actor=LOGIN_HOOK, action="team_member.sso_added", org_mrn=ORG,
                  subject_mrn=USER, target_mrn=TEAM, mapping_mrn=MAPPING, claim=None,
                  value="g1", details={"membership": "created"}),
            event(actor=LOGIN_HOOK, action="team_member.sso_removed", org_mrn=ORG,
                  subject_mrn=USER, target_mrn=TEAM, mapping_mrn=MAPPING, claim="department",
                  value='a"b\\', details={"membership": "kept"}),
            event(actor="someone", action="mapping.removed"),
        ]
        async with db.transaction() as s:
            await record_many(s, events)
        async with db.transaction() as s:
            got = (await s.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars().all()
        assert [(r.actor, r.action, r.org_mrn, r.subject_mrn, r.target_mrn, r.mapping_mrn,
                 r.claim, r.value, r.details) for r in got] == [
            (e["actor"], e["action"], e["org_mrn"], e["subject_mrn"], e["target_mrn"],
             e["mapping_mrn"], e["claim"], e["value"], e["details"]) for e in events]
        assert len({r.id for r in got}) == 3
    finally:
        await db.dispose()
