"""Protections switched on or off by moderators at run time (``!mod protection``).

``protection_switch`` keeps the moderators' choice per protection; a protection
without a row follows the config file. ``protection_mute`` keeps the Matrix users a
protection muted and until when, so a restart still lifts each mute on time.
``protection_held`` keeps the Discord messages a protection held back, so reading a
channel's history after a reconnect (backfill) does not relay them after all.

Revision ID: 0018
Revises: 0017 (0016 is taken by another branch; renumber the chain when merging)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "protection_switch",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("changed_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "protection_mute",
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("until_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "protection_held",
        sa.Column("discord_message_id", sa.BigInteger, primary_key=True),
        sa.Column("held_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("protection_held")
    op.drop_table("protection_mute")
    op.drop_table("protection_switch")
