"""contact proposals: phone numbers changed in a phone's address book (CardDAV), waiting
for an administrator

``tongxin sync carddav`` writes the people an account may see into an address book on
the office's CardDAV server. A card whose phone numbers were changed on the phone is not
overwritten: the numbers become a ``contact_proposal`` row until an administrator
accepts them (``tongxin contacts proposals accept``), which changes the person through
the contacts service (audited).

On PostgreSQL the table has row-level security like ``caldav_state`` (0005): an account
reads and writes its own rows (``account_id``), administrators all. The privileges come
from 0003's default privileges of the schema.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import crm_core.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The conditions of 0003/0005 (copied: a migration keeps what it did).
ROLE = "(SELECT role FROM tongxin_me)"
ME = "(SELECT id FROM tongxin_me)"
OWN_OR_ADMIN = f"{ROLE} = 'admin' OR account_id = {ME}"
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "contact_proposal",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("book_url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("phones", JSON, nullable=False),
        sa.Column("before", JSON, nullable=False),
        sa.Column("etag", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", crm_core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", crm_core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contact_proposal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_proposal_book_url"), ["book_url"])
        batch_op.create_index(batch_op.f("ix_contact_proposal_person_id"), ["person_id"])
        batch_op.create_index(batch_op.f("ix_contact_proposal_account_id"), ["account_id"])
    if op.get_bind().dialect.name == "postgresql":
        bind = op.get_bind()
        bind.exec_driver_sql("ALTER TABLE contact_proposal ENABLE ROW LEVEL SECURITY")
        bind.exec_driver_sql(
            "CREATE POLICY tongxin_contact_proposal_all ON contact_proposal FOR ALL "
            f"USING ({OWN_OR_ADMIN}) WITH CHECK ({OWN_OR_ADMIN})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().exec_driver_sql(
            "DROP POLICY IF EXISTS tongxin_contact_proposal_all ON contact_proposal"
        )
    with op.batch_alter_table("contact_proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_proposal_account_id"))
        batch_op.drop_index(batch_op.f("ix_contact_proposal_person_id"))
        batch_op.drop_index(batch_op.f("ix_contact_proposal_book_url"))
    op.drop_table("contact_proposal")
