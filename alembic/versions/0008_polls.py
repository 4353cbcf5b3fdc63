"""Polls: Discord polls relayed as Matrix polls (MSC3381), and each voter's current answers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per Discord poll relayed as an org.matrix.msc3381.poll.start; the start
    # event is also in the message map (replies, deletion, reactions). end_event_id is
    # set once the poll.end was sent: a poll ends once.
    op.create_table(
        "poll",
        sa.Column("discord_message_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("discord_channel_id", sa.BigInteger, nullable=False),
        sa.Column("room_id", sa.Text, nullable=False),
        sa.Column("start_event_id", sa.Text, nullable=False, unique=True),
        sa.Column("author_id", sa.BigInteger, nullable=False),
        sa.Column("end_event_id", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    # A Discord user's current votes: Matrix poll responses replace each other, so every
    # vote change sends the voter's whole current set (multi-select, across restarts).
    op.create_table(
        "poll_vote",
        sa.Column("discord_message_id", sa.BigInteger, nullable=False),
        sa.Column("discord_user_id", sa.BigInteger, nullable=False),
        sa.Column("answer_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("discord_message_id", "discord_user_id", "answer_id"),
    )


def downgrade() -> None:
    op.drop_table("poll_vote")
    op.drop_table("poll")
