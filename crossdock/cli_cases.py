"""`crossdock cases list|show|reply|cancel-order|refund|approve-refund|reject-refund|
open-return|correct-address|stats|write`: buyer conversations from a terminal, through
the console's API (an API token: `crossdock users token ACCOUNT`); `write` plays a buyer
writing to the sandbox's marketplace (for demos and tests)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from crossdock.cases_report import seconds_text
from crossdock.cli_console import ConsoleApi, TokenOption, UrlOption, console
from crossdock.config import get_settings
from crossdock.models.case import BuyerMessage
from crossdock.models.order import Channel
from crossdock.models.returns import ReturnReason
from crossdock.money import Money

app = typer.Typer(help="Buyer conversations: the thread, replies, service figures.")
CaseArg = Annotated[str, typer.Argument(help="case-{channel}-{thread}")]


@app.command("list")
def list_cases(token: TokenOption = "", url: UrlOption = "") -> None:
    """Recent conversations, newest first."""
    rows = ConsoleApi(token, url).get("/api/conversations")
    table = Table(title=f"Buyer conversations ({len(rows)})")
    for column in ("case", "state", "about", "language", "deadline", "order"):
        table.add_column(column)
    for row in rows:
        late = " [yellow]late[/yellow]" if row["needs_attention"] else ""
        table.add_row(
            row["workflow_id"],
            row["state"] + late,
            ", ".join(row["intents"]),
            row["language"],
            (row["deadline"] or "-")[:16],
            row["order_workflow_id"] or "-",
        )
    console.print(table)


@app.command("show")
def show_case(workflow_id: CaseArg, token: TokenOption = "", url: UrlOption = "") -> None:
    """The conversation both ways, the order's facts and the suggested reply."""
    case = ConsoleApi(token, url).get(f"/api/conversations/{workflow_id}")
    facts = case.get("facts") or {}
    console.print(
        f"[bold]{workflow_id}[/bold] · [cyan]{case['state']}[/cyan] · {case['language']}"
        f" · order {facts.get('channel_order_id', '-')} ({facts.get('state', 'not linked')})"
    )
    for line in case["thread"]:
        who = "buyer" if line["inbound"] else line["by"]
        about = f" · {line['intent']}" if line.get("intent") else ""
        console.print(f"\n[bold]{who}[/bold] {line['at'][:16]}{about} · {line.get('via', '')}")
        console.print(line["text"], markup=False)
    for g in case.get("goodwill", []):
        money = Money.model_validate(g["amount"])
        console.print(f"\n[bold]{g['step']}[/bold] {money} · {g['state']} · {g['detail']}")
    suggested = case.get("suggested_reply") or {}
    if case["state"] == "awaiting_us" and suggested.get("text"):
        console.print("\n[bold]Suggested reply[/bold] (crossdock cases reply ID TEXT):")
        console.print(suggested["text"], markup=False)


@app.command("reply")
def reply(
    workflow_id: CaseArg,
    text: Annotated[str, typer.Argument(help="What the buyer reads.")],
    token: TokenOption = "",
    url: UrlOption = "",
) -> None:
    """Send a reply to the buyer through their channel."""
    line = ConsoleApi(token, url).post(f"/api/conversations/{workflow_id}/reply", {"text": text})
    console.print(f"sent via {line['via']} in {line['language']}")


@app.command("cancel-order")
def cancel_order(
    workflow_id: CaseArg,
    reason: Annotated[str, typer.Option(help="Why (the buyer asked, ...).")],
    token: TokenOption = "",
    url: UrlOption = "",
) -> None:
    """Cancel the conversation's order (before shipment) through the order's own update."""
    body = {"kind": "cancel_order", "reason": reason}
    receipt = ConsoleApi(token, url).post(f"/api/conversations/{workflow_id}/act", body)
    verdict = "cancelled" if receipt["accepted"] else "[red]refused[/red]"
    console.print(f"{verdict}: {receipt['detail']}")


ReasonOption = Annotated[str, typer.Option(help="Why (the buyer's words, what you checked).")]


def _act(token: str, url: str, workflow_id: str, body: dict[str, Any]) -> dict[str, Any]:
    api = ConsoleApi(token, url)
    receipt: dict[str, Any] = api.post(f"/api/conversations/{workflow_id}/act", body)
    verdict = "done" if receipt["accepted"] else "[red]refused[/red]"
    console.print(f"{verdict}: {receipt['detail']}", highlight=False)
    return receipt


def _facts(token: str, url: str, workflow_id: str) -> dict[str, Any]:
    case = ConsoleApi(token, url).get(f"/api/conversations/{workflow_id}")
    facts: dict[str, Any] | None = case.get("facts")
    if not facts or not facts.get("currency"):
        console.print(f"[red]{workflow_id} is linked to no order yet[/red]")
        raise typer.Exit(1)
    return facts


@app.command("refund")
def refund(
    workflow_id: CaseArg,
    amount: Annotated[str, typer.Argument(help="In the order's currency, e.g. 12.50.")],
    reason: ReasonOption,
    token: TokenOption = "",
    url: UrlOption = "",
) -> None:
    """Offer a goodwill refund without a return (over the threshold finance approves)."""
    currency = _facts(token, url, workflow_id)["currency"]
    try:
        money = Money.parse(amount, currency)
    except ValueError as err:
        raise typer.BadParameter(f"amount {amount!r}: {err}") from None
    body = {"kind": "goodwill_refund", "reason": reason, "amount": money.model_dump(mode="json")}
    _act(token, url, workflow_id, body)


