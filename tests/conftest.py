"""Shared fixtures: Temporal test environments from the pip-installed binaries."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from crossdock.binaries import installed_binary
from crossdock.config import get_settings
from workflows.search import ALL as SEARCH_ATTRIBUTES

SKIP_DEADLINE = timedelta(minutes=2)


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Each test reads the environment it set up: `get_settings()` is cached per
    process, and a value cached by an earlier test (a sandbox URL, a port) would
    otherwise point this test at a server that is gone."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server: timers of days pass in milliseconds.

    One per test: the server's clock and time-skipping lock are shared by every workflow
    on it, so work one test leaves behind (a workflow woken by a later skip with no
    worker to run it) would hold the next test's clock. Starting one costs about 0.1 s.
    """
    async with time_skipping_server() as env:
        yield env


@contextlib.asynccontextmanager
async def time_skipping_server() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server of its own, with our search attributes."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=installed_binary("temporal-test-server"),
    )
    await register_search_attributes(env.client)
    try:
        yield env
    finally:
        await env.shutdown()


async def register_search_attributes(client: Client) -> None:
    """Our search attributes, as `make run` registers them on the dev server."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=client.namespace,
            search_attributes={
                key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
                for key in SEARCH_ATTRIBUTES
            },
        )
    )


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


async def skip_time(env: WorkflowEnvironment, duration: timedelta | float) -> None:
    """`env.sleep` with a longer deadline: on a loaded machine the test server can take
    longer than the default RPC timeout to fire the timers (and activity retries) a
    skip crosses."""
    request = SleepRequest()
    seconds = duration if isinstance(duration, timedelta) else timedelta(seconds=duration)
    request.duration.FromTimedelta(seconds)
    await env.client.test_service.unlock_time_skipping_with_sleep(request, timeout=SKIP_DEADLINE)
