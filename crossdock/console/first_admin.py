"""The first admin account `make run` creates on an empty users table, so a person can
log in to the console at once. Its password and API token are shown once and stored
only hashed; later runs find accounts and create nothing.

The credentials never go to a log: on a terminal (stderr is a TTY) they are written to
it; otherwise (a supervisor, a container, CI: stdout and stderr are somebody's log) to
`{state_dir}/first-admin.txt`, mode 0600, and the log says only where. The token
expires after a day: it is for the first steps, not for automation.
"""

from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from pydantic import BaseModel

from crossdock.config import Settings
from crossdock.identity import Accounts
from crossdock.models.approval import Role
from crossdock.store import Database

FIRST_ADMIN = "admin"
TOKEN_VALID_FOR = timedelta(days=1)
CREDENTIALS_FILE = "first-admin.txt"


class FirstAdmin(BaseModel):
    account_id: str
    password: str
    token: str

    def banner(self, console_url: str) -> str:
        """The credentials and how to use them (for the terminal or the 0600 file only)."""
        return (
            f"\nFirst console account (shown once, stored hashed):\n"
            f"  log in at {console_url}/console as {self.account_id} / {self.password}\n"
            f"  CLI: export CROSSDOCK_TOKEN={self.token}; crossdock inbox\n"
            f"  (this token expires in {TOKEN_VALID_FOR.days} day: "
            f"crossdock users token {self.account_id} issues a lasting one)\n"
            f"  more accounts: crossdock users add ops-7 --role operator --login\n"
        )


def ensure_first_admin(settings: Settings) -> FirstAdmin | None:
    """Create the admin account when there is no account yet; None when there is one."""
    db = Database.from_settings(settings)
    try:
        accounts = Accounts(db)
        if accounts.all():
            return None
        password = secrets.token_urlsafe(15)
        accounts.add(FIRST_ADMIN, Role.ADMIN, password)
        token = accounts.issue_token(FIRST_ADMIN, "make-run", valid_for=TOKEN_VALID_FOR).token
    finally:
        db.dispose()
    return FirstAdmin(account_id=FIRST_ADMIN, password=password, token=token)


def announce_first_admin(
    admin: FirstAdmin, settings: Settings, log: TextIO | None = None, terminal: TextIO | None = None
) -> Path | None:
    """Show the credentials on the terminal, or write them to the state dir's 0600 file
    and tell `log` where; the file's path when one was written."""
    log = log or sys.stdout
    terminal = terminal or sys.stderr
    if terminal.isatty():
        print(admin.banner(settings.intake_url), file=terminal, flush=True)
        return None
    path = settings.state_dir / CREDENTIALS_FILE
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(admin.banner(settings.intake_url))
    print(
        f"First console account {admin.account_id} created; its password and token are in "
        f"{path} (mode 0600, not in this log): read it, then delete it.",
        file=log,
        flush=True,
    )
    return path
