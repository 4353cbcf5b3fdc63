"""Account links (Matrix user <-> Discord account) and one-time link codes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per linked person: a Matrix user and the Discord account they proved is
    # theirs. Each side is linked at most once; linking again replaces the old link.
    op.create_table(
        "account_link",
        sa.Column("mxid", sa.Text, primary_key=True),
        sa.Column("discord_id", sa.BigInteger, nullable=False, unique=True),
        sa.Column("linked_at", sa.BigInteger, nullable=False),
    )
    # Outstanding one-time codes. direction 'm2d': a Matrix user (mxid) asked and proves
    # it from Discord (discord_id unknown until then); 'd2m': a Discord user asked and
    # proves it from Matrix. A code is used once, before expires_at (ms since the epoch).
    op.create_table(
        "link_code",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("mxid", sa.Text, nullable=True),
        sa.Column("discord_id", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("used", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.CheckConstraint("direction IN ('m2d', 'd2m')", name="link_code_direction_check"),
        sa.CheckConstraint(
            "(direction = 'm2d' AND mxid IS NOT NULL)"
            " OR (direction = 'd2m' AND discord_id IS NOT NULL)",
            name="link_code_requester_check",
        ),
    )
    op.create_index("link_code_expiry_idx", "link_code", ["expires_at"])


def downgrade() -> None:
    op.drop_index("link_code_expiry_idx", table_name="link_code")
    op.drop_table("link_code")
    op.drop_table("account_link")
