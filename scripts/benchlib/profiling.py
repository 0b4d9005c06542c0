"""py-spy on the server while a scenario runs: collapsed stacks (flamegraph.pl, speedscope,
inferno), an SVG flame graph and a text summary (where the CPU goes, by area and function)."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from benchlib import procs
from benchlib.progress import say

PY_SPY = Path(sys.executable).parent / "py-spy"


def ensure_py_spy() -> Path:
    if not PY_SPY.exists():
        say("installing py-spy into the virtualenv (pip)")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                        "--disable-pip-version-check", "py-spy"], check=True)
    return PY_SPY


def start(pid: int, out: Path, duration: float, rate: int = 100) -> subprocess.Popen:
    """Sample ``pid`` and its children for ``duration`` seconds (blocking samples: exact
    stacks, a few percent of overhead)."""
    return procs.spawn([str(ensure_py_spy()), "record", "--pid", str(pid), "--subprocesses",
                        "--rate", str(rate), "--duration", str(int(duration + 0.999)),
                        "--format", "raw", "--output", str(out)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, timeout: float = 60) -> None:
    try:
        proc.wait(timeout=timeout)
    finally:
        procs.stop(proc)


_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

#: (start of the file path as py-spy prints it, relative to sys.path; area), first match wins.
AREAS = [
    ("app/login/", "app: sign-in (app/login)"),
    ("app/driver/sqlite", "SQLite statements (app/driver/sqlite.py, in the connections' threads)"),
    ("app/driver/", "app: statements on the driver (app/driver)"),
    ("app/observability", "app: logging, metrics, request ids"),
    ("app/", "app: other"),
    ("resolvers/", "app: resolvers"),
    ("models/", "app: models"),
    ("sqlalchemy/dialects/postgresql/asyncpg", "SQLAlchemy asyncpg adapter"),
    ("sqlalchemy/dialects/sqlite", "SQLAlchemy SQLite adapter"),
    ("sqlalchemy/orm/", "SQLAlchemy ORM"),
    ("sqlalchemy/sql/", "SQLAlchemy SQL compiler/expressions"),
    ("sqlalchemy/engine/", "SQLAlchemy engine"),
    ("sqlalchemy/", "SQLAlchemy other"),
    ("sqlmodel/", "SQLModel"),
    ("greenlet", "greenlet"),
    ("asyncpg/", "asyncpg driver"),
    ("aiosqlite/", "aiosqlite driver (includes SQLite executing queries)"),
    ("concurrent/futures/", "thread pool hand-offs (SQLite connections' threads)"),
    ("sqlite3/", "sqlite3"),
    ("jose/", "python-jose"),
    ("cryptography/", "cryptography (RSA)"),
    ("ecdsa/", "ecdsa"),
    ("rsa/", "rsa"),
    ("strawberry/", "Strawberry"),
    ("graphql/", "graphql-core"),
    ("starlette/", "Starlette"),
    ("uvicorn/", "uvicorn"),
    ("h11/", "h11 (HTTP parsing)"),
    ("httptools", "httptools"),
    ("httpx/", "httpx"),
    ("prometheus_client/", "prometheus-client"),
    ("pydantic", "pydantic"),
    ("logging/", "logging (stdlib)"),
    ("json/", "json (stdlib)"),
    ("asyncio/", "asyncio event loop"),
    ("selectors.py", "asyncio event loop"),
    ("urllib/", "urllib (form parsing)"),
    ("base64.py", "base64 (stdlib)"),
    ("email/", "email (stdlib)"),
]
APP_PREFIXES = ("app/", "resolvers/", "models/")


#: The loops of worker threads, sampled while they wait for their next call (py-spy counts the
#: wait as busy: it is a lock, not a system call it recognises).
_IDLE_LOOPS = {("_worker", "concurrent/futures/thread.py"),
               ("_connection_worker_thread", "aiosqlite/core.py")}


def _waiting(leaf: tuple[str, str, str]) -> bool:
    """Whether a sample is a worker thread waiting for work (the leaf is its loop itself)."""
    func, file, _line = leaf
    return any(func == f and file.endswith(path) for f, path in _IDLE_LOOPS)


def area(path: str) -> str:
    for prefix, name in AREAS:
        if path.startswith(prefix) or f"/{prefix}" in path:
            return name
    return "other: " + path if path else "other"


def _parse(line: str) -> tuple[list[tuple[str, str, str]], int] | None:
    stack, _, count = line.rstrip("\n").rpartition(" ")
    if not stack or not count.isdigit():
        return None
    frames = []
    for raw in stack.split(";"):
        m = _FRAME.match(raw)
        if m:
            frames.append((m.group("func"), m.group("file") or "", m.group("line") or ""))
        else:
            frames.append((raw, "", ""))
    return frames, int(count)


def summarize(collapsed: Path, title: str, top: int = 25, cpu: dict | None = None,
              measured: dict | None = None) -> str:
    """The share of samples by area (leaf frame), by function (self and inclusive) and by the
    innermost app function on the stack."""
    total = 0
    by_area: dict[str, int] = defaultdict(int)
    self_fn: dict[str, int] = defaultdict(int)
    incl_fn: dict[str, int] = defaultdict(int)
    app_fn: dict[str, int] = defaultdict(int)
    for line in collapsed.read_text().splitlines():
        parsed = _parse(line)
        if parsed is None:
            continue
        frames, count = parsed
        # py-spy raw stacks start with the process and thread names; drop non-code frames.
        code = [f for f in frames if f[1]]
        if not code or _waiting(code[-1]):
            continue
        total += count
        leaf = code[-1]
        by_area[area(leaf[1])] += count
        self_fn[f"{leaf[0]} ({_short(leaf[1])}:{leaf[2]})"] += count
        seen = set()
        for func, file, _line in code:
            key = f"{func} ({_short(file)})"
            if key not in seen:
                seen.add(key)
                incl_fn[key] += count
        for func, file, line in reversed(code):
            if file.startswith(APP_PREFIXES) and not file.startswith("app/observability"):
                app_fn[f"{func} ({_short(file)}:{line})"] += count
                break
        else:
            where = ("a SQLAlchemy greenlet (its caller is on another stack)"
                     if code[0][1].startswith("sqlalchemy/") else
                     "a SQLite connection's thread" if code[0][1].startswith(
                         ("aiosqlite/", "threading.py", "concurrent/futures/"))
                     else "server, framework, logging")
            app_fn[f"(no app frame: {where})"] += count
    if not total:
        return f"{title}\n\nno samples (py-spy saw no CPU activity)\n"

    def table(rows: dict[str, int], heading: str) -> list[str]:
        out = [heading, ""]
        for name, n in sorted(rows.items(), key=lambda kv: -kv[1])[:top]:
            out.append(f"{100 * n / total:6.1f}%  {name}")
        return out + [""]

    lines = [title, "", f"{total} samples (CPU only; idle waits excluded)", ""]
    for label, c in (("under py-spy", cpu), ("in the measured run", measured)):
        if c:
            lines.append(
                f"CPU {label}: server {c['server_cpu_pct']}% of one core (event-loop thread "
                f"{c['server_main_threads_cpu_pct']}%, other threads "
                f"{c['server_other_threads_cpu_pct']}%); "
                + (f"PostgreSQL {c['database_cpu_pct']}%; " if "database_cpu_pct" in c else "")
                + f"whole machine {c['machine_busy_pct']}% busy of {os.cpu_count()} cores "
                "(wrk, database and server together)")
    lines.append("")
    lines += table(by_area, "CPU by area (where the sampled instruction was)")
    lines += table(app_fn, "CPU by innermost app line (what app code caused it)")
    lines += table(self_fn, "Top functions, self time")
    lines += table(incl_fn, "Top functions, inclusive time")
    return "\n".join(lines)


def _short(path: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def flame_svg(collapsed: Path, out: Path, title: str, width: int = 1800) -> None:
    """A plain SVG flame graph (no JavaScript) of the collapsed stacks."""
    root: dict = {"n": 0, "kids": {}}
    for line in collapsed.read_text().splitlines():
        parsed = _parse(line)
        if parsed is None:
            continue
        frames, count = parsed
        node = root
        node["n"] += count
        for func, file, _line in frames:
            if not file:
                continue
            key = f"{func} ({_short(file)})"
            node = node["kids"].setdefault(key, {"n": 0, "kids": {}})
            node["n"] += count
    total = root["n"] or 1
    rows: list[str] = []
    height = 16
    depth_max = [0]

    def walk(node: dict, x: float, depth: int) -> None:
        for name, kid in sorted(node["kids"].items()):
            w = width * kid["n"] / total
            if w >= 0.5:
                depth_max[0] = max(depth_max[0], depth)
                hue = 20 + (hash(name.split(" (")[-1]) % 40)
                label = html.escape(name)
                text = label if w > 60 else ""
                rows.append(
                    f'<g><title>{label} — {100 * kid["n"] / total:.1f}%</title>'
                    f'<rect x="{x:.1f}" y="{{Y{depth}}}" width="{w:.1f}" height="{height - 1}" '
                    f'fill="hsl({hue},85%,60%)"/>'
                    f'<text x="{x + 3:.1f}" y="{{T{depth}}}" font-size="11" '
                    f'font-family="monospace" clip-path="none">{text[: int(w / 7)]}</text></g>')
                walk(kid, x, depth + 1)
            x += w

    walk(root, 0.0, 0)
    levels = depth_max[0] + 1
    svg_h = (levels + 2) * height
    body = "\n".join(rows)
    for d in range(levels):
        y = svg_h - (d + 1) * height
        body = body.replace(f"{{Y{d}}}", str(y)).replace(f"{{T{d}}}", str(y + 11))
    out.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{svg_h}">\n'
        f'<text x="4" y="13" font-size="13" font-family="sans-serif">{html.escape(title)}'
        f' ({root["n"]} samples)</text>\n{body}\n</svg>\n')
