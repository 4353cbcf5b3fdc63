"""Reactions: the map between Matrix m.reaction events and Discord reactions; emoji cache.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per Matrix m.reaction event the bridge knows about.
    # origin 'discord': a Discord user's reaction, sent on Matrix by their ghost
    #   (discord_user_id set); MESSAGE_REACTION_REMOVE finds it and redacts it.
    # origin 'matrix': a Matrix user's reaction; on Discord the bridge bot shows one
    #   reaction per emoji, removed when the last Matrix row for that emoji goes.
    op.create_table(
        "reaction",
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("room_id", sa.Text, nullable=False),
        sa.Column("target_event_id", sa.Text, nullable=False),
        sa.Column("discord_channel_id", sa.BigInteger, nullable=False),
        sa.Column("discord_message_id", sa.BigInteger, nullable=False),
        # Discord's API form: the unicode emoji, or "name:id" for a custom emoji.
        sa.Column("emoji", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        # The Matrix sender: the ghost (origin discord) or the Matrix user (origin matrix).
        sa.Column("sender", sa.Text, nullable=False),
        sa.Column("discord_user_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("discord_message_id", "emoji", "sender", name="reaction_uniq"),
        sa.CheckConstraint("origin IN ('discord', 'matrix')", name="reaction_origin_check"),
    )
    op.create_index("reaction_message_idx", "reaction", ["discord_message_id", "emoji"])
    # Discord custom emoji uploaded once to the Matrix media repository.
    op.create_table(
        "emoji",
        sa.Column("discord_emoji_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("animated", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("mxc", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("emoji")
    op.drop_index("reaction_message_idx", table_name="reaction")
    op.drop_table("reaction")
