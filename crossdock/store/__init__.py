"""Crossdock's own database: engine, sessions and migrations (SQLAlchemy 2 + Alembic).

Temporal holds the workflows; this database holds what is not a workflow: operator
accounts and API tokens (`crossdock.identity`), the hash-chained audit log
(`crossdock.audit`), and whatever later parts add. SQLite under the state dir by default,
PostgreSQL when `CROSSDOCK_DATABASE_URL` says so.

Adding a table (see migrations/README.md): declare it on `Base` in the module that owns
it, import that module in `migrations/env.py`, and add a migration in
`migrations/versions/` whose `down_revision` is the current head.
"""

from crossdock.store.database import Base, Database, database_url, normalise_url
from crossdock.store.migrate import current_revision, head_revision, upgrade

__all__ = [
    "Base",
    "Database",
    "current_revision",
    "database_url",
    "head_revision",
    "normalise_url",
    "upgrade",
]
