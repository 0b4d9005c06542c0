"""GraphiQL at /query, with its browser assets served by teamclaims itself.

Strawberry's page loads React and GraphiQL from a CDN. When the pinned npm copies are
installed (``npm ci`` in app/graphiql, which scripts/demo and scripts/test run), the page
points at /graphiql-assets/ instead, so GraphiQL works without reaching the internet. The
integrity (SRI) hashes on the page still apply: the copies are byte-identical.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

ASSETS = Path(__file__).parent / "graphiql" / "node_modules"
PREFIX = "/graphiql-assets/"
_CDN = re.compile(r"https://unpkg\.com/((?:@[^/\"]+/)?[^@/\"]+)@[^/\"]+/([^\"]+)")


def local_page(html: str, assets: Path = ASSETS) -> tuple[str, frozenset[str]] | None:
    """The page with CDN URLs replaced by local ones, and the files it needs; None if any
    file is missing (then the CDN page is served as it is)."""
    needed = frozenset(f"{pkg}/{path}" for pkg, path in _CDN.findall(html))
    if not needed or not all((assets / rel).is_file() for rel in needed):
        return None
    return _CDN.sub(lambda m: f"{PREFIX}{m.group(1)}/{m.group(2)}", html), needed


def asset_endpoint(allowed: frozenset[str], assets: Path = ASSETS):
    """Serve exactly the files the page names, nothing else from node_modules."""

    async def asset(request: Request) -> Response:
        rel = request.path_params["path"]
        if rel not in allowed:
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(assets / rel, headers={"Cache-Control": "public, max-age=86400"})

    return asset
