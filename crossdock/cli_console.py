"""`crossdock inbox`, `crossdock orders|returns|disputes list|show`, `crossdock decide`
and `crossdock cancel`: the console's API from a terminal, with an API token
(`crossdock users token ACCOUNT`), as rich tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.table import Table

from crossdock.config import get_settings
from crossdock.console.i18n import translator
from crossdock.console.locale import OperatorLocale, overdue
from crossdock.money import Money

console = Console()
TokenOption = Annotated[
    str,
    typer.Option(
        "--token", envvar="CROSSDOCK_TOKEN", help="API token (crossdock users token ACCOUNT)."
    ),
]
UrlOption = Annotated[
    str,
    typer.Option(
        "--console-url", envvar="CROSSDOCK_CONSOLE_URL", help="Console URL (default: make run's)."
    ),
]


class ConsoleApi:
    """The console's JSON API; errors end the command with their message."""

    def __init__(self, token: str, url: str) -> None:
        if not token:
            fail("no API token: pass --token or set CROSSDOCK_TOKEN (crossdock users token ID)", 2)
        base = url or get_settings().intake_url
        headers = {"Authorization": f"Bearer {token}"}
        self._http = httpx.Client(base_url=base, headers=headers, timeout=30)

    def locale(self) -> OperatorLocale:
        """The account's language and time zone (as the console keeps them)."""
        me = self._answer(self._http.get("/api/me"))
        return OperatorLocale(me.get("language", "en"), me.get("time_zone", "UTC"))

    def get(self, path: str, **params: Any) -> Any:
        # The inbox queries every waiting workflow: show that something is happening.
        with console.status(f"asking the console for {path.removeprefix('/api/')}"):
            return self._answer(self._http.get(path, params=_present(params)))

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._answer(self._http.post(path, json=body))

    @contextmanager
    def stream(self, path: str, body: dict[str, Any]) -> Iterator[httpx.Response]:
        """POST `body` and hand over the answer as it streams (a refusal ends the
        command with its message)."""
        with self._http.stream("POST", path, json=body, timeout=None) as response:
            if not response.is_success:
                response.read()
                self._answer(response)
            yield response

    def _answer(self, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text}
        if response.is_success:
            return body
        message = body.get("message") or body.get("detail") or response.reason_phrase
        fail(f"{response.status_code} {body.get('error', '')}: {message}".replace(" :", ":"), 1)


def fail(message: str, code: int) -> NoReturn:
    console.print(f"[red]{message}[/red]")
    raise typer.Exit(code)


def inbox(token: TokenOption = "", url: UrlOption = "") -> None:
    """Everything waiting for a person: stuck cases, then the nearest deadline first."""
    api = ConsoleApi(token, url)
    loc = api.locale()
    _ = translator(loc.language)
    items = api.get("/api/inbox")
    table = Table(title=f"{_('Waiting for a decision')} ({len(items)})")
    columns = (_("Deadline"), _("Case"), _("State"), _("Key"), _("Question"), _("Amount"))
    for column in (*columns, _("Who may decide")):
        table.add_column(column, overflow="fold")
    for item in items:
        approval, stuck = item["approval"], item.get("stuck")
        if approval is None:  # stuck, waiting for no decision
            table.add_row("-", item["workflow_id"], item["state"], "", _stuck(stuck), "", "")
            continue
        deadline = datetime.fromisoformat(approval["deadline"])
        late = f" [red]{_('late')}[/red]" if overdue(deadline) else ""
        table.add_row(
            f"{loc.when(deadline)} ({loc.left(deadline)}){late}"
            + (f" [red]{_('stuck')}[/red]" if stuck else ""),
            item["workflow_id"],
            item["state"],
            approval["key"],
            approval["subject"],
            loc.money(Money.model_validate(approval["amount"])) if approval["amount"] else "-",
            ", ".join(approval["allowed_roles"]),
        )
    console.print(table)


def _stuck(report: dict[str, Any]) -> str:
    what = str(report["reason"]).replace("_", " ")
    if report.get("activity"):
        what += f" ({report['activity']})"
    return f"[red]stuck[/red]: {what}, {report['attempts']} attempts: {report['last_error']}"


