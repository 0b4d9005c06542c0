"""A small progress bar on stderr (no dependency): redrawn in place on a terminal, a line
every fifth of the way otherwise (CI logs, the smoke test)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: float, desc: str, unit: str = "") -> None:
        self.total = max(total, 1e-9)
        self.desc = desc
        self.unit = unit
        self.done = 0.0
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty()
        self._drawn_at = 0.0
        self._step = -1
        self._draw(force=True)

    def update(self, n: float = 1) -> None:
        self.set(self.done + n)

    def set(self, value: float) -> None:
        self.done = min(value, self.total)
        self._draw()

    def close(self, note: str = "") -> None:
        self.done = self.total
        self._draw(force=True, final=True, note=note)

    def _draw(self, force: bool = False, final: bool = False, note: str = "") -> None:
        now = time.monotonic()
        frac = self.done / self.total
        elapsed = now - self.started
        if self.tty:
            if not force and now - self._drawn_at < 0.1:
                return
            self._drawn_at = now
            width = 30
            filled = int(width * frac)
            bar = "#" * filled + "." * (width - filled)
            count = f"{_n(self.done)}/{_n(self.total)}{self.unit}"
            line = f"\r{self.desc:<34} [{bar}] {frac * 100:5.1f}% {count} {elapsed:6.1f}s"
            sys.stderr.write(line + (f" {note}\n" if final else ""))
            sys.stderr.flush()
            return
        step = int(frac * 5)
        if final or step != self._step:
            self._step = step
            tail = f" {note}" if final and note else ""
            sys.stderr.write(f"{self.desc}: {frac * 100:3.0f}% ({_n(self.done)}/{_n(self.total)}"
                             f"{self.unit}, {elapsed:.1f}s){tail}\n")
            sys.stderr.flush()


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def say(message: str) -> None:
    sys.stderr.write(f"bench: {message}\n")
    sys.stderr.flush()
