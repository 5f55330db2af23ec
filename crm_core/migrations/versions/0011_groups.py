"""groups: saved searches (smart groups) and picked lists (static groups) of people

``tongxin groups save NAME …`` keeps a contacts search (its query and filters) under a
name; ``tongxin groups add NAME PERSON…`` picks people into a static group. A group is
personal (its owner's) or shared. A smart group's members are found when it is used,
with the reader's own rights; a static group's members are rows of
``contact_group_member`` (a member merged into another record counts as that record).

On PostgreSQL both tables have row-level security:

- ``contact_group``: a shared group is read by everyone with an account, a personal one
  by its owner only; a group is written (renamed, changed, deleted) by its owner, a
  shared one by an administrator too; a new group belongs to its creator.
- ``contact_group_member``: a row is visible where both its group and its person are
  (county staff: their region's members only), and written by whoever may write the
  group and sees the person.

The privileges come from 0003's default privileges of the schema.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import crm_core.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0003 (copied: a migration keeps what it did).
ME = "(SELECT id FROM tongxin_me)"
ADMIN = "(SELECT role FROM tongxin_me) = 'admin'"
GROUP_SEEN = f"(shared AND EXISTS (SELECT 1 FROM tongxin_me)) OR owner_id = {ME}"
GROUP_WRITE = f"owner_id = {ME} OR (shared AND {ADMIN})"
MEMBER_SEEN = (
    "EXISTS (SELECT 1 FROM person t WHERE t.id = person_id) "
    "AND EXISTS (SELECT 1 FROM contact_group g WHERE g.id = group_id)"
)
MEMBER_WRITE = (
    "EXISTS (SELECT 1 FROM person t WHERE t.id = person_id) "
    "AND EXISTS (SELECT 1 FROM contact_group g WHERE g.id = group_id "
    f"AND (g.owner_id = {ME} OR (g.shared AND {ADMIN})))"
)
POLICIES = {
    "contact_group": {
        "SELECT": (GROUP_SEEN, None),
        "INSERT": (None, f"owner_id = {ME}"),
        "UPDATE": (GROUP_WRITE, GROUP_WRITE),
        "DELETE": (GROUP_WRITE, None),
    },
    "contact_group_member": {
        "SELECT": (MEMBER_SEEN, None),
        "INSERT": (None, MEMBER_WRITE),
        "UPDATE": (MEMBER_WRITE, MEMBER_WRITE),
        "DELETE": (MEMBER_WRITE, None),
    },
}


def upgrade() -> None:
    op.create_table(
        "contact_group",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", crm_core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", crm_core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "smart",
                "static",
                name="ck_groupkind",
                native_enum=False,
                create_constraint=True,
                length=14,
            ),
            nullable=False,
        ),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("query", sa.String(), nullable=True),
        sa.Column(
            "filters", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("notes", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contact_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_group_name"), ["name"])
        batch_op.create_index(batch_op.f("ix_contact_group_owner_id"), ["owner_id"])
    op.create_table(
        "contact_group_member",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("added_at", crm_core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["contact_group.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("group_id", "person_id"),
    )
    with op.batch_alter_table("contact_group_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_group_member_person_id"), ["person_id"])
    if op.get_bind().dialect.name == "postgresql":
        bind = op.get_bind()
        for table, commands in POLICIES.items():
            bind.exec_driver_sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            for command, (using, check) in commands.items():
                sql = f"CREATE POLICY tongxin_{table}_{command.lower()} ON {table} FOR {command}"
                if using:
                    sql += f" USING ({using})"
                if check:
                    sql += f" WITH CHECK ({check})"
                bind.exec_driver_sql(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, commands in POLICIES.items():
            for command in commands:
                op.get_bind().exec_driver_sql(
                    f"DROP POLICY IF EXISTS tongxin_{table}_{command.lower()} ON {table}"
                )
    with op.batch_alter_table("contact_group_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_group_member_person_id"))
    op.drop_table("contact_group_member")
    with op.batch_alter_table("contact_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_group_owner_id"))
        batch_op.drop_index(batch_op.f("ix_contact_group_name"))
    op.drop_table("contact_group")
