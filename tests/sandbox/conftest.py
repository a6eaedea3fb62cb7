"""Sandbox fixtures: the whole partner sandbox on a real port, for the official SDKs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from tests.servers import serve


@pytest.fixture(scope="session")
def live_sandbox() -> Iterator[str]:
    """The sandbox served by uvicorn from a background thread; yields its base URL.

    Session-scoped: starting uvicorn costs ~100 ms, and tests use fresh object ids.
    """
    with serve(create_app(SandboxConfig())) as url:
        yield url
