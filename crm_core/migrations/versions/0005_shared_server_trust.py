"""shared-server trust: no pickled jobs, and on PostgreSQL row-level security on every
table a person's role can reach

On both backends:

- The table ``apscheduler_jobs`` (0002, APScheduler's SQLAlchemyJobStore) is dropped:
  its rows were pickles that the reminder service loaded, and a pickle runs code when
  it is loaded, so whoever could write a row (any ``tongxin_user`` role, anyone who may
  write the SQLite file) ran code as the service. The service now keeps its jobs in
  memory and plans them from tongxin's own tables (the delivery log says what was
  sent). Downgrade creates the table again, empty.
- ``caldav_state.account_id``: the account whose push wrote the row (NULL for rows of
  earlier pushes and of the owner), so each account's sync state is its own.
- A feed token, once revoked, stays revoked: a trigger refuses to clear or change
  ``revoked_at``, and to change a token's hash, holder or scope (on PostgreSQL for
  every role, administrators and the owner included).

On PostgreSQL:

- ``CREATE`` on the program's schema is revoked from ``PUBLIC`` and ``tongxin_user``: a
  person's role cannot create a table (nor a forged job table) next to the program's.
- Row-level security on every table ``tongxin_user`` may reach (0003 did the people's
  tables):

  - ``series`` (the institutional series everyone sees): read by every account
    holder, written by administrators only;
  - ``feed_token``: an account sees and changes only its own personal tokens, makes
    only personal tokens for itself, never deletes one; administrators see and change
    every token and alone make tokens for others and for shared calendars (office,
    institutional: ``account_id`` NULL) and delete;
  - ``reminder_delivery``: an account reads its own rows and adds only rows of its
    own desk (channel ``desk``, recipient its username: the terminal UI's reminders);
    the reminder service's channels, changes and deletions are for administrators;
  - ``caldav_state``: an account reads and writes its own rows; administrators all;
  - ``alembic_version``: readable by every role (the program checks the schema
    version), written by the owner only (no write privilege is granted: 0003): made
    explicit by a SELECT-only policy.

- ``tongxin_redact_audit_text()``: the text redaction of an anonymised person's name,
  phone and e-mail inside audit entries (administrators only, like 0003's
  ``tongxin_redact_audit()``).

  A table later migrations add must come with its policies or without a grant to
  ``tongxin_user``: tests/security/test_pg_every_table.py fails otherwise.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GROUP_ROLE = "tongxin_user"

# The conditions of 0003.
ROLE = "(SELECT role FROM tongxin_me)"
ME = "(SELECT id FROM tongxin_me)"
MY_NAME = "(SELECT username FROM tongxin_me)"
ADMIN = f"{ROLE} = 'admin'"
HAS_ACCOUNT = "EXISTS (SELECT 1 FROM tongxin_me)"
MINE = f"account_id = {ME}"

# table -> {command: (USING, WITH CHECK)}
PG_POLICIES: dict[str, dict[str, tuple[str | None, str | None]]] = {
    "series": {
        "SELECT": (HAS_ACCOUNT, None),
        "INSERT": (None, ADMIN),
        "UPDATE": (ADMIN, ADMIN),
        "DELETE": (ADMIN, None),
    },
    "feed_token": {
        "SELECT": (f"{ADMIN} OR {MINE}", None),
        "INSERT": (None, f"{ADMIN} OR ({MINE} AND scope = 'user')"),
        "UPDATE": (f"{ADMIN} OR {MINE}", f"{ADMIN} OR ({MINE} AND scope = 'user')"),
        "DELETE": (ADMIN, None),
    },
    "reminder_delivery": {
        "SELECT": (f"{ADMIN} OR {MINE}", None),
        "INSERT": (
            None,
            f"{ADMIN} OR ({MINE} AND channel = 'desk' AND recipient = {MY_NAME})",
        ),
        "UPDATE": (ADMIN, ADMIN),
        "DELETE": (ADMIN, None),
    },
    "caldav_state": {
        "ALL": (f"{ADMIN} OR {MINE}", f"{ADMIN} OR {MINE}"),
    },
    "alembic_version": {
        "SELECT": ("true", None),
    },
}

# 0003's policy of series (every account holder wrote it), put back on downgrade.
OLD_SERIES_POLICY = (
    f"CREATE POLICY tongxin_series_all ON series FOR ALL "
    f"USING ({HAS_ACCOUNT}) WITH CHECK ({HAS_ACCOUNT})"
)

PG_TOKEN_GUARD = """CREATE FUNCTION tongxin_feed_token_guard() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
        RAISE EXCEPTION 'a revoked feed token stays revoked'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.token_hash IS DISTINCT FROM OLD.token_hash
       OR NEW.account_id IS DISTINCT FROM OLD.account_id
       OR NEW.scope IS DISTINCT FROM OLD.scope THEN
        RAISE EXCEPTION 'a feed token''s hash, holder and scope cannot be changed'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $fn$"""

SQLITE_TOKEN_GUARDS = [
    """CREATE TRIGGER feed_token_stays_revoked BEFORE UPDATE ON feed_token
    WHEN OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS NOT OLD.revoked_at
    BEGIN SELECT RAISE(ABORT, 'a revoked feed token stays revoked'); END""",
    """CREATE TRIGGER feed_token_fixed BEFORE UPDATE ON feed_token
    WHEN NEW.token_hash IS NOT OLD.token_hash OR NEW.account_id IS NOT OLD.account_id
      OR NEW.scope IS NOT OLD.scope
    BEGIN SELECT RAISE(ABORT, 'a feed token''s hash, holder and scope cannot be changed');
    END""",
]


# Anonymising a person replaces their name, phone and e-mail inside the audit entries
# of the records they appear in (a shared interaction's summary keeps the rest of its
# text). 0003's tongxin_redact_audit() masks whole values by key; this one replaces
# given strings, with the same contract: SECURITY DEFINER, administrators (or the
# owner, or a superuser) only, only the entries of the records named, the one change
# the append-only trigger lets through; needles shorter than two characters refused.
PG_TEXT_REDACTION = [
    """CREATE FUNCTION tongxin_replace_text(doc jsonb, needles text[], mask text)
    RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $fn$
    DECLARE
        s text;
        n text;
    BEGIN
        IF jsonb_typeof(doc) = 'object' THEN
            RETURN COALESCE((
                SELECT jsonb_object_agg(k, tongxin_replace_text(v, needles, mask))
                FROM jsonb_each(doc) AS e(k, v)), '{}'::jsonb);
        ELSIF jsonb_typeof(doc) = 'array' THEN
            RETURN COALESCE((
                SELECT jsonb_agg(tongxin_replace_text(v, needles, mask) ORDER BY i)
                FROM jsonb_array_elements(doc) WITH ORDINALITY AS e(v, i)), '[]'::jsonb);
        ELSIF jsonb_typeof(doc) = 'string' THEN
            s := doc #>> '{}';
            FOREACH n IN ARRAY needles LOOP
                s := replace(s, n, mask);
            END LOOP;
            RETURN to_jsonb(s);
        END IF;
        RETURN doc;
    END $fn$""",
    """CREATE FUNCTION tongxin_redact_audit_text(entity_name text, ids text[],
                                                 needles text[], mask text)
    RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $fn$
    DECLARE
        changed integer;
    BEGIN
        IF NOT (
            EXISTS (SELECT 1 FROM account
                    WHERE username = session_user AND role = 'admin' AND active)
            OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = session_user AND rolsuper)
            OR pg_has_role(session_user,
                           (SELECT relowner FROM pg_class WHERE oid = 'audit_log'::regclass),
                           'MEMBER')
        ) THEN
            RAISE EXCEPTION 'only an administrator may redact the audit log'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF EXISTS (SELECT 1 FROM unnest(needles) AS n WHERE n IS NULL OR length(n) < 2) THEN
            RAISE EXCEPTION 'every text to replace needs at least two characters'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM set_config('tongxin.audit_redaction', 'on', true);
        UPDATE audit_log
           SET before = tongxin_replace_text(before, needles, mask),
               after = tongxin_replace_text(after, needles, mask)
         WHERE entity = entity_name AND entity_id = ANY(ids)
           AND (before IS DISTINCT FROM tongxin_replace_text(before, needles, mask)
                OR after IS DISTINCT FROM tongxin_replace_text(after, needles, mask));
        GET DIAGNOSTICS changed = ROW_COUNT;
        PERFORM set_config('tongxin.audit_redaction', 'off', true);
        RETURN changed;
    END $fn$""",
    "REVOKE ALL ON FUNCTION tongxin_redact_audit_text(text, text[], text[], text) FROM PUBLIC",
]


def _exec(sql: str) -> None:
    op.get_bind().exec_driver_sql(sql)


def _policy_name(table: str, command: str) -> str:
    return f"tongxin_{table}_{command.lower()}"


def _qschema() -> str:
    return '"{}"'.format(op.get_bind().exec_driver_sql("SELECT current_schema()").scalar())


def _group_exists() -> bool:
    found = op.get_bind().exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{GROUP_ROLE}'")
    return found.scalar() is not None


def _pg_upgrade() -> None:
    qschema = _qschema()
    # Nobody but the owner creates objects in the program's schema. (A REVOKE by a
    # role that does not own the schema only warns: the owner of the schema then has
    # to run it, which the test of every table checks.)
    _exec(f"REVOKE CREATE ON SCHEMA {qschema} FROM PUBLIC")
    if _group_exists():
        _exec(f"REVOKE CREATE ON SCHEMA {qschema} FROM {GROUP_ROLE}")
    for sql in PG_TEXT_REDACTION:
        _exec(sql.replace("{schema}", qschema))
    if _group_exists():
        _exec(
            "GRANT EXECUTE ON FUNCTION tongxin_redact_audit_text(text, text[], text[], text) "
            f"TO {GROUP_ROLE}"
        )
    _exec(PG_TOKEN_GUARD)
    _exec(
        "CREATE TRIGGER feed_token_guard BEFORE UPDATE ON feed_token "
        "FOR EACH ROW EXECUTE FUNCTION tongxin_feed_token_guard()"
    )
    _exec("DROP POLICY IF EXISTS tongxin_series_all ON series")
    for table, policies in PG_POLICIES.items():
        _exec(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        for command, (using, check) in policies.items():
            sql = f"CREATE POLICY {_policy_name(table, command)} ON {table} FOR {command}"
            if using:
                sql += f" USING ({using})"
            if check:
                sql += f" WITH CHECK ({check})"
            _exec(sql)


def _pg_downgrade() -> None:
    for table, policies in PG_POLICIES.items():
        for command in policies:
            _exec(f"DROP POLICY IF EXISTS {_policy_name(table, command)} ON {table}")
        if table != "series":  # 0003's own
            _exec(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    _exec(OLD_SERIES_POLICY)
    _exec("DROP TRIGGER IF EXISTS feed_token_guard ON feed_token")
    _exec("DROP FUNCTION IF EXISTS tongxin_feed_token_guard()")
    _exec("DROP FUNCTION IF EXISTS tongxin_redact_audit_text(text, text[], text[], text)")
    _exec("DROP FUNCTION IF EXISTS tongxin_replace_text(jsonb, text[], text)")
    # CREATE on the schema is not given back: nothing of the program needed it.


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apscheduler_jobs_next_run_time"))
    op.drop_table("apscheduler_jobs")
    with op.batch_alter_table("caldav_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_caldav_state_account_id"), ["account_id"])
        batch_op.create_foreign_key(
            "fk_caldav_state_account_id_account",
            "account",
            ["account_id"],
            ["id"],
            ondelete="SET NULL",
        )
    if dialect == "sqlite":
        for sql in SQLITE_TOKEN_GUARDS:
            _exec(sql)
    elif dialect == "postgresql":
        _pg_upgrade()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _exec("DROP TRIGGER IF EXISTS feed_token_stays_revoked")
        _exec("DROP TRIGGER IF EXISTS feed_token_fixed")
    elif dialect == "postgresql":
        _pg_downgrade()
    with op.batch_alter_table("caldav_state", schema=None) as batch_op:
        batch_op.drop_constraint("fk_caldav_state_account_id_account", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_caldav_state_account_id"))
        batch_op.drop_column("account_id")
    # Empty, as 0002 made it (APScheduler's SQLAlchemyJobStore table, column for column).
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_apscheduler_jobs_next_run_time"), ["next_run_time"], unique=False
        )
    if dialect == "postgresql" and _group_exists():
        # As 0003's grants gave it (default privileges): the program's rights on it.
        _exec(f"GRANT SELECT, INSERT, UPDATE, DELETE ON apscheduler_jobs TO {GROUP_ROLE}")
