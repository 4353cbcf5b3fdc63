"""Polls started in Matrix: the Matrix answer IDs of each Discord answer.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A poll started in Matrix and posted on Discord: Discord numbers its answers 1..N,
    # Matrix names them as the sender's client chose. A JSON list, the Matrix answer ID
    # of Discord answer_id 1, 2 ...; NULL for a Discord poll (the Matrix IDs are
    # Discord's answer_id).
    with op.batch_alter_table("poll") as batch:
        batch.add_column(sa.Column("answer_ids", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("poll") as batch:
        batch.drop_column("answer_ids")
