"""exchange: the three-way base of county → city bundles (issue 19, part 3)

``exchange_peer``: the installations whose bundles were imported (and the bundles this
one exported, per region), with the last bundle seen; ``exchange_row``: per peer,
entity and UUID, the version and content hash last imported (what "changed here",
"changed there" and "conflict" are decided against).

On PostgreSQL both have row-level security: administrators read and write every row
(an import is the office's work); other roles only the export records
(``direction = 'export'``), county staff those of their own region. The privileges
come from 0003's default privileges of the schema.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The conditions of 0003 (copied: a migration keeps what it did).
ROLE = "(SELECT role FROM tongxin_me)"
SCOPE = "(SELECT region_scope FROM tongxin_me WHERE role = 'county_staff')"
PEER = (
    f"{ROLE} = 'admin' OR (direction = 'export' AND ({ROLE} <> 'county_staff' OR region = {SCOPE}))"
)
ROW = f"{ROLE} = 'admin'"


def upgrade() -> None:
    utc = crm_core.types.UTCDateTime(timezone=True)
    op.create_table(
        "exchange_peer",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("peer", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("direction", sa.String(), nullable=False),
        sa.Column("last_bundle", sa.String(), nullable=True),
        sa.Column("last_created_at", utc, nullable=True),
        sa.Column("last_at", utc, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("peer", "region", "direction", name="uq_exchange_peer"),
    )
    with op.batch_alter_table("exchange_peer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exchange_peer_peer"), ["peer"])
    op.create_table(
        "exchange_row",
        sa.Column("peer_id", sa.Uuid(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["peer_id"], ["exchange_peer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("peer_id", "entity", "row_id"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table, cond in (("exchange_peer", PEER), ("exchange_row", ROW)):
            bind.exec_driver_sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            bind.exec_driver_sql(
                f"CREATE POLICY tongxin_{table}_all ON {table} FOR ALL "
                f"USING ({cond}) WITH CHECK ({cond})"
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in ("exchange_row", "exchange_peer"):
            bind.exec_driver_sql(f"DROP POLICY IF EXISTS tongxin_{table}_all ON {table}")
    op.drop_table("exchange_row")
    with op.batch_alter_table("exchange_peer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_peer_peer"))
    op.drop_table("exchange_peer")
