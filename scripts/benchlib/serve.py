"""Serve teamclaims or the floor app under uvicorn with identical settings.

``python -m benchlib.serve --app teamclaims|floor --port P --workers N --log-level L``

teamclaims is served exactly as ``teamclaims serve`` does (the app factory, the JSON logging
it configures, uvicorn's access log off), plus a worker count; migrations ran before. The
floor is a bare Starlette route returning a constant JSON document.
"""

from __future__ import annotations

import argparse
import contextlib

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def teamclaims_app():
    from app.main import worker_app

    return worker_app()


def floor_app() -> Starlette:
    async def constant(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/", constant, methods=["GET", "POST"])])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--app", choices=["teamclaims", "floor"], required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--log-level", default="info")
    args = p.parse_args()
    from app.observability import metrics_shared_by_workers

    with metrics_shared_by_workers() if args.workers > 1 else contextlib.nullcontext():
        uvicorn.run(f"benchlib.serve:{args.app}_app", factory=True, host="127.0.0.1",
                    port=args.port, workers=args.workers, log_level=args.log_level,
                    log_config=None, access_log=False)


if __name__ == "__main__":
    main()
