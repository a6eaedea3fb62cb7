"""The console on PostgreSQL (as deployed past one machine): a second console on the
same stack whose accounts and audit log live in a fresh PostgreSQL database. Refusals by
role, reason, maker ≠ checker and finance threshold are audited there as on SQLite, and
the chain verifies. Skips, saying why, where PostgreSQL is unreachable (as the store
tests do)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from crossdock.audit.log import AuditLog
from crossdock.identity import Accounts
from crossdock.models.approval import Principal, Role
from crossdock.store import Database, normalise_url, upgrade
from starter.app import create_intake_app
from tests.browser.conftest import ACCOUNTS, PASSWORD, Console, large_return, order_in_review
from tests.integration.conftest import Stack
from tests.servers import free_port, serve
from tests.store.conftest import POSTGRES_URL, _postgres_unreachable


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    problem = _postgres_unreachable()
    if problem:
        pytest.skip(problem)
    name = f"crossdock_console_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(normalise_url(POSTGRES_URL)).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def pg_console(stack: Stack, postgres_url: str) -> Iterator[tuple[Console, Database]]:
    """A console on the stack's Temporal and worker, with its database in PostgreSQL."""
    port = free_port()
    settings = stack.settings.model_copy(
        update={"database_url": postgres_url, "console_port": port}
    )
    db = Database(postgres_url)
    upgrade(db)
    accounts = Accounts(db)
    tokens = {}
    for account_id, role in ACCOUNTS.items():
        accounts.add(account_id, role, PASSWORD)
        tokens[account_id] = accounts.issue_token(account_id, "tests").token
    with serve(create_intake_app(settings), port) as url:
        yield Console(url=url, stack=stack, tokens=tokens), db
    db.dispose()


def outcomes(db: Database, workflow_id: str) -> list[tuple[str, str]]:
    return [(e.principal_id, e.outcome.value) for e in AuditLog(db).entries(workflow_id)]


async def test_decisions_are_audited_in_postgresql_and_the_chain_holds(
    pg_console: tuple[Console, Database],
) -> None:
    console, db = pg_console
    order = await order_in_review(console)
    decide = f"/api/cases/{order}/decide"
    async with console.api("view-1") as viewer, console.api("ops-1") as ops:
        by_viewer = await viewer.post(decide, json={"key": "review", "action": "approve"})
        no_reason = await ops.post(decide, json={"key": "review", "action": "reject"})
        approved = await ops.post(decide, json={"key": "review", "action": "approve"})
    assert "role 'viewer' may not decide" in by_viewer.json()["message"]
    assert "a reason is required" in no_reason.json()["message"]
    assert approved.status_code == 200, approved.text
    assert outcomes(db, order) == [
        ("view-1", "refused"),
        ("ops-1", "refused"),
        ("ops-1", "accepted"),
    ]

    refund = await large_return(console, requested_by=Principal(id="ops-1", role=Role.OPERATOR))
    async with console.api("view-1") as viewer:
        pending = (await viewer.get(f"/api/cases/{refund}")).json()["pending"]
    body = {"key": pending["key"], "action": "approve", "option": pending["options"][0]}
    async with console.api("ops-1") as ops1, console.api("ops-2") as ops2:
        by_maker = await ops1.post(f"/api/cases/{refund}/decide", json=body)
        by_operator = await ops2.post(f"/api/cases/{refund}/decide", json=body)
    assert "maker ≠ checker" in by_maker.json()["message"]
    assert "needs role finance or admin" in by_operator.json()["message"]
    assert outcomes(db, refund) == [("ops-1", "refused"), ("ops-2", "refused")]
    verification = AuditLog(db).verify()
    assert verification.intact, verification.problems
    assert verification.entries == 5
