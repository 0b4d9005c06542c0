"""scripts/bench end to end on a tiny seed, so the harness cannot rot.

Runs every scenario for two seconds on SQLite and checks that each one sent requests without
errors and did what it claims (no timing is asserted: load numbers belong in
docs/performance.md, not in a test). Skipped when wrk is not installed, unless
TEAMCLAIMS_REQUIRE_BENCH=1 (then a failure).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRE = os.environ.get("TEAMCLAIMS_REQUIRE_BENCH") == "1"
SCENARIOS = ["a", "b", "c", "d", "e", "f", "b_before_growth", "b_mappings_x10"]


def _missing() -> list[str]:
    missing = [tool for tool in ("wrk", "node") if shutil.which(tool) is None]
    if not (ROOT / "tests" / "oidc" / "node_modules" / "oauth2-mock-server").exists():
        missing.append("the test OIDC provider (npm ci in tests/oidc)")
    return missing


def test_bench_runs_every_scenario_on_a_tiny_seed(tmp_path: Path) -> None:
    if missing := _missing():
        msg = (f"benchmark smoke test skipped: {', '.join(missing)} not installed "
               "(scripts/install-bench-tools installs wrk)")
        if REQUIRE:
            pytest.fail(msg + " -- but TEAMCLAIMS_REQUIRE_BENCH=1")
        pytest.skip(msg)
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [str(ROOT / "scripts" / "bench"), "--users", "50", "--teams", "20", "--mappings", "40",
         "--spaces", "1", "--workspaces", "2", "--duration", "2", "--warmup", "1",
         "--connections", "10", "--sql-report", "--json", str(out),
         "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=240, check=False,
    )
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    results = json.loads(out.read_text())

    assert results["database"]["backend"] == "sqlite"
    assert results["seed"]["users"] == 50 and results["seed"]["rows"]["user_account"] == 50
    for key in SCENARIOS:
        r = results["scenarios"][key]
        assert r["requests"] > 0, key
        allowance = max(2, r["requests"] // 100)
        assert r["errors"]["total"] <= allowance, (key, r["errors"])
        assert r["ratio_to_floor"] is not None, key
        for p in ("p50", "p95", "p99"):
            assert r["latency_ms"][p] >= 0, (key, p)
    # Each scenario does what its name says (read from the server's own metrics).
    assert results["scenarios"]["b"]["membership_changes"] == {"add": 0, "remove": 0}, \
        "a returning user's sign-in changed memberships: the seed no longer matches sign-in"
    assert results["scenarios"]["c"]["membership_changes"]["add"] > 0
    moved = results["scenarios"]["d"]["membership_changes"]
    assert moved["add"] > 0 and moved["remove"] > 0
    assert results["mappings_growth"]["mappings_after"] == 10 * 40
    # The growth is judged against (b) run again on the same users just before it.
    assert results["mappings_growth"]["rps_before"] == \
        results["scenarios"]["b_before_growth"]["rps"]
    sql = [v for k, v in results["sql_report"].items() if k not in ("file", "statement_costs")]
    assert len(sql) == 2 and all(r["statements"] for r in sql)
    costs = results["sql_report"]["statement_costs"]
    assert set(costs) == {"orm_session_execute_us", "connection_execute_us",
                          "driver_connection_execute_us", "driver_us",
                          "read_session_with_one_statement_us",
                          "statements_with_one_statement_us",
                          "transaction_with_one_statement_us"}
    assert all(v > 0 for v in costs.values()), costs
    assert "| (a) floor" in proc.stdout and "requests/s" in proc.stdout
    # The floor is measured again at the end; the ratios are to the mean of both.
    floor = results["floor"]
    assert results["scenarios"]["a_end"]["requests"] > 0
    assert floor["end_rps"] == results["scenarios"]["a_end"]["rps"]
    assert floor["mean_rps"] == pytest.approx((floor["start_rps"] + floor["end_rps"]) / 2,
                                              abs=0.1)
    b = results["scenarios"]["b"]
    assert b["ratio_to_floor"] == pytest.approx(b["rps"] / floor["mean_rps"], rel=1e-3)
