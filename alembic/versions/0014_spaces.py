"""Matrix spaces: the party's, one per guild, its categories' and its members-only one.

``space`` remembers each space room and what was last applied to it (name, topic, icon,
restricted join rule), so a restart reuses the rooms and sends nothing unchanged;
``space_child`` the children last applied (each with its ``m.space.child`` order; the
child's ``m.space.parent`` mirrors it); ``space_invite`` who was invited to a space
already (invited once: who leaves is not invited again).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # kind: 'party' (discord_id 0), 'guild' and 'members' (discord_id: the guild's),
    # 'category' (discord_id: the category's).
    op.create_table(
        "space",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("discord_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("room_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("icon_url", sa.Text(), nullable=True),
        sa.Column("avatar_mxc", sa.Text(), nullable=True),
        sa.Column("join_allow", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "discord_id"),
        sa.UniqueConstraint("room_id", name="space_room_key"),
        sa.CheckConstraint(
            "kind IN ('party', 'guild', 'category', 'members')", name="space_kind_check"
        ),
    )
    op.create_table(
        "space_child",
        sa.Column("space_room_id", sa.Text(), nullable=False),
        sa.Column("child_room_id", sa.Text(), nullable=False),
        sa.Column("order_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("space_room_id", "child_room_id"),
    )
    op.create_index("space_child_child_idx", "space_child", ["child_room_id"])
    op.create_table(
        "space_invite",
        sa.Column("space_room_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("space_room_id", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("space_invite")
    op.drop_index("space_child_child_idx", table_name="space_child")
    op.drop_table("space_child")
    op.drop_table("space")
