"""not a duplicate: pairs of people a reviewer said are two people, never offered again

``tongxin contacts duplicates`` pairs people by the rules of ``[duplicates]``; a pair
marked "not a duplicate" (``tongxin contacts not-duplicate A B``, or in the review
screen) is kept here, the smaller id first, and left out of every later search. Either
person's deletion removes the row.

On PostgreSQL the table has row-level security like ``person_category`` (0003): a row is
visible and writable to whoever sees both people (a county clerk: a pair inside their
county). The privileges come from 0003's default privileges of the schema.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Both people visible through person's own policy (copied: a migration keeps what it did).
BOTH_SEEN = (
    "EXISTS (SELECT 1 FROM person t WHERE t.id = person_a) "
    "AND EXISTS (SELECT 1 FROM person t WHERE t.id = person_b)"
)


def upgrade() -> None:
    op.create_table(
        "not_duplicate",
        sa.Column("person_a", sa.Uuid(), nullable=False),
        sa.Column("person_b", sa.Uuid(), nullable=False),
        sa.Column("decided_at", crm_core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("person_a < person_b", name="ck_not_duplicate_order"),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["person_a"], ["person.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_b"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_a", "person_b"),
    )
    with op.batch_alter_table("not_duplicate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_not_duplicate_person_b"), ["person_b"])
    if op.get_bind().dialect.name == "postgresql":
        bind = op.get_bind()
        bind.exec_driver_sql("ALTER TABLE not_duplicate ENABLE ROW LEVEL SECURITY")
        bind.exec_driver_sql(
            "CREATE POLICY tongxin_not_duplicate_all ON not_duplicate FOR ALL "
            f"USING ({BOTH_SEEN}) WITH CHECK ({BOTH_SEEN})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().exec_driver_sql(
            "DROP POLICY IF EXISTS tongxin_not_duplicate_all ON not_duplicate"
        )
    with op.batch_alter_table("not_duplicate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_not_duplicate_person_b"))
    op.drop_table("not_duplicate")
