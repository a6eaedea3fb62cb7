"""The first admin account `make run` creates on an empty users table, so a person can
log in to the console at once. Its password and API token are printed once and stored
only hashed; later runs find accounts and create nothing."""

from __future__ import annotations

import secrets

from pydantic import BaseModel

from crossdock.config import Settings
from crossdock.identity import Accounts
from crossdock.models.approval import Role
from crossdock.store import Database

FIRST_ADMIN = "admin"


class FirstAdmin(BaseModel):
    account_id: str
    password: str
    token: str

    def banner(self, console_url: str) -> str:
        """What `make run` prints (once): how to log in and use the CLI."""
        return (
            f"\nFirst console account (shown once, stored hashed):\n"
            f"  log in at {console_url}/console as {self.account_id} / {self.password}\n"
            f"  CLI: export CROSSDOCK_TOKEN={self.token}; crossdock inbox\n"
            f"  more accounts: crossdock users add ops-7 --role operator --login\n"
        )


def ensure_first_admin(settings: Settings) -> FirstAdmin | None:
    """Create the admin account when there is no account yet; None when there is one."""
    db = Database.from_settings(settings)
    try:
        accounts = Accounts(db)
        if accounts.all():
            return None
        password = secrets.token_urlsafe(12)
        accounts.add(FIRST_ADMIN, Role.ADMIN, password)
        token = accounts.issue_token(FIRST_ADMIN, "make-run").token
    finally:
        db.dispose()
    return FirstAdmin(account_id=FIRST_ADMIN, password=password, token=token)
