"""Scheduled events: the Matrix notice of each Discord scheduled event, so an update
(or a restart) edits the notice in place instead of posting a new one.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_event_notice",
        sa.Column("discord_event_id", sa.BigInteger, primary_key=True),
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("room_id", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        # What the notice says now (its text), so an unchanged event is not re-edited.
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("scheduled_event_notice_guild", "scheduled_event_notice", ["guild_id"])


def downgrade() -> None:
    op.drop_index("scheduled_event_notice_guild", table_name="scheduled_event_notice")
    op.drop_table("scheduled_event_notice")
