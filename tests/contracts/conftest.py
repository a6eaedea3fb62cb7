"""Contract fixtures: the whole sandbox app in process, reached through a transport that
checks every request and response against the partners' published contracts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from crossdock.sandbox.app import create_app
from crossdock.sandbox.context import SandboxConfig
from tests.contracts.contracts import Contracts, ContractTransport, all_specs, contracts_dir


@pytest.fixture
def contracts() -> Contracts:
    contracts_dir()
    return Contracts(all_specs())


@pytest.fixture
def sandbox() -> FastAPI:
    return create_app(SandboxConfig())


@pytest.fixture
async def checked_http(sandbox: FastAPI, contracts: Contracts) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client into the sandbox whose every exchange must fit the contracts:
    after the test, every violation seen fails it."""
    transport = ContractTransport(httpx.ASGITransport(app=sandbox), contracts)
    async with httpx.AsyncClient(transport=transport) as http:
        yield http
    assert contracts.violations == [], "\n".join(contracts.violations)


@pytest.fixture
async def raw_http(sandbox: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox without checks, for its test controls (`_sandbox/` routes)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox), base_url="http://sandbox"
    ) as http:
        yield http
