"""The web server: `python -m cityhealth.serve [uvicorn's options]`.

uvicorn serving `cityhealth.asgi:application`, with two differences:

- database connections are pooled per worker process (CITYHEALTH_DATABASE_POOL, on unless
  set to 0; see settings);
- its connections send without delay. With `--workers N` uvicorn 0.54 binds the listening
  socket itself, leaving its protocol number at 0, and hands it to the worker processes;
  asyncio turns TCP_NODELAY on only for connections accepted from a socket that says
  IPPROTO_TCP. Nagle's algorithm then holds back the body of every response that follows
  its headers on a keep-alive connection until the client's delayed ACK, about 40 ms on
  Linux (uvicorn issue 3149): a crew device posting one position per request waited that
  long for every answer. A single worker is not affected: asyncio binds that socket itself.
"""

from __future__ import annotations

import os
import socket
import sys

import uvicorn.config
import uvicorn.main

APPLICATION = "cityhealth.asgi:application"

_uvicorn_bind_socket = uvicorn.config.Config.bind_socket


def bind_tcp_socket(self: uvicorn.config.Config) -> socket.socket:
    """uvicorn's listening socket, marked IPPROTO_TCP when it is a TCP one."""
    sock = _uvicorn_bind_socket(self)
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto != socket.IPPROTO_TCP:
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.set_inheritable(True)  # the worker processes receive it
        return tcp
    return sock


def main(argv: list[str] | None = None) -> None:
    # Database connections pooled per worker process (see DATABASE_POOL in settings); the
    # workers inherit the environment.
    os.environ.setdefault("CITYHEALTH_DATABASE_POOL", "1")
    uvicorn.config.Config.bind_socket = bind_tcp_socket  # type: ignore[method-assign]
    args = sys.argv[1:] if argv is None else argv
    uvicorn.main.main([APPLICATION, *args])


if __name__ == "__main__":
    main()
