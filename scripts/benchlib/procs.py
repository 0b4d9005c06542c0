"""Child processes of the bench (OIDC provider, servers, wrk, py-spy): started in their own
process group, always stopped by the ids recorded here, on every exit path."""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
OIDC_DIR = ROOT / "tests" / "oidc"
BIN = Path(sys.executable).parent

_children: list[subprocess.Popen] = []
_cleanups: list[Callable[[], None]] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(args: list[str], *, env: dict[str, str] | None = None, **kw) -> subprocess.Popen:
    proc = subprocess.Popen(args, env=env, start_new_session=True, **kw)
    _children.append(proc)
    return proc


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM the child's process group (uvicorn workers too), then SIGKILL if it lingers."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
    if proc in _children:
        _children.remove(proc)


def on_exit(fn: Callable[[], None]) -> None:
    _cleanups.append(fn)


def cleanup() -> None:
    while _children:
        stop(_children[-1])
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception as exc:
            sys.stderr.write(f"bench: cleanup step failed: {exc}\n")


def _on_signal(signum, _frame) -> None:
    cleanup()
    raise SystemExit(128 + signum)


def install_handlers() -> None:
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def run(args: list[str], *, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout,
                         check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed ({out.returncode}):\n{out.stdout}\n"
                           f"{out.stderr}")
    return out.stdout


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen


def start_provider(log_path: Path) -> Provider:
    if not (OIDC_DIR / "node_modules" / "oauth2-mock-server").exists():
        raise SystemExit(f"bench: the OIDC provider is not installed: run `npm ci` in {OIDC_DIR} "
                         "(scripts/test does)")
    log = open(log_path, "ab")
    proc = spawn(["node", str(OIDC_DIR / "provider.mjs"), str(free_port())],
                 stdout=subprocess.PIPE, stderr=log)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        stop(proc)
        raise RuntimeError("the OIDC provider did not start (see provider.log)")
    return Provider(json.loads(line)["issuer"], proc)


@dataclass
class Server:
    name: str
    base_url: str
    process: subprocess.Popen


def start_server(name: str, app: str, *, env: dict[str, str], workers: int, log_level: str,
                 log_path: Path, timeout: float = 120) -> Server:
    """``app``: "teamclaims" or "floor"; both run under the same uvicorn settings."""
    port = free_port()
    env = {**env, "PYTHONPATH": os.pathsep.join(
        [str(SCRIPTS)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))}
    log = open(log_path, "ab")
    proc = spawn([str(BIN / "python"), "-m", "benchlib.serve", "--app", app, "--port", str(port),
                  "--workers", str(workers), "--log-level", log_level],
                 env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    probe = "/healthz" if app == "teamclaims" else "/"
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=5) as client:
        while True:
            try:
                if client.get(base + probe).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                stop(proc)
                raise RuntimeError(f"the {name} server did not come up; see {log_path}")
            time.sleep(0.1)
    return Server(name, base, proc)


def server_pids(server: Server) -> list[int]:
    """The launcher and, with several workers, its worker processes."""
    pids = [server.process.pid]
    try:
        out = subprocess.run(["pgrep", "-g", str(server.process.pid)], capture_output=True,
                             text=True, check=False).stdout
        pids += [int(p) for p in out.split() if int(p) != server.process.pid]
    except FileNotFoundError:
        pass
    return pids


def _ticks() -> float:
    return float(os.sysconf("SC_CLK_TCK"))


def threads_cpu(pids: list[int]) -> dict[str, float]:
    """CPU seconds per thread of these processes ("pid/tid"), from /proc."""
    out: dict[str, float] = {}
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                stat = (task / "stat").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            out[f"{pid}/{task.name}"] = (int(fields[11]) + int(fields[12])) / _ticks()
    return out


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return (total - idle) / _ticks(), total / _ticks()


def cpu_by_name(name: str) -> dict[int, float]:
    """CPU seconds of every process whose command name is ``name`` (e.g. PostgreSQL's)."""
    out: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if stat[stat.index("(") + 1:stat.rindex(")")] != name:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        out[int(entry.name)] = (int(fields[11]) + int(fields[12])) / _ticks()
    return out


class CpuMeter:
    """Server process CPU, PostgreSQL's CPU (when asked) and whole-machine CPU over an
    interval."""

    def __init__(self, pids: list[int], *, database: str | None = None) -> None:
        self.pids = pids
        self.database = database
        self.db_cpu = cpu_by_name(database) if database else {}
        self.threads = threads_cpu(pids)
        self.machine = machine_busy()
        self.started = time.monotonic()

    def stop(self) -> dict:
        wall = time.monotonic() - self.started
        threads = threads_cpu(self.pids)
        busy, total = machine_busy()
        per_thread = {k: round(v - self.threads.get(k, 0.0), 2) for k, v in threads.items()}
        server = sum(per_thread.values())
        main = sum(v for k, v in per_thread.items() if k.split("/")[0] == k.split("/")[1])
        out = {}
        if self.database:
            now = cpu_by_name(self.database)
            used = sum(v - self.db_cpu.get(pid, 0.0) for pid, v in now.items())
            out["database_cpu_pct"] = round(100 * used / wall, 1)
        return out | {
            "wall_s": round(wall, 2),
            "server_cpu_pct": round(100 * server / wall, 1),
            "server_main_threads_cpu_pct": round(100 * main / wall, 1),
            "server_other_threads_cpu_pct": round(100 * (server - main) / wall, 1),
            "machine_busy_pct": round(100 * (busy - self.machine[0]) /
                                      max(total - self.machine[1], 1e-9), 1),
        }


def wait_idle(pids: list[int], *, threshold: float = 0.05, window: float = 0.5,
              timeout: float = 120) -> float:
    """Wait until these processes use less than ``threshold`` of a core over ``window``
    seconds (the server finished what was queued); returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = sum(threads_cpu(pids).values())
        time.sleep(window)
        if sum(threads_cpu(pids).values()) - before < threshold * window:
            break
    return round(time.monotonic() - started, 1)
