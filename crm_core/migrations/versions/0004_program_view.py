"""program view: on PostgreSQL a person's own role sees a confidential interaction as the
program does on SQLite, the row with its notes and fields masked

Before this revision, a person connecting with their own role (the shared deployment)
did not see a confidential interaction they take no part in at all (row-level security,
0003), while the same program on SQLite, or run by the database's owner, showed the row
with its notes masked: "that a talk took place is no secret; what was said is". The
counts of reports, who is overdue and a person's timeline then differed by backend.

Now (PostgreSQL only; nothing changes on SQLite):

- The schema ``tongxin_program`` holds a view ``interaction`` with every column of the
  table: the interactions the role may see (as ``interaction_overview``: every one for
  administrators, leaders and staff; their region's, those with their region's people
  and their own for county staff), with ``notes`` NULL and ``data`` ``{}`` where the
  role may not read them (confidential, and not a participant, the recorder or an
  administrator). INSTEAD OF triggers write through to the table as the role itself, so
  the table's row-level security still decides every change: a confidential interaction
  is changed only by those who may read it (the services refuse the same on SQLite).
- The program's connections as such a role put ``tongxin_program`` first on their
  ``search_path`` (``tongxin_program.enter()``, called by :func:`crm_core.db.make_engine`
  on every new connection; the owner and superusers read the tables). psql users keep
  the table, where a confidential interaction they may not read is simply not there;
  the view shows them the masked row, as it does the program.
- Who takes part in an interaction is visible with the interaction
  (``interaction_participant``'s SELECT policy follows the view); adding or removing a
  participant still needs the interaction itself (as before).

A later migration that changes the columns of ``interaction`` must create the view and
its trigger function again (``_create_view``); tests/security/test_pg_program_view.py
checks that the view has every column of the table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "tongxin_program"
GROUP_ROLE = "tongxin_user"

# The conditions of 0003, on the row ``i`` of the table.
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
MASKED = {"notes": "NULL", "data": "'{}'::jsonb"}

PARTICIPANT_OLD = "EXISTS (SELECT 1 FROM interaction t WHERE t.id = interaction_id)"
PARTICIPANT_SEEN = f"EXISTS (SELECT 1 FROM {SCHEMA}.interaction t WHERE t.id = interaction_id)"


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


def _create_view(qschema: str) -> None:
    """The view, its write-through trigger, and the grants (from the live columns)."""
    cols = _columns("interaction")
    select = ",\n".join(
        f"CASE WHEN {READABLE} THEN i.{c} ELSE {MASKED[c]} END AS {c}" if c in MASKED else f"i.{c}"
        for c in cols
    )
    _exec(
        f"CREATE VIEW {SCHEMA}.interaction WITH (security_barrier) AS\n"
        f"SELECT {select}\nFROM {qschema}.interaction i\nWHERE {VISIBLE}"
    )
    names = ", ".join(cols)
    values = ", ".join(f"NEW.{c}" for c in cols)
    # A masked value the caller did not change keeps what the table holds (never the
    # mask); anyone who may change a confidential row may read it, so this is a guard.
    sets = ",\n".join(
        f"{c} = CASE WHEN NEW.{c} IS NOT DISTINCT FROM OLD.{c} THEN t.{c} ELSE NEW.{c} END"
        if c in MASKED
        else f"{c} = NEW.{c}"
        for c in cols
    )
    # SECURITY INVOKER (the default): the table's row-level security applies to the
    # role writing. No row changed (not theirs to change) is reported as such, and the
    # program's version check then refuses the change.
    _exec(
        f"""CREATE FUNCTION {SCHEMA}.interaction_write() RETURNS trigger
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
    _exec(
        f"CREATE TRIGGER interaction_write INSTEAD OF INSERT OR UPDATE OR DELETE "
        f"ON {SCHEMA}.interaction FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.interaction_write()"
    )
    _exec(f"REVOKE ALL ON {SCHEMA}.interaction FROM PUBLIC")
    _exec(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {SCHEMA}.interaction TO {GROUP_ROLE}")


def _pg_upgrade() -> None:
    bind = op.get_bind()
    qschema = '"{}"'.format(bind.exec_driver_sql("SELECT current_schema()").scalar())
    _exec(f"CREATE SCHEMA {SCHEMA}")
    _exec(f"REVOKE ALL ON SCHEMA {SCHEMA} FROM PUBLIC")
    _exec(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {GROUP_ROLE}")
    _create_view(qschema)
    # Called on each new connection of the program: a person's own role reads
    # interactions through the view; the owner of the tables and superusers (whom
    # row-level security does not restrict) read the tables.
    _exec(
        f"""CREATE FUNCTION {SCHEMA}.enter() RETURNS void
        LANGUAGE plpgsql AS $fn$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND rolsuper)
               OR pg_has_role(current_user,
                              (SELECT relowner FROM pg_class
                               WHERE oid = '{qschema}.interaction'::regclass),
                              'MEMBER')
               OR starts_with(current_setting('search_path'), '{SCHEMA},')
            THEN
                RETURN;
            END IF;
            PERFORM set_config('search_path',
                               '{SCHEMA}, ' || current_setting('search_path'), false);
        END $fn$"""
    )
    _exec(f"REVOKE ALL ON FUNCTION {SCHEMA}.enter() FROM PUBLIC")
    _exec(f"GRANT EXECUTE ON FUNCTION {SCHEMA}.enter() TO {GROUP_ROLE}")
    # Who takes part is seen with the interaction; changing it needs the interaction.
    _exec("DROP POLICY tongxin_interaction_participant_all ON interaction_participant")
    for command, using, check in (
        ("SELECT", PARTICIPANT_SEEN, None),
        ("INSERT", None, PARTICIPANT_OLD),
        ("UPDATE", PARTICIPANT_OLD, PARTICIPANT_OLD),
        ("DELETE", PARTICIPANT_OLD, None),
    ):
        sql = (
            f"CREATE POLICY tongxin_interaction_participant_{command.lower()} "
            f"ON interaction_participant FOR {command}"
        )
        if using:
            sql += f" USING ({using})"
        if check:
            sql += f" WITH CHECK ({check})"
        _exec(sql)


def _pg_downgrade() -> None:
    for command in ("select", "insert", "update", "delete"):
        _exec(
            f"DROP POLICY IF EXISTS tongxin_interaction_participant_{command} "
            "ON interaction_participant"
        )
    _exec(
        "CREATE POLICY tongxin_interaction_participant_all ON interaction_participant FOR ALL "
        f"USING ({PARTICIPANT_OLD}) WITH CHECK ({PARTICIPANT_OLD})"
    )
    _exec(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_downgrade()
