"""Accounts scoped to some destination countries (NULL: every country).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Room for every ISO 3166 alpha-2 code, comma-separated (249 codes of 3 characters).
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("countries", sa.String(800), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as users:
        users.drop_column("countries")
