"""Safe deploys (crossdock/versioning.py): the procedure new version → ramp → current →
drain → retire on a real dev server. A case started on the old version finishes there
(PINNED); a poller moves to the new one when it continues as new; new cases start on
the new version; the old version drains and is retired."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.common import VersioningBehavior
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from crossdock.binaries import installed_binary
from crossdock.config import Settings
from crossdock.versioning import Deployment, build_id, deployment_config
from worker import WORKFLOWS
from workflows.options import UPGRADE_AT_CONTINUE

# Drainage is re-checked every few minutes by default: every second here.
FAST_DRAINAGE = [
    "--dynamic-config-value",
    'matching.wv.VersionDrainageStatusVisibilityGracePeriod="1s"',
    "--dynamic-config-value",
    'matching.wv.VersionDrainageStatusRefreshInterval="1s"',
    # A stopped worker's pollers are forgotten after this (default minutes), so the
    # version it served can be retired.
    "--dynamic-config-value",
    'matching.PollerHistoryTTL="1s"',
]


def test_versioned_workers_pin_every_workflow() -> None:
    config = deployment_config(Settings(worker_deployment="crossdock", _env_file=None))
    assert config is not None and config.use_worker_versioning
    assert config.default_versioning_behavior is VersioningBehavior.PINNED


def test_no_workflow_class_sets_its_own_behaviour() -> None:
    """The server refuses a class's versioning behaviour from an unversioned worker
    ("versioning behavior cannot be specified without deployment options"), which
    would stop every workflow under `make run`: the behaviour comes from the worker."""
    for cls in WORKFLOWS:
        behavior = workflow._Definition.must_from_class(cls).versioning_behavior
        assert behavior in (None, VersioningBehavior.UNSPECIFIED), cls.__name__


def test_the_build_id_is_the_package_version_and_commit(tmp_path: Path) -> None:
    derived = build_id(Settings(state_dir=tmp_path, _env_file=None))
    assert derived.startswith("0.1.0-") and len(derived) > len("0.1.0-")
    assert build_id(Settings(build_id="2.0.0-abc", _env_file=None)) == "2.0.0-abc"
    assert deployment_config(Settings(_env_file=None)) is None  # unversioned by default


OLD, NEW = "1.0.0-aaa", "1.1.0-bbb"


class Waiting:
    """Waits for `proceed`, then returns which build ran it."""

    build = ""

    def __init__(self) -> None:
        self.go = False

    @workflow.signal
    def proceed(self) -> None:
        self.go = True

    async def finish(self) -> str:
        await workflow.wait_condition(lambda: self.go)
        return self.build


@workflow.defn(name="Case", sandboxed=False)
class CaseOld(Waiting):
    build = OLD

    @workflow.run
    async def run(self) -> str:
        return await self.finish()


@workflow.defn(name="Case", sandboxed=False)
class CaseNew(Waiting):
    build = NEW

    @workflow.run
    async def run(self) -> str:
        return await self.finish()


@workflow.defn(name="Poller", sandboxed=False)
class PollerOld(Waiting):
    """Like the marketplace pollers: continues as new, upgrading."""

    build = OLD

    @workflow.run
    async def run(self, continued: bool = False) -> str:
        await self.finish()
        workflow.continue_as_new(True, initial_versioning_behavior=UPGRADE_AT_CONTINUE)


@workflow.defn(name="Poller", sandboxed=False)
class PollerNew(Waiting):
    build = NEW

    @workflow.run
    async def run(self, continued: bool = False) -> str:
        return self.build


CODE = {OLD: [CaseOld, PollerOld], NEW: [CaseNew, PollerNew]}


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[Client]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=installed_binary("temporal"), dev_server_extra_args=FAST_DRAINAGE
    )
    try:
        yield env.client
    finally:
        await env.shutdown()


def versioned_worker(client: Client, queue: str, deployment: str, build: str) -> Worker:
    settings = Settings(worker_deployment=deployment, build_id=build, _env_file=None)
    return Worker(
        client,
        task_queue=queue,
        workflows=CODE[build],
        deployment_config=deployment_config(settings),
    )


async def pinned_build(handle: WorkflowHandle[Any, Any]) -> str:
    info = (await handle.describe()).raw_description.workflow_execution_info.versioning_info
    return info.deployment_version.build_id


async def test_new_version_ramp_current_drain_retire(client: Client) -> None:
    queue, name = f"deploy-{uuid.uuid4()}", "crossdock"
    deployment = Deployment(client, name)
    old = versioned_worker(client, queue, name, OLD)
    async with old:
        await eventually(lambda: deployment.make_current(OLD))
        case = await client.start_workflow("Case", id=f"{queue}-case", task_queue=queue)
        poller = await client.start_workflow("Poller", id=f"{queue}-poll", task_queue=queue)
        await eventually(lambda: expect(pinned_build(case), OLD))

        async with versioned_worker(client, queue, name, NEW):
            await eventually(lambda: deployment.ramp(NEW, 10))
            await deployment.make_current(NEW)
            fresh = await client.start_workflow("Case", id=f"{queue}-new", task_queue=queue)
            for handle in (case, poller, fresh):
                await handle.signal("proceed")
            # The running case stays on the code it started with; the poller's next run
            # is on the new code.
            assert await case.result() == OLD
            assert await poller.result() == NEW
            assert await fresh.result() == NEW
            await eventually(lambda: expect(deployment.drainage(OLD), "drained"))
    await eventually(lambda: deployment.retire(OLD), seconds=30)


async def expect(value: Awaitable[object], wanted: object) -> None:
    got = await value
    assert got == wanted, f"{got!r} != {wanted!r}"


async def eventually(act: Callable[[], Awaitable[object]], seconds: float = 20) -> None:
    """Retry `act()` until it succeeds: the server learns of new pollers and closed
    workflows asynchronously."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            await act()
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.3)
