"""An index for "the transaction handled last" (read at every start-up).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # bridge.txn_order starts from the last transaction handled: without this index,
    # that query would read the whole (ever-growing) as_txn table at each start.
    op.create_index("as_txn_processed_idx", "as_txn", ["appservice_id", "processed_at"])


def downgrade() -> None:
    op.drop_index("as_txn_processed_idx", table_name="as_txn")
