"""`crossdock db ...`: the database's migrations."""

from __future__ import annotations

import typer
from rich.console import Console

from crossdock.config import get_settings
from crossdock.store.database import Database
from crossdock.store.migrate import current_revision, head_revision, upgrade

app = typer.Typer(help="Crossdock's own database (users, tokens, audit log).")
console = Console()


def migrated() -> Database:
    """The configured database, migrated to the newest schema (every command starts so)."""
    db = Database.from_settings(get_settings())
    upgrade(db)
    return db


@app.command("upgrade")
def upgrade_command() -> None:
    """Apply every pending migration (also done at console and CLI start)."""
    db = Database.from_settings(get_settings())
    try:
        before = current_revision(db) or "empty"
        after = upgrade(db)
    finally:
        db.dispose()
    console.print(f"database {_shown(db.url)}: {before} → [green]{after}[/green]")


@app.command()
def status() -> None:
    """Show the database's revision and the newest one this code knows."""
    db = Database.from_settings(get_settings())
    try:
        current = current_revision(db) or "empty"
    finally:
        db.dispose()
    head = head_revision()
    colour = "green" if current == head else "yellow"
    console.print(f"database {_shown(db.url)}: [{colour}]{current}[/{colour}] (newest: {head})")


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
