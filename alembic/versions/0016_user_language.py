"""The language each person asked for (``!bridge language fr``) or that their side
told (a Discord user's ``locale`` read when they log in on the members' page).

``user_language`` is keyed by side (``matrix`` or ``discord``) and the user's ID on
that side (an MXID, or a Discord snowflake as text). ``source`` says where the value
came from: ``command`` (the person chose it; a Discord ``locale`` never overrides it)
or ``discord`` (their Discord client's language).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_language",
        sa.Column("side", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("user_language")
