"""confidential summaries: on PostgreSQL a confidential interaction's summary is masked
like its notes for those who may not read it

(Filled in by the security work of issue 11: see the docstring once written.)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:00:01
"""

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
