"""Bridging rules set by command: whole categories or guilds (``!bridge add category``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # kind "category": every channel of category target_id; "guild": every channel of
    # guild target_id. bridged false: the rule (from the config file) is switched off.
    op.create_table(
        "rule_override",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("bridged", sa.Boolean(), nullable=False),
        sa.Column("access", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "target_id"),
    )


def downgrade() -> None:
    op.drop_table("rule_override")