def case_commands(plural: str) -> typer.Typer:
    """`list` and `show` for one kind of case (orders, returns, disputes)."""
    app = typer.Typer(help=f"{plural.capitalize()} through the console API.")
    add_case_commands(app, plural)
    return app


def add_case_commands(app: typer.Typer, plural: str) -> None:
    """Add `list` and `show` to `app` (also to a sub-app that has other commands)."""

    @app.command("list")
    def list_cases(
        state: Annotated[str, typer.Option(help="Only in this state.")] = "",
        marketplace: Annotated[str, typer.Option(help="amazon, ebay or storefront.")] = "",
        destination: Annotated[str, typer.Option(help="Ship-to country, e.g. FR.")] = "",
        attention: Annotated[
            bool | None, typer.Option("--attention/--no-attention", help="Needs attention.")
        ] = None,
        since: Annotated[str, typer.Option(help="Started on or after (YYYY-MM-DD).")] = "",
        until: Annotated[str, typer.Option(help="Started on or before (YYYY-MM-DD).")] = "",
        limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
        token: TokenOption = "",
        url: UrlOption = "",
    ) -> None:
        """List them, newest first, with filters."""
        rows = ConsoleApi(token, url).get(
            f"/api/{plural}",
            state=state,
            marketplace=marketplace,
            destination=destination.upper(),
            needs_attention=attention,
            since=since,
            until=until,
            limit=limit,
        )
        console.print(cases_table(plural, rows))

    @app.command("show")
    def show_case(
        workflow_id: Annotated[str, typer.Argument(help="order-..., return-... or dispute-...")],
        token: TokenOption = "",
        url: UrlOption = "",
    ) -> None:
        """Live state, the pending question, timeline and decision attempts."""
        show(ConsoleApi(token, url).get(f"/api/cases/{workflow_id}"))


def cases_table(plural: str, rows: list[dict[str, Any]]) -> Table:
    """The cases as `list` prints them, one row each, flags in colour."""
    table = Table(title=f"{plural.capitalize()} ({len(rows)})")
    for column in ("case", "state", "marketplace", "flags", "started", "execution"):
        table.add_column(column)
    for row in rows:
        flags = " ".join(
            flag
            for flag, on in (
                ("[cyan]awaiting[/cyan]", row["awaiting_approval"]),
                ("[yellow]attention[/yellow]", row["needs_attention"]),
                ("[red]stuck[/red]", row.get("stuck")),
            )
            if on
        )
        table.add_row(
            row["workflow_id"],
            row["state"],
            row["marketplace"],
            flags,
            _when(row["started_at"]),
            row["execution"],
        )
    return table


def show(case: dict[str, Any]) -> None:
    summary = case["summary"]
    status = case["status"]
    console.print(
        f"[bold]{summary['workflow_id']}[/bold]  {summary['kind']} · {summary['marketplace']}"
        f" · [cyan]{status.get('state') or summary['state']}[/cyan] · {summary['execution']}"
    )
    if status.get("reason"):
        console.print(f"  {status['reason']}")
    pending = case["pending"]
    if pending:
        console.print(
            f"[bold yellow]Waiting for a decision[/bold yellow] {pending['key']!r} until "
            f"{_when(pending['deadline'])}: {pending['subject']}\n"
            f"  actions: {', '.join(pending['actions'])}; roles: "
            f"{', '.join(pending['allowed_roles'])}; amount: {_money(pending['amount'])}"
            + (f"; options: {', '.join(pending['options'])}" if pending["options"] else "")
        )
    timeline = Table(title="Timeline")
    for column in ("when", "event", "state", "detail"):
        timeline.add_column(column, overflow="fold")
    for entry in case["timeline"]:
        timeline.add_row(_when(entry["at"]), entry["event"], entry["state"], entry["detail"])
    console.print(timeline)
    if case["attempts"]:
        attempts = Table(title="Decision attempts (audit log)")
        for column in ("when", "action", "who", "outcome", "why"):
            attempts.add_column(column, overflow="fold")
        for a in case["attempts"]:
            colour = "green" if a["outcome"] == "accepted" else "red"
            attempts.add_row(
                _when(a["at"]),
                a["action"],
                f"{a['principal_id']} ({a['role']})",
                f"[{colour}]{a['outcome']}[/{colour}]",
                a["reason"],
            )
        console.print(attempts)


