"""The read model written by the workflows themselves, on the dev server, on SQLite and
PostgreSQL: rows follow the workflow, never backwards, hold no buyer name or e-mail,
and a rebuild from the workflows gives the same rows as the live projection."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.readmodel import ReadModelActivities
from crossdock.binaries import installed_binary
from crossdock.buyers import buyer_key
from crossdock.models.order import Buyer, Channel
from crossdock.models.order_states import OrderState
from crossdock.models.order_steps import OrderInput, OrderPolicy
from crossdock.readmodel import rows
from crossdock.readmodel.rebuild import rebuild
from crossdock.readmodel.store import ReadModelStore
from crossdock.readmodel.tables import CHILDREN, HEADS, RmOrder, RmOrderLine, RmParcel
from crossdock.store import Database
from crossdock.workflow_sandbox import RUNNER
from tests.factories import WAREHOUSE, order
from tests.workflows.order_harness import deliver, launch, wait_for_state
from tests.workflows.stand_ins import Partners
from workflows.order import OrderWorkflow
from workflows.search import ALL as SEARCH_ATTRIBUTES

SECRET = b"read-model-test-secret-0123456789"
BUYER = Buyer(name="Marguerite Quelconque", email="marguerite.q@example.org")


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=installed_binary("temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
    )
    try:
        yield env
    finally:
        await env.shutdown()


def _worker(env: WorkflowEnvironment, queue: str, db: Database) -> Worker:
    real = ReadModelActivities(ReadModelStore(db), SECRET)
    stand_ins = [a for a in Partners().activities() if not a.__name__.startswith("project_")]
    return Worker(
        env.client,
        task_queue=queue,
        workflows=[OrderWorkflow],
        activities=[*stand_ins, real.project_order],
        workflow_runner=RUNNER,
    )


async def _completed_order(env: WorkflowEnvironment, queue: str) -> str:
    o = order(channel_order_id=f"SF{uuid.uuid4().hex[:10]}", buyer=BUYER)
    policy = OrderPolicy(return_window_seconds=1, ship_from=WAREHOUSE)
    handle = await launch(env, queue, OrderInput(order=o, policy=policy))
    await wait_for_state(handle, OrderState.PAYMENT_CAPTURED)
    await deliver(handle)
    await handle.result()
    return o.workflow_id


def _everything(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every rm_* row as plain values (without the sequence number a rebuild sets)."""
    found: dict[str, list[dict[str, Any]]] = {}
    with db.session() as session:
        for table in (*HEADS, *CHILDREN):
            columns = [c for c in table.__table__.columns if c.name != "seq"]
            rows_ = session.execute(select(*columns)).mappings().all()
            found[table.__tablename__] = sorted(
                (dict(r) for r in rows_), key=lambda r: sorted(map(str, r.values()))
            )
    return found


async def test_an_order_projects_its_rows_and_a_rebuild_gives_the_same(
    dev_env: WorkflowEnvironment, task_queue: str, db: Database
) -> None:
    async with _worker(dev_env, task_queue, db):
        workflow_id = await _completed_order(dev_env, task_queue)
        with db.session() as session:
            head = session.get(RmOrder, workflow_id)
            assert head is not None
            lines = session.scalars(select(RmOrderLine)).all()
            parcels = session.scalars(select(RmParcel)).all()
        assert head.state == OrderState.COMPLETED
        assert head.buyer_key == buyer_key(SECRET, Channel.STOREFRONT, BUYER)
        assert head.shipped_at is not None and head.delivered_at is not None
        assert head.captured_minor > 0
        assert [(line.sku, line.quantity) for line in lines] == [
            (item.sku, item.quantity) for item in order().items
        ]
        assert [p.tracking_code for p in parcels] == ["EZ1000000001"]

        live = _everything(db)
        report = await rebuild(
            dev_env.client, ReadModelStore(db), SECRET, narrow=f'TaskQueue = "{task_queue}"'
        )
        assert report.unreadable == [], report.unreadable
        assert _everything(db) == live


async def test_the_database_holds_no_buyer_name_or_e_mail(
    dev_env: WorkflowEnvironment, task_queue: str, db: Database
) -> None:
    async with _worker(dev_env, task_queue, db):
        await _completed_order(dev_env, task_queue)
    dumped = repr(_everything(db)).casefold()
    for secret in (BUYER.name, BUYER.email, "marguerite", "quelconque"):
        assert secret.casefold() not in dumped


async def test_an_older_projection_never_overwrites_a_newer_one(
    dev_env: WorkflowEnvironment, task_queue: str, db: Database
) -> None:
    async with _worker(dev_env, task_queue, db):
        workflow_id = await _completed_order(dev_env, task_queue)
        handle = dev_env.client.get_workflow_handle(workflow_id)
        status = await handle.query(OrderWorkflow.status)
    store = ReadModelStore(db)
    with db.session() as session:
        stored = session.get(RmOrder, workflow_id)
        assert stored is not None
        newest = stored.seq
    earlier = status.model_copy(update={"state": OrderState.RECEIVED})
    o = order(buyer=BUYER)
    written, kept = await asyncio.to_thread(
        store.write, rows.order_rows(workflow_id, newest - 1, o, earlier, "k")
    )
    assert (written, kept) == (False, newest)
    with db.session() as session:
        again = session.get(RmOrder, workflow_id)
        assert again is not None and again.state == OrderState.COMPLETED
