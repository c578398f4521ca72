"""The web server's listening socket: connections accepted from it send without delay."""

from __future__ import annotations

import asyncio
import socket

import uvicorn.config

from cityhealth.serve import bind_tcp_socket


def nodelay_of_accepted(listener: socket.socket) -> int:
    """TCP_NODELAY of a connection that asyncio accepted from `listener`, as a worker does."""

    async def accept_one() -> int:
        loop = asyncio.get_running_loop()
        accepted: asyncio.Future[int] = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, timeout=5)
        finally:
            writer.close()
            server.close()

    return asyncio.run(accept_one())


def test_worker_connections_get_tcp_nodelay():
    config = uvicorn.config.Config("cityhealth.asgi:application", host="127.0.0.1", port=0)
    listener = bind_tcp_socket(config)
    assert listener.proto == socket.IPPROTO_TCP
    assert listener.get_inheritable()
    assert nodelay_of_accepted(listener) != 0
