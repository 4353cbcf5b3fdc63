"""Threads: a Discord thread channel <-> the Matrix thread (m.thread) of its portal room.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per bridged thread. The Matrix thread lives in the parent channel's portal
    # room, rooted at root_event_id: the event of the thread's starter message (a Discord
    # thread started from a message has that message's id), or a "Thread: <name>" event
    # the bot sent for a thread without a bridged starter. last_event_id is the latest
    # event the bridge sent in the thread (the reply fallback of the next one).
    op.create_table(
        "thread",
        sa.Column("thread_channel_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("parent_channel_id", sa.BigInteger, nullable=False),
        sa.Column("room_id", sa.Text, nullable=False),
        sa.Column("root_event_id", sa.Text, nullable=False),
        sa.Column("last_event_id", sa.Text, nullable=True),
        # 'discord': the thread was started on Discord; 'matrix': the bridge started it.
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("room_id", "root_event_id", name="thread_root_uniq"),
        sa.CheckConstraint("origin IN ('discord', 'matrix')", name="thread_origin_check"),
    )
    op.create_index("thread_parent_idx", "thread", ["parent_channel_id"])


def downgrade() -> None:
    op.drop_index("thread_parent_idx", table_name="thread")
    op.drop_table("thread")
