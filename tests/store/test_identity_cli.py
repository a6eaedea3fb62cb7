"""`crossdock users ...` and `crossdock audit verify` from the command line (typer's runner,
a real database from CROSSDOCK_DATABASE_URL, migrated by the command itself)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from crossdock.audit import AuditLog, DecisionAttempt, Outcome
from crossdock.audit.log import AuditLogRow
from crossdock.cli import app
from crossdock.config import get_settings
from crossdock.identity import Accounts
from crossdock.models.approval import Principal, Role
from crossdock.store import Database

runner = CliRunner()


@pytest.fixture
def cli_db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The database the CLI will use (not migrated yet: the CLI does that)."""
    monkeypatch.setenv("CROSSDOCK_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    db = Database(database_url)
    try:
        yield db
    finally:
        db.dispose()
        get_settings.cache_clear()


def crossdock(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.output


def test_users_add_token_list_disable(cli_db: Database) -> None:
    assert crossdock("users", "add", "ops-7", "--role", "operator")[0] == 0
    code, out = crossdock(
        "users", "add", "fin-2", "--role", "finance", "--login", input="long enough pw\n" * 2
    )
    assert code == 0, out
    code, out = crossdock("users", "token", "ops-7", "--name", "laptop")
    token = out.strip().splitlines()[-1]
    assert code == 0 and token.startswith("cdk_")
    accounts = Accounts(cli_db)
    assert accounts.by_token(token) == Principal(id="ops-7", role=Role.OPERATOR)
    assert accounts.by_password("fin-2", "long enough pw").role is Role.FINANCE
    code, out = crossdock("users", "list")
    assert code == 0 and "ops-7" in out and "fin-2" in out and token[:10] in out
    assert token not in out  # the list shows prefixes, never a whole token
    code, out = crossdock("users", "password", "ops-7", input="a new passphrase\n" * 2)
    assert code == 0, out
    assert accounts.by_password("ops-7", "a new passphrase").id == "ops-7"
    assert crossdock("users", "password", "ops-7", input="short\nshort\n")[0] == 2
    assert crossdock("users", "disable", "ops-7")[0] == 0
    assert "disabled" in crossdock("users", "list")[1]


def test_users_add_scoped_to_countries_and_listed(cli_db: Database) -> None:
    args = ("users", "add", "de-ops", "--role", "operator", "--country", "DE", "--country", "fr")
    code, out = crossdock(*args, "--marketplace", "ebay")
    assert code == 0, out
    code, out = crossdock("users", "add", "all-ops", "--role", "operator")
    assert code == 0, out
    code, out = crossdock("users", "list")
    assert code == 0, out
    [de_row] = [line for line in out.splitlines() if "de-ops" in line]
    [all_row] = [line for line in out.splitlines() if "all-ops" in line]
    assert "DE, FR" in de_row and "ebay" in de_row
    assert all_row.count("all") >= 3  # the account id, every channel, every country


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("users", "add", "Jane Doe", "--role", "admin"), "must be 1-64 lowercase"),
        (
            ("users", "add", "uk-ops", "--role", "operator", "--country", "UK"),
            "countries ['UK'] are not ISO 3166 alpha-2 codes",
        ),
        (("users", "token", "ops-404"), "no account 'ops-404'"),
        (("users", "disable", "ops-404"), "no account 'ops-404'"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(
    cli_db: Database, args: tuple[str, ...], message: str
) -> None:
    code, out = crossdock(*args)
    assert code == 2 and message in out


def test_audit_verify_exits_1_on_tampering(cli_db: Database) -> None:
    assert crossdock("db", "upgrade")[0] == 0
    log = AuditLog(cli_db)
    for reason in ("checked", "looks fine"):
        attempt = DecisionAttempt(
            workflow_id="order-storefront-SF1",
            action="decide",
            by=Principal(id="ops-7", role=Role.OPERATOR),
            outcome=Outcome.ACCEPTED,
            reason=reason,
        )
        log.append(attempt)
    code, out = crossdock("audit", "verify")
    assert code == 0 and "audit log intact: 2 entries" in out
    head = log.verify().head_hash
    assert crossdock("audit", "verify", "--anchor", f"2:{head}")[0] == 0
    with cli_db.session() as session:
        session.execute(update(AuditLogRow).where(AuditLogRow.seq == 1).values(reason="nothing"))
    code, out = crossdock("audit", "verify")
    assert code == 1 and "entry 1 was edited" in out
    code, out = crossdock("audit", "verify", "--anchor", "two:abc")
    assert code == 2 and "must read SEQ:HASH" in out
