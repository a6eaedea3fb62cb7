"""`crossdock users ...`: operator accounts and API tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from crossdock.identity.accounts import Accounts, IdentityError
from crossdock.identity.throttle import LoginThrottle
from crossdock.models.approval import Role
from crossdock.models.order import Channel
from crossdock.store.cli import migrated

T = TypeVar("T")

app = typer.Typer(help="Operator accounts (viewer, operator, finance, admin) and API tokens.")
console = Console()


def _accounts() -> Accounts:
    return Accounts(migrated())


@app.command()
def add(
    account: Annotated[str, typer.Argument(help="Account id, e.g. ops-7 (never a name).")],
    role: Annotated[Role, typer.Option(help="What the account may do.")],
    login: Annotated[
        bool, typer.Option("--login", help="Ask for a password for the web console.")
    ] = False,
    marketplace: Annotated[
        list[Channel] | None,
        typer.Option(help="Only this channel's cases (repeat for several; default: all)."),
    ] = None,
    country: Annotated[
        list[str] | None,
        typer.Option(
            help="Only orders shipped to this country, ISO 3166 alpha-2 such as DE "
            "(repeat for several; default: all)."
        ),
    ] = None,
) -> None:
    """Create an account; with --login it can also sign in to the web console."""
    password = None
    if login:
        password = typer.prompt(
            "Password (12+ characters, not a common one)", hide_input=True, confirmation_prompt=True
        )
    scope = [m.value for m in marketplace] if marketplace else None
    created = _run(
        lambda: _accounts().add(
            account, role, password=password, marketplaces=scope, countries=country or None
        )
    )
    console.print(f"account [bold]{created.account_id}[/bold] ({created.role}) created")


@app.command("list")
def list_accounts() -> None:
    """Every account with its role, login and tokens."""
    table = Table("account", "role", "marketplaces", "countries", "status", "web login", "tokens")
    for account in _accounts().all():
        status = "[red]disabled[/red]" if account.disabled else "[green]active[/green]"
        login = "yes" if account.has_password else "-"
        tokens = ", ".join(f"{prefix}…" for prefix in account.tokens) or "-"
        scope = ", ".join(account.marketplaces) if account.marketplaces else "all"
        countries = ", ".join(account.countries) if account.countries else "all"
        row = (account.account_id, account.role.value, scope, countries, status, login, tokens)
        table.add_row(*row)
    console.print(table)


@app.command()
def token(
    account: Annotated[str, typer.Argument(help="The account the token acts for.")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. laptop.")] = "cli",
) -> None:
    """Issue an API token; it is shown once and only its hash is stored."""
    issued = _run(lambda: _accounts().issue_token(account, name))
    console.print(f"token for {issued.account_id} ({issued.name}), shown once:", style="bold")
    typer.echo(issued.token)


@app.command()
def password(
    account: Annotated[str, typer.Argument(help="The account to (re)set it for.")],
) -> None:
    """Set or replace an account's web console password (asks for it)."""
    new = typer.prompt(
        "Password (12+ characters, not a common one)", hide_input=True, confirmation_prompt=True
    )
    _run(lambda: _accounts().set_password(account, new))
    console.print(f"password for [bold]{account}[/bold] set")


@app.command()
def disable(account: Annotated[str, typer.Argument(help="The account to disable.")]) -> None:
    """Disable an account: its tokens and web login stop working at once."""
    disabled = _run(lambda: _accounts().disable(account))
    console.print(f"account [bold]{disabled.account_id}[/bold] disabled")


@app.command()
def unlock(account: Annotated[str, typer.Argument(help="The account id to unlock.")]) -> None:
    """Forget an account id's failed logins (it was locked after too many)."""
    LoginThrottle(migrated()).unlock(account)
    console.print(f"failed logins of [bold]{account}[/bold] forgotten")


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except IdentityError as err:
        typer.secho(str(err), fg="red", err=True)
        raise typer.Exit(2) from None
