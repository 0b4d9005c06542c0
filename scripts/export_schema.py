#!/usr/bin/env python3
"""Write schema.graphql from the code: `python scripts/export_schema.py` (or `--check`)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from resolvers.schema import schema  # noqa: E402

TARGET = ROOT / "schema.graphql"


def render() -> str:
    return schema.as_str().rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text() != text:
            print("schema.graphql is stale: run scripts/export_schema.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
