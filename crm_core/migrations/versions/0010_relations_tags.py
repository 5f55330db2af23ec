"""relationships and tags: who knows whom, and free labels on people and interactions

``relation``: a typed, two-way relationship of a person with another person
(``other_id``) or with an organisation (``organisation_id``), its type a code of
``[relations.types]``, with optional dates (issue 18). ``person_tag`` and
``interaction_tag``: free labels.

On PostgreSQL each table has row-level security like ``person_category`` (0003) and
``not_duplicate`` (0009): a relation is visible and writable to whoever sees both of its
people (a county clerk: both inside their county; a relation with an organisation needs
the person only); a person's tag to whoever sees the person, an interaction's tag to
whoever sees the interaction (through its own policy). The privileges come from 0003's
default privileges of the schema.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import crm_core.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Conditions through the people's and interactions' own policies (copied: a migration
# keeps what it did).
RELATION_SEEN = (
    "EXISTS (SELECT 1 FROM person t WHERE t.id = person_id) "
    "AND (other_id IS NULL OR EXISTS (SELECT 1 FROM person t WHERE t.id = other_id))"
)
PERSON_SEEN = "EXISTS (SELECT 1 FROM person t WHERE t.id = person_id)"
INTERACTION_SEEN = "EXISTS (SELECT 1 FROM interaction t WHERE t.id = interaction_id)"
POLICIES = (
    ("relation", RELATION_SEEN),
    ("person_tag", PERSON_SEEN),
    ("interaction_tag", INTERACTION_SEEN),
)


def upgrade() -> None:
    op.create_table(
        "relation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", crm_core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("other_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.CheckConstraint(
            "(other_id IS NULL) <> (organisation_id IS NULL)", name="ck_relation_one_other"
        ),
        sa.CheckConstraint("other_id IS NULL OR other_id <> person_id", name="ck_relation_not_self"),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["other_id"], ["person.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("relation", schema=None) as batch_op:
        for column in ("type", "person_id", "other_id", "organisation_id"):
            batch_op.create_index(batch_op.f(f"ix_relation_{column}"), [column])
    op.create_table(
        "person_tag",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id", "tag"),
    )
    with op.batch_alter_table("person_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_tag_tag"), ["tag"])
    op.create_table(
        "interaction_tag",
        sa.Column("interaction_id", sa.Uuid(), nullable=False),
        sa.Column("tag", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["interaction_id"], ["interaction.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("interaction_id", "tag"),
    )
    with op.batch_alter_table("interaction_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interaction_tag_tag"), ["tag"])
    if op.get_bind().dialect.name == "postgresql":
        bind = op.get_bind()
        for table, seen in POLICIES:
            bind.exec_driver_sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            bind.exec_driver_sql(
                f"CREATE POLICY tongxin_{table}_all ON {table} FOR ALL "
                f"USING ({seen}) WITH CHECK ({seen})"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, _seen in POLICIES:
            op.get_bind().exec_driver_sql(f"DROP POLICY IF EXISTS tongxin_{table}_all ON {table}")
    with op.batch_alter_table("interaction_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interaction_tag_tag"))
    op.drop_table("interaction_tag")
    with op.batch_alter_table("person_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_tag_tag"))
    op.drop_table("person_tag")
    with op.batch_alter_table("relation", schema=None) as batch_op:
        for column in ("type", "person_id", "other_id", "organisation_id"):
            batch_op.drop_index(batch_op.f(f"ix_relation_{column}"))
    op.drop_table("relation")
