"""Serve teamclaims or the floor app under uvicorn with identical settings.

``python -m benchlib.serve --app teamclaims|floor --port P --workers N --log-level L``

teamclaims is served exactly as ``teamclaims serve`` does (the app factory, the JSON logging
it configures, uvicorn's access log off), plus a worker count; migrations ran before. The
floor is a bare Starlette route returning a constant JSON document.
"""

from __future__ import annotations

import argparse
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def teamclaims_app():
    from app.main import create_app
    from app.observability import configure_logging
    from app.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)  # in every worker
    return create_app(settings)


def floor_app() -> Starlette:
    async def constant(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/", constant, methods=["GET", "POST"])])


def tcp_nodelay_for_workers() -> None:
    """With --workers > 1 uvicorn binds the listening socket as ``socket(family)`` (protocol 0);
    asyncio then never sets TCP_NODELAY on its connections, and every response written in two
    parts waits ~40 ms for the client's delayed ACK (uvicorn 0.54 on the asyncio loop). Mark
    the socket as TCP so connections get TCP_NODELAY, as they do with one worker."""
    original = uvicorn.Config.bind_socket

    def bind_socket(self):  # type: ignore[no-untyped-def]
        sock = original(self)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
            tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
            tcp.set_inheritable(True)
            return tcp
        return sock

    uvicorn.Config.bind_socket = bind_socket


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--app", choices=["teamclaims", "floor"], required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--log-level", default="info")
    args = p.parse_args()
    if args.workers > 1:
        tcp_nodelay_for_workers()
    uvicorn.run(f"benchlib.serve:{args.app}_app", factory=True, host="127.0.0.1",
                port=args.port, workers=args.workers, log_level=args.log_level,
                log_config=None, access_log=False)


if __name__ == "__main__":
    main()
