"""Lockdown: its state, what it changed (to restore on lift), and first joins.

- ``lockdown``: one row (id 1): whether a lockdown holds, since when, until when,
  who turned it on and why. A restart keeps it (and lifts it when its time is up).
- ``lockdown_saved``: what a lockdown changed and the value before, one row per
  (kind, target): a room's join rules (JSON content), a channel's slowmode, a
  guild's verification level. Restored and deleted when the lockdown is lifted.
- ``first_join``: when a user was first seen joining (``discord``: the guild; ``matrix``:
  any bridged room): who counts as new during a lockdown.

Revision ID: 0017
Revises: 0016 (user_language)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lockdown",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("since_ms", sa.BigInteger, nullable=False),
        # NULL: until a moderator lifts it.
        sa.Column("until_ms", sa.BigInteger, nullable=True),
        sa.Column("actor", sa.Text, nullable=False, server_default=""),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "lockdown_saved",
        # "room" (join rules content, JSON), "channel" (slowmode seconds), "guild"
        # (verification level).
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("previous", sa.Text, nullable=False),
        sa.Column("saved_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("kind", "target"),
    )
    op.create_table(
        "first_join",
        sa.Column("side", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("joined_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("side", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("first_join")
    op.drop_table("lockdown_saved")
    op.drop_table("lockdown")
