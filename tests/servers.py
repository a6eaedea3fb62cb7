"""Serving an ASGI app on a real port from a background thread, for end-to-end tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from crossdock.config import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(app: ASGIApp, port: int | None = None) -> Iterator[str]:
    """Run `app` with uvicorn on 127.0.0.1; yield its base URL; stop it afterwards."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"server on port {port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sandbox_urls(sandbox: str) -> dict[str, Any]:
    """Every partner base URL of `Settings`, pointed at the sandbox served at `sandbox`
    (e.g. "http://127.0.0.1:41234"): a partner added later is covered without editing
    each test stack."""
    default = f"http://127.0.0.1:{Settings.model_fields['sandbox_port'].default}"
    return {
        name: str(field.default).replace(default, sandbox)
        for name, field in Settings.model_fields.items()
        if name.endswith("_base_url")
    }
