"""A Platform's ASGI application served over real HTTP (uvicorn on a loopback port, in a thread of the test)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from lambdahost.server import Platform


@contextlib.contextmanager
def http_server(platform: Platform) -> Iterator[str]:
    """Serve ``platform.asgi_app()`` on 127.0.0.1 (a free port) for the ``with`` block; yields its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(platform.asgi_app(), log_level="warning", lifespan="off", loop="asyncio", http="h11")
    server = uvicorn.Server(config)  # not in the main thread: uvicorn leaves the signal handlers alone
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="test-http", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test HTTP server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
