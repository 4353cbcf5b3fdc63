"""What each relayed Discord message part is (its attachment, its text's digest), and
thread names.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message") as batch:
        # The Discord attachment a part shows: an edit that removes the attachment
        # redacts that part's Matrix event. NULL for text, stickers, embeds, Matrix
        # messages, and parts relayed before this revision.
        batch.add_column(sa.Column("attachment_id", sa.BigInteger, nullable=True))
        # A digest of the text part as relayed (Matrix body and HTML): an edit that
        # leaves the text as it was (an attachment removed) sends no m.replace.
        batch.add_column(sa.Column("text_digest", sa.Text, nullable=True))
    with op.batch_alter_table("thread") as batch:
        # The Discord thread's name as last relayed: a THREAD_UPDATE that renames it
        # edits the bot's "Thread: <name>" root; other updates (archiving...) do not.
        batch.add_column(sa.Column("name", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("thread") as batch:
        batch.drop_column("name")
    with op.batch_alter_table("message") as batch:
        batch.drop_column("text_digest")
        batch.drop_column("attachment_id")
