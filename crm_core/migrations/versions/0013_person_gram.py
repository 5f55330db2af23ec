"""person_gram: the substring-search index of people (issue 16, item 3)

One row per (gram, person): each character and each adjacent pair of characters of a
person's name, employer and title (case-folded), and each run of three digits of each
number in ``phone_digits`` (marked ``#``). A substring search of one or two Chinese
characters, phone digits or an employer fragment picks its candidates here by index
instead of scanning every person; the program keeps it on every write
(:mod:`crm_core.search_index`). This migration fills it for the people already stored.

On PostgreSQL the table has row-level security like ``person_category`` (0003): a row
is visible and writable to whoever sees the person. The privileges come from 0003's
default privileges of the schema.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VISIBLE = "EXISTS (SELECT 1 FROM person t WHERE t.id = person_id)"
BATCH = 2000

person = sa.table(
    "person",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("employer", sa.String()),
    sa.column("title", sa.String()),
    sa.column("phone_digits", sa.String()),
)
gram_table = sa.table(
    "person_gram", sa.column("gram", sa.String()), sa.column("person_id", sa.Uuid())
)


# The grams as this revision defines them (copied: a migration keeps what it did).
def _text(value: str | None) -> set[str]:
    if not value:
        return set()
    s = value.casefold()
    return set(s) | {s[i : i + 2] for i in range(len(s) - 1)}


def _grams(row: Any) -> set[str]:
    grams = _text(row.name) | _text(row.employer) | _text(row.title)
    for number in (row.phone_digits or "").split():
        grams.update("#" + number[i : i + 3] for i in range(len(number) - 2))
    return grams


def _batches(bind: sa.Connection) -> Iterator[list[dict[str, Any]]]:
    """The gram rows of everyone, BATCH people at a time (keyset pages by id)."""
    last = None
    columns = (person.c.id, person.c.name, person.c.employer, person.c.title, person.c.phone_digits)
    while True:
        page = sa.select(*columns).order_by(person.c.id).limit(BATCH)
        if last is not None:
            page = page.where(person.c.id > last)
        found = bind.execute(page).all()
        if not found:
            return
        yield [{"gram": g, "person_id": row.id} for row in found for g in _grams(row)]
        last = found[-1].id


def upgrade() -> None:
    op.create_table(
        "person_gram",
        sa.Column("gram", sa.String(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("gram", "person_id"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("person_gram", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_gram_person_id"), ["person_id"])
    bind = op.get_bind()
    for batch in _batches(bind):
        bind.execute(gram_table.insert(), batch)
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("ALTER TABLE person_gram ENABLE ROW LEVEL SECURITY")
        bind.exec_driver_sql(
            "CREATE POLICY tongxin_person_gram_all ON person_gram FOR ALL "
            f"USING ({VISIBLE}) WITH CHECK ({VISIBLE})"
        )
        bind.exec_driver_sql("ANALYZE person_gram")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.get_bind().exec_driver_sql(
            "DROP POLICY IF EXISTS tongxin_person_gram_all ON person_gram"
        )
    with op.batch_alter_table("person_gram", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_gram_person_id"))
    op.drop_table("person_gram")