def decide(
    workflow_id: Annotated[str, typer.Argument(help="The case to decide.")],
    action: Annotated[str, typer.Argument(help="approve, reject or request_info.")],
    reason: Annotated[str, typer.Option(help="Why (required to reject or ask).")] = "",
    option: Annotated[str, typer.Option(help="One of the question's options.")] = "",
    amount: Annotated[str, typer.Option(help="Approve less than asked, e.g. 12.50.")] = "",
    key: Annotated[str, typer.Option(help="The question (default: the pending one).")] = "",
    token: TokenOption = "",
    url: UrlOption = "",
) -> None:
    """Approve, reject or ask for information on a case's pending question."""
    api = ConsoleApi(token, url)
    pending = api.get(f"/api/cases/{workflow_id}")["pending"]
    if pending is None and not key:
        fail(f"{workflow_id} is not waiting for a decision", 1)
    body: dict[str, Any] = {"key": key or pending["key"], "action": action, "reason": reason}
    body["option"] = option
    if amount:
        if pending is None or pending["amount"] is None:
            fail("--amount only applies to a question with an amount", 2)
        body["amount"] = _amount(amount, pending["amount"]["currency"])
    answer = api.post(f"/api/cases/{workflow_id}/decide", body)
    console.print(decided(workflow_id, answer["result"]))


def decided(workflow_id: str, receipt: dict[str, Any]) -> str:
    """The accepted decision as a sentence (never the receipt's repr: it carries the
    signed claim, which is nobody's business on a terminal)."""
    action = str(receipt.get("action", "decision")).replace("_", " ")
    by = receipt.get("by") or {}
    who = f" by {by['id']} ({by['role']})" if by.get("id") else ""
    state = str(receipt.get("state", "")).replace("_", " ")
    now = f"; the question is now {state}" if state else ""
    return (
        f"[green]accepted[/green]: {action} on {receipt.get('key', '?')!r} of {workflow_id}"
        f"{who} at {_when(receipt.get('at'))}{now}."
    )


def cancel(
    workflow_id: Annotated[str, typer.Argument(help="The order to cancel.")],
    reason: Annotated[str, typer.Option(help="Why it is cancelled.")],
    token: TokenOption = "",
    url: UrlOption = "",
) -> None:
    """Cancel an order before it ships (what was booked is undone)."""
    answer = ConsoleApi(token, url).post(f"/api/cases/{workflow_id}/cancel", {"reason": reason})
    console.print(f"[green]accepted[/green]: {answer['result']['note']}")


def hold(
    workflow_id: Annotated[str, typer.Argument(help="The order to hold.")],
    reason: Annotated[str, typer.Option(help="Why it is held.")],
    token: TokenOption = "",
    url: UrlOption = "",
) -> None:
    """Stop an order before its next step (before shipment) until it is resumed."""
    answer = ConsoleApi(token, url).post(f"/api/cases/{workflow_id}/hold", {"reason": reason})
    console.print(f"[green]accepted[/green]: {answer['result']['note']}")


def resume(
    workflow_id: Annotated[str, typer.Argument(help="The held order.")],
    reason: Annotated[str, typer.Option(help="A note for the timeline.")] = "",
    token: TokenOption = "",
    url: UrlOption = "",
) -> None:
    """Let a held order go on."""
    answer = ConsoleApi(token, url).post(f"/api/cases/{workflow_id}/resume", {"reason": reason})
    console.print(f"[green]accepted[/green]: {answer['result']['note']}")


def _amount(text: str, currency: str) -> dict[str, Any]:
    try:
        return Money.parse(text, currency).model_dump(mode="json")
    except ValueError as err:
        fail(f"--amount {text!r}: {err}", 2)


def _present(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v not in ("", None)}


def _when(text: str | None) -> str:
    if not text:
        return "-"
    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S")


def _money(value: dict[str, Any] | None) -> str:
    if not value:
        return "-"
    return str(Money.model_validate(value))