@app.command("approve-refund")
def approve_refund(
    workflow_id: CaseArg,
    refund_step: Annotated[str, typer.Argument(help="The refund, e.g. goodwill-1.")],
    reason: ReasonOption,
    token: TokenOption = "",
    url: UrlOption = "",
) -> None:
    """Finance: approve a goodwill refund someone else offered; it is made at once."""
    body = {"kind": "approve_refund", "reason": reason, "refund": refund_step}
    _act(token, url, workflow_id, body)


@app.command("reject-refund")
def reject_refund(
    workflow_id: CaseArg,
    refund_step: Annotated[str, typer.Argument(help="The refund, e.g. goodwill-1.")],
    reason: ReasonOption,
    token: TokenOption = "",
    url: UrlOption = "",
) -> None:
    """Finance: reject a goodwill refund; nothing is refunded."""
    body = {"kind": "reject_refund", "reason": reason, "refund": refund_step}
    _act(token, url, workflow_id, body)


@app.command("open-return")
def open_return(
    workflow_id: CaseArg,
    why: Annotated[ReturnReason, typer.Option(help="The return's reason.")],
    reason: ReasonOption,
    line: Annotated[
        list[str] | None, typer.Option(help="SKU:QUANTITY; none: every line of the order.")
    ] = None,
    token: TokenOption = "",
    url: UrlOption = "",
) -> None:
    """Open a return for the conversation's order, as this operator."""
    lines = []
    for spec in line or []:
        sku, _, quantity = spec.partition(":")
        lines.append({"sku": sku, "quantity": int(quantity or "1")})
    body = {"kind": "open_return", "reason": reason, "return_reason": why, "lines": lines}
    _act(token, url, workflow_id, body)


@app.command("correct-address")
def correct_address(
    workflow_id: CaseArg,
    name: Annotated[str, typer.Option(help="Who receives the parcel.")],
    line1: Annotated[str, typer.Option(help="Street and number.")],
    city: Annotated[str, typer.Option()],
    reason: ReasonOption,
    postal_code: Annotated[str, typer.Option()] = "",
    line2: Annotated[str, typer.Option()] = "",
    token: TokenOption = "",
    url: UrlOption = "",
) -> None:
    """A new address in the same country, before the label is bought (storefront)."""
    country = _facts(token, url, workflow_id)["country"]
    address = {
        "name": name,
        "line1": line1,
        "line2": line2,
        "city": city,
        "postal_code": postal_code,
        "country": country,
    }
    _act(token, url, workflow_id, {"kind": "correct_address", "reason": reason, "address": address})


@app.command("stats")
def stats(token: TokenOption = "", url: UrlOption = "") -> None:
    """First response time, share answered in time, by intent and language, open by age."""
    figures: dict[str, Any] = ConsoleApi(token, url).get("/api/conversations/stats")
    share = figures["in_time_share"]
    console.print(
        f"{figures['cases']} conversations, {figures['answered']} answered"
        f" ({figures['auto_answered']} by policy), {figures['missed']} deadlines missed"
    )
    console.print(
        f"first response: median {seconds_text(figures['first_response_median_s'])},"
        f" p90 {seconds_text(figures['first_response_p90_s'])}; answered in time:"
        f" {'-' if share is None else f'{share:.0%}'}"
    )
    for title in ("by_intent", "by_language", "in_time_by_intent", "open_by_age"):
        values = figures[title]
        shown = {k: f"{v:.0%}" if title == "in_time_by_intent" else v for k, v in values.items()}
        console.print(
            f"{title.replace('_', ' ')}: " + ", ".join(f"{k} {v}" for k, v in shown.items())
        )


@app.command("write")
def write(
    order_id: Annotated[str, typer.Argument(help="The channel's order id.")],
    text: Annotated[str, typer.Argument(help="What the buyer writes.")],
    channel: Annotated[
        Channel, typer.Option(help="amazon, ebay or storefront.")
    ] = Channel.STOREFRONT,
) -> None:
    """Play a buyer writing about an order (the sandbox's marketplace, then intake)."""
    from starter.cases import deliver_buyer_message

    settings = get_settings()

    async def run() -> str:
        from crossdock.temporal import connect

        await post_to_sandbox(settings.sandbox_url, channel, order_id, text)
        message = BuyerMessage(
            channel=channel,
            thread=order_id,
            message_id=f"cli-{secrets.token_hex(6)}",
            text=text,
            received_at=datetime.now(UTC),
            order_id=order_id,
        )
        client = await connect(settings)
        return await deliver_buyer_message(
            client, message, settings.task_queue, settings.case_policy
        )

    console.print(f"delivered to {asyncio.run(run())}")


async def post_to_sandbox(sandbox_url: str, channel: Channel, order_id: str, text: str) -> None:
    """The buyer's message as the marketplace records it (the storefront has none)."""
    paths = {
        Channel.AMAZON: f"/amazon/_sandbox/messaging/{order_id}/buyer-messages",
        Channel.EBAY: f"/ebay/_sandbox/messages/{order_id}/buyer-messages",
    }
    if channel not in paths:
        return
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as http:
        (await http.post(paths[channel], json={"text": text})).raise_for_status()
