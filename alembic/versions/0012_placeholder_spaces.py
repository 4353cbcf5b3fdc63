"""Reserved, no-op: a number kept for spaces work that moved to 0014 (0013 had landed on
top of it, so it stays; upgrading through it changes nothing).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
