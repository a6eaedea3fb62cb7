"""Alembic environment: runs migrations on the engine `crossdock.store.upgrade` passes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, engine_from_config, pool

# Every module declaring tables, so `Base.metadata` knows them all (for autogenerate).
import crossdock.audit.log
import crossdock.identity.tables
import crossdock.readmodel.tables
import crossdock.store.buyer_orders  # noqa: F401
from crossdock.store.database import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        engine = engine_from_config(
            config.get_section(config.config_ini_section, {}),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things in place: batch mode copies the table.
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run crossdock db upgrade")
run_migrations_online()
