"""The results as a Markdown table (for the README) and the seed line under it."""

from __future__ import annotations

ORDER = ["a", "b", "c", "d", "e", "f", "b_before_growth", "b_mappings_x10", "a_end"]


def _ms(v: float) -> str:
    return f"{v:,.1f}" if v >= 10 else f"{v:.2f}"


def _pct(r: dict, key: str) -> str:
    value = r.get("cpu", {}).get(key)
    return "—" if value is None else f"{value:.0f}%"


def markdown(results: dict) -> str:
    scen = results["scenarios"]
    pg = results["database"]["backend"] == "postgresql"
    lines = [
        "| scenario | requests/s | × floor | p50 ms | p95 ms | p99 ms | requests | errors | "
        "server CPU" + (" | PostgreSQL CPU" if pg else "") + " |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if pg else ""),
    ]
    for key in ORDER + sorted(k for k in scen if k not in ORDER):
        r = scen.get(key)
        if r is None:
            continue
        ratio = r.get("ratio_to_floor")
        lat = r["latency_ms"]
        note = " (bodies ran out: repeats)" if r.get("exhausted") else ""
        if r.get("interference"):
            note += f" ⚠ other load {r['cpu']['other_cpu_pct']:.0f}%"
        lines.append(
            f"| {r['title']}{note} | {r['rps']:,.0f} | "
            f"{'—' if ratio is None else f'{ratio:.3f}'} | {_ms(lat['p50'])} | {_ms(lat['p95'])} | "
            f"{_ms(lat['p99'])} | {r['requests']:,} | {r['errors']['total']:,} | "
            f"{_pct(r, 'server_cpu_pct')}" + (f" | {_pct(r, 'database_cpu_pct')}" if pg else "")
            + " |")
    out = "\n".join(lines) + "\n"
    floor = results.get("floor")
    if floor:
        out += (f"\nThe floor: {floor['start_rps']:,.0f} requests/s at the start, "
                f"{floor['end_rps']:,.0f} at the end ({floor['drift_pct']:+.1f}%); every ratio "
                f"is to their mean, {floor['mean_rps']:,.0f}.\n")
    growth = results.get("mappings_growth")
    if growth:
        out += (f"\n10x mappings ({growth['mappings_before']:,} → {growth['mappings_after']:,}): "
                f"(b) {growth['rps_before']:,.0f} → {growth['rps_after']:,.0f} requests/s "
                f"({growth['change_pct']:+.1f}%), p99 {_ms(growth['p99_before_ms'])} → "
                f"{_ms(growth['p99_after_ms'])} ms.\n")
    seed = results["seed"]
    counts = seed["rows"]
    s = results["settings"]
    db = results["database"]
    engine = (f"PostgreSQL {db['server_version']} (fsync {db['fsync']}, synchronous_commit "
              f"{db['synchronous_commit']})" if pg and "server_version" in db else
              "PostgreSQL" if pg else f"SQLite {db.get('sqlite_version', '')}".strip())
    out += (f"\n{engine}, {s['workers']} uvicorn worker(s), "
            f"{s['connections']} connections (wrk -t{s['threads']}), {s['duration']:g} s per "
            f"scenario, log level {s['log_level']}, {results['machine']['cpus']} CPUs (CPU "
            "columns: % of one core during the scenario). "
            f"Seed: {seed['users']:,} users, {seed['teams']:,} teams, {seed['mappings']:,} "
            f"mappings, {seed['spaces']} spaces, {seed['workspaces']} workspaces; "
            f"{counts.get('team_member', 0):,} memberships, "
            f"{counts.get('team_member_grant', 0):,} grants, {seed['groups_per_token']} groups "
            f"per token ({seed['mapped_per_user']} mapped); seeded in {seed['seconds']:.0f} s.\n")
    busy = results["machine"].get("background_busy_pct")
    if busy is not None and busy > 10:
        out += (f"\nWarning: the machine was {busy:.0f}% busy before the load started (other "
                "processes): these numbers are skewed.\n")
    return out
