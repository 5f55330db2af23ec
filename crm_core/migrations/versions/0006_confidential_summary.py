"""confidential summaries: on PostgreSQL a confidential interaction's summary is masked
like its notes for those who may not read it

Before this revision, a person's own role reading a confidential interaction it may not
read (not a participant, the recorder or an administrator) through the program view
``tongxin_program.interaction`` (0004) or ``interaction_overview`` (0003) got its notes
and fields masked but its summary as written ("谈到子女就业问题" in one line), while
the program showed the same summary to every leader on SQLite. A confidential talk now
shows only that it happened, on both backends: the program decides in one place
(``crm_core.authz.shown``), and on PostgreSQL the database says the same to psql.

Now (PostgreSQL only; nothing changes on SQLite):

- ``tongxin_program.interaction`` and ``interaction_overview`` are replaced (same
  columns, in the same order: ``CREATE OR REPLACE VIEW``, so the policy of
  ``interaction_participant`` that reads the program view keeps working) with
  ``summary`` NULL where ``notes`` is NULL and ``data`` ``{}``.
- The program view's INSTEAD OF trigger function guards ``summary`` as it guards
  ``notes`` and ``data``: a masked value written back unchanged keeps what the table
  holds, so no one's write ever blanks what they were not shown.

Downgrade restores 0004's program view and trigger function and 0003's overview.
Like 0004, the view is made from the live columns of ``interaction`` (``_replace_view``);
a later migration that changes those columns must create it again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:00:01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "tongxin_program"

# The conditions of 0003/0004, on the row ``i`` of the table (copied: a migration keeps
# what it did even when a later one changes the code).
ROLE = "(SELECT role FROM tongxin_me)"
ME = "(SELECT id FROM tongxin_me)"
SCOPE = "(SELECT region_scope FROM tongxin_me WHERE role = 'county_staff')"
MINE = "i.id IN (SELECT interaction_id FROM tongxin_my_interactions)"
VISIBLE = f"""(
    {ROLE} IN ('admin', 'leader', 'staff')
    OR i.region = {SCOPE}
    OR i.id IN (SELECT interaction_id FROM tongxin_scope_interactions)
    OR {MINE})"""
READABLE = f"(NOT i.confidential OR {ROLE} = 'admin' OR i.created_by_id = {ME} OR {MINE})"
MASKED_0004 = {"notes": "NULL", "data": "'{}'::jsonb"}
MASKED_0006 = {"summary": "NULL", **MASKED_0004}

# 0003's overview, with the summary masked (``summary`` True) or as 0003 made it.
OVERVIEW_READABLE = """(NOT i.confidential OR me.role = 'admin' OR i.created_by_id = me.id
                      OR i.id IN (SELECT interaction_id FROM tongxin_my_interactions))"""


def _overview(*, summary: bool) -> str:
    shown_summary = (
        f"CASE WHEN {OVERVIEW_READABLE} THEN i.summary END AS summary" if summary else "i.summary"
    )
    return f"""
        CREATE OR REPLACE VIEW interaction_overview WITH (security_barrier) AS
        SELECT i.id, i.kind, i.status, i.start_at, i.end_at, i.all_day, i.location,
               i.region, {shown_summary}, i.confidential, i.series_id, i.created_by_id,
               CASE WHEN {OVERVIEW_READABLE} THEN i.notes END AS notes,
               CASE WHEN {OVERVIEW_READABLE} THEN i.data END AS data
        FROM interaction i JOIN tongxin_me me
          ON me.role IN ('admin', 'leader', 'staff')
          OR (me.role = 'county_staff' AND (
                i.region = me.region_scope
                OR i.id IN (SELECT interaction_id FROM tongxin_scope_interactions)
                OR i.id IN (SELECT interaction_id FROM tongxin_my_interactions)))"""


def _exec(sql: str) -> None:
    op.get_bind().exec_driver_sql(sql)


def _columns(table: str) -> list[str]:
    """The live columns of ``table`` in the current schema, in their order."""
    rows = op.get_bind().exec_driver_sql(
        "SELECT a.attname FROM pg_attribute a "
        "WHERE a.attrelid = to_regclass(%(t)s) AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        {"t": table},
    )
    return [r[0] for r in rows]


def _replace_view(qschema: str, masked: dict[str, str]) -> None:
    """The program view and its write-through trigger function, with the ``masked``
    columns hidden from whoever may not read the row (from the live columns). The
    trigger, the grants and the participant policy reading the view stay as they are."""
    cols = _columns("interaction")
    select = ",\n".join(
        f"CASE WHEN {READABLE} THEN i.{c} ELSE {masked[c]} END AS {c}" if c in masked else f"i.{c}"
        for c in cols
    )
    _exec(
        f"CREATE OR REPLACE VIEW {SCHEMA}.interaction WITH (security_barrier) AS\n"
        f"SELECT {select}\nFROM {qschema}.interaction i\nWHERE {VISIBLE}"
    )
    names = ", ".join(cols)
    values = ", ".join(f"NEW.{c}" for c in cols)
    # A masked value the caller did not change keeps what the table holds (never the
    # mask): a write by someone who was shown NULL never blanks the summary.
    sets = ",\n".join(
        f"{c} = CASE WHEN NEW.{c} IS NOT DISTINCT FROM OLD.{c} THEN t.{c} ELSE NEW.{c} END"
        if c in masked
        else f"{c} = NEW.{c}"
        for c in cols
    )
    _exec(
        f"""CREATE OR REPLACE FUNCTION {SCHEMA}.interaction_write() RETURNS trigger
        LANGUAGE plpgsql AS $fn$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO {qschema}.interaction ({names}) VALUES ({values});
                RETURN NEW;
            ELSIF TG_OP = 'UPDATE' THEN
                UPDATE {qschema}.interaction t SET {sets} WHERE t.id = OLD.id;
                IF NOT FOUND THEN
                    RETURN NULL;
                END IF;
                RETURN NEW;
            END IF;
            DELETE FROM {qschema}.interaction t WHERE t.id = OLD.id;
            IF NOT FOUND THEN
                RETURN NULL;
            END IF;
            RETURN OLD;
        END $fn$"""
    )


def _qschema() -> str:
    return '"{}"'.format(op.get_bind().exec_driver_sql("SELECT current_schema()").scalar())


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _replace_view(_qschema(), MASKED_0006)
        _exec(_overview(summary=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _replace_view(_qschema(), MASKED_0004)
        _exec(_overview(summary=False))
