"""Accounts created on the members' page: one per Discord account, for good.

``web_account`` keeps which Matrix account the page created for which Discord
account. Unlinking does not remove the row, so a Discord account cannot create a
second homeserver account by unlinking and starting again.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_account",
        sa.Column("discord_id", sa.BigInteger, primary_key=True),
        sa.Column("mxid", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("web_account")
