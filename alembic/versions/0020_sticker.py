"""Guild stickers uploaded to the media repository for the guild's image pack.

``sticker`` caches the mxc URI each Discord guild sticker's image was uploaded to, as
``emoji`` does for custom emoji (bridge.actions.emoji_pack), so each image is uploaded
once whatever the number of rooms showing the pack and restarts.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sticker",
        sa.Column("discord_sticker_id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("format_type", sa.Integer, nullable=False),
        sa.Column("mxc", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sticker")
