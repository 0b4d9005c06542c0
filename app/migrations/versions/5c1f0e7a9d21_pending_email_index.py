"""team_member: index pending memberships by email

Revision ID: 5c1f0e7a9d21
Revises: 7d5e24d02f4c
Create Date: 2026-11-25 05:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5c1f0e7a9d21'
down_revision: str | None = '7d5e24d02f4c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Partial: only pending memberships (no user yet) carry an email.
    op.create_index(
        'ix_team_member_pending_email', 'team_member', ['pending_email'], unique=False,
        postgresql_where=sa.text('pending_email IS NOT NULL'),
        sqlite_where=sa.text('pending_email IS NOT NULL'),
    )


def downgrade() -> None:
    op.drop_index('ix_team_member_pending_email', table_name='team_member')
