"""Initial schema: portals, puppets, message map, webhooks, appservice transactions.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal",
        sa.Column("discord_channel_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("guild_id", sa.BigInteger, nullable=False),
        sa.Column("room_id", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("topic", sa.Text, nullable=False, server_default=""),
        sa.Column("access", sa.Text, nullable=False, server_default="members_only"),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "puppet",
        sa.Column("discord_user_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("displayname", sa.Text, nullable=True),
        sa.Column("avatar_source", sa.Text, nullable=True),
        sa.Column("avatar_mxc", sa.Text, nullable=True),
        sa.Column("registered", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "message",
        sa.Column("discord_message_id", sa.BigInteger, nullable=False),
        sa.Column("part", sa.Integer, nullable=False, server_default="0"),
        sa.Column("discord_channel_id", sa.BigInteger, nullable=False),
        sa.Column("room_id", sa.Text, nullable=False),
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("event_part", sa.Integer, nullable=False, server_default="0"),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("discord_message_id", "part"),
        sa.UniqueConstraint("event_id", "event_part", name="message_event_uniq"),
        sa.CheckConstraint("origin IN ('discord', 'matrix')", name="message_origin_check"),
    )
    op.create_index("message_channel_idx", "message", ["discord_channel_id", "discord_message_id"])
    op.create_table(
        "webhook",
        sa.Column("discord_channel_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("webhook_id", sa.BigInteger, nullable=False, unique=True),
        sa.Column("webhook_token", sa.Text, nullable=False),
    )
    op.create_table(
        "as_txn",
        sa.Column("appservice_id", sa.Text, nullable=False),
        sa.Column("txn_id", sa.Text, nullable=False),
        sa.Column("processed_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("appservice_id", "txn_id"),
    )


def downgrade() -> None:
    op.drop_table("as_txn")
    op.drop_table("webhook")
    op.drop_index("message_channel_idx", table_name="message")
    op.drop_table("message")
    op.drop_table("puppet")
    op.drop_table("portal")
