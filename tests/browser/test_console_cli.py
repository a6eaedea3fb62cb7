"""`crossdock inbox|orders|decide|cancel` over the console API of a real stack, with an
API token: what an operator types and reads."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner, Result

from crossdock.cli import app
from crossdock.models.order_states import OrderState
from tests.browser.conftest import MOVED_ON, Console, order_in_review, wait_for_state


async def crossdock(console: Console, account: str, *args: str) -> Result:
    """Run the CLI in a thread: it waits on the console, whose updates need this loop's
    worker."""
    env = {"CROSSDOCK_CONSOLE_URL": console.url, "COLUMNS": "300"}
    if account:
        env["CROSSDOCK_TOKEN"] = console.tokens[account]
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, app, list(args), env=env)


async def test_inbox_list_show_and_decide_from_the_terminal(console: Console) -> None:
    workflow_id = await order_in_review(console)
    inbox = await crossdock(console, "view-1", "inbox")
    listed = await crossdock(console, "view-1", "orders", "list", "--state", "in_review")
    shown = await crossdock(console, "view-1", "orders", "show", workflow_id)
    assert inbox.exit_code == 0, inbox.output
    assert workflow_id in inbox.output and "Waiting for a decision" in inbox.output
    assert workflow_id in listed.output
    assert "Waiting for a decision 'review'" in shown.output
    assert "approve, reject, request_info" in shown.output

    no_reason = await crossdock(console, "ops-1", "decide", workflow_id, "reject")
    assert no_reason.exit_code == 1
    assert "409 refused: a reason is required to reject 'review'" in no_reason.output
    approved = await crossdock(
        console, "ops-1", "decide", workflow_id, "approve", "--reason", "verified"
    )
    assert approved.exit_code == 0, approved.output
    assert f"accepted: approve on 'review' of {workflow_id} by ops-1 (operator)" in approved.output
    assert "claim" not in approved.output and "{" not in approved.output  # a sentence, no repr
    await wait_for_state(console, workflow_id, set(MOVED_ON))
    audited = await crossdock(console, "view-1", "orders", "show", workflow_id)
    assert "refused" in audited.output and "accepted" in audited.output


async def test_cancel_and_the_errors_a_user_meets(console: Console) -> None:
    workflow_id = await order_in_review(console)
    no_token = await crossdock(console, "", "inbox")
    bad_state = await crossdock(console, "view-1", "returns", "list", "--state", "lost")
    by_viewer = await crossdock(console, "view-1", "cancel", workflow_id, "--reason", "dup")
    by_operator = await crossdock(console, "ops-2", "cancel", workflow_id, "--reason", "dup")
    assert no_token.exit_code == 2 and "no API token" in no_token.output
    assert bad_state.exit_code == 1 and "'lost' is not a return state" in bad_state.output
    assert by_viewer.exit_code == 1 and "role viewer may not cancel orders" in by_viewer.output
    assert by_operator.exit_code == 0, by_operator.output
    await wait_for_state(console, workflow_id, {OrderState.CANCELLED})
