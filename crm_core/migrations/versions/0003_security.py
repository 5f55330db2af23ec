"""security: who acted for whom in the audit log, an append-only audit log, and on
PostgreSQL row-level security for the people's own database roles

On both backends:

- ``audit_log.real_actor_id``: the administrator behind ``tongxin --as`` (indexed, as
  is ``actor_id``, for ``tongxin audit --user``).
- The audit log is append-only: a trigger refuses UPDATE and DELETE. The one exception
  is the redaction of a person's personal data when they are anonymised (a personal
  data request): on SQLite only while the program's own connection allows it (the SQL
  function ``tongxin_audit_redaction()``, which exists only on tongxin's connections);
  on PostgreSQL only through ``tongxin_redact_audit()``, for administrators.

On PostgreSQL (nothing of this on SQLite, where the file's permissions are the only
boundary):

- The group role ``tongxin_user`` (created if missing; never dropped, it belongs to the
  cluster) holds the program's privileges: GRANT it to every person's own login role.
  It may read and write the tables, but only INSERT into ``audit_log`` and only SELECT
  ``alembic_version``; tables created later by the same owner get the same grants.
- Row-level security compares ``current_user`` with ``account.username``:
  county staff see and write only their region's people, the interactions of their
  region (or with their region's people, or their own) and what hangs off them;
  confidential interactions are visible only to their participants, their creator
  and administrators; the audit log is readable by administrators only; accounts are
  written by administrators only (the first administrator by the owner).
  A role without an active account sees nothing.
- Views for those roles: ``tongxin_me`` (my account), ``interaction_overview`` (every
  interaction I may see, confidential ones included, their notes and fields masked
  unless I may read them).
- The owner of the tables (who runs ``tongxin db upgrade``) and superusers are not
  subject to row-level security.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GROUP_ROLE = "tongxin_user"

# -- SQLite -------------------------------------------------------------------------------

SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
    WHEN tongxin_audit_redaction() IS NOT 1
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: its rows cannot be changed'); END""",
    """CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: its rows cannot be deleted'); END""",
]

# -- PostgreSQL ---------------------------------------------------------------------------

# Views owned by the migrating role: they read the tables with its rights (so without
# row-level security and without recursion between policies), while current_user in
# them is still whoever queries. None of them is updatable (DISTINCT or a join).
PG_VIEWS = {
    "tongxin_me": """
        CREATE VIEW tongxin_me WITH (security_barrier) AS
        SELECT DISTINCT id, username, role, region_scope, person_id
        FROM account WHERE username = current_user AND active""",
    "tongxin_my_interactions": """
        CREATE VIEW tongxin_my_interactions WITH (security_barrier) AS
        SELECT DISTINCT p.interaction_id
        FROM interaction_participant p JOIN tongxin_me me
          ON p.account_id = me.id OR p.person_id = me.person_id""",
    "tongxin_scope_interactions": """
        CREATE VIEW tongxin_scope_interactions WITH (security_barrier) AS
        SELECT DISTINCT p.interaction_id
        FROM interaction_participant p
        JOIN person pe ON pe.id = p.person_id
        JOIN tongxin_me me ON me.role = 'county_staff' AND pe.region = me.region_scope""",
    "interaction_overview": """
        CREATE VIEW interaction_overview WITH (security_barrier) AS
        SELECT i.id, i.kind, i.status, i.start_at, i.end_at, i.all_day, i.location,
               i.region, i.summary, i.confidential, i.series_id, i.created_by_id,
               CASE WHEN NOT i.confidential OR me.role = 'admin' OR i.created_by_id = me.id
                      OR i.id IN (SELECT interaction_id FROM tongxin_my_interactions)
                    THEN i.notes END AS notes,
               CASE WHEN NOT i.confidential OR me.role = 'admin' OR i.created_by_id = me.id
                      OR i.id IN (SELECT interaction_id FROM tongxin_my_interactions)
                    THEN i.data END AS data
        FROM interaction i JOIN tongxin_me me
          ON me.role IN ('admin', 'leader', 'staff')
          OR (me.role = 'county_staff' AND (
                i.region = me.region_scope
                OR i.id IN (SELECT interaction_id FROM tongxin_scope_interactions)
                OR i.id IN (SELECT interaction_id FROM tongxin_my_interactions)))""",
}

# Conditions used by the policies. Uncorrelated subqueries on tongxin_me are computed
# once per statement, not per row.
ROLE = "(SELECT role FROM tongxin_me)"
ME = "(SELECT id FROM tongxin_me)"
SCOPE = "(SELECT region_scope FROM tongxin_me WHERE role = 'county_staff')"
ANYONE = f"{ROLE} IN ('admin', 'leader', 'staff')"
ADMIN = f"{ROLE} = 'admin'"
HAS_ACCOUNT = "EXISTS (SELECT 1 FROM tongxin_me)"
PERSON_VISIBLE = f"({ANYONE} OR region = {SCOPE})"
INTERACTION_VISIBLE = f"""(
    {ADMIN}
    OR ((NOT confidential OR created_by_id = {ME}
         OR id IN (SELECT interaction_id FROM tongxin_my_interactions))
        AND ({ANYONE}
             OR region = {SCOPE}
             OR id IN (SELECT interaction_id FROM tongxin_scope_interactions)
             OR id IN (SELECT interaction_id FROM tongxin_my_interactions))))"""
INTERACTION_NEW = f"({ANYONE} OR region = {SCOPE})"


def _via(table: str, column: str) -> str:
    return f"EXISTS (SELECT 1 FROM {table} t WHERE t.id = {column})"


# table -> {command: (USING, WITH CHECK)}; "ALL" covers every command.
PG_POLICIES: dict[str, dict[str, tuple[str | None, str | None]]] = {
    "person": {"ALL": (PERSON_VISIBLE, PERSON_VISIBLE)},
    "person_category": {"ALL": (_via("person", "person_id"), _via("person", "person_id"))},
    "person_committee": {"ALL": (_via("person", "person_id"), _via("person", "person_id"))},
    "organisation_contact": {
        "ALL": (_via("person", "person_id"), _via("person", "person_id"))
    },
    "organisation": {"ALL": (HAS_ACCOUNT, HAS_ACCOUNT)},
    "series": {"ALL": (HAS_ACCOUNT, HAS_ACCOUNT)},
    "account": {
        # Everyone sees who the administrators are (whom to ask) and their own account,
        # disabled or not; account holders see every account.
        "SELECT": (f"{HAS_ACCOUNT} OR (role = 'admin' AND active) OR username = current_user", None),
        # Only administrators write accounts (the first one is added by the owner).
        "INSERT": (None, ADMIN),
        "UPDATE": (ADMIN, ADMIN),
        "DELETE": (ADMIN, None),
    },
    "interaction": {
        "SELECT": (INTERACTION_VISIBLE, None),
        "INSERT": (None, INTERACTION_NEW),
        "UPDATE": (INTERACTION_VISIBLE, INTERACTION_VISIBLE),
        "DELETE": (INTERACTION_VISIBLE, None),
    },
    "interaction_participant": {
        "ALL": (_via("interaction", "interaction_id"), _via("interaction", "interaction_id"))
    },
    "follow_up": {
        "ALL": (
            f"({ANYONE} OR ({SCOPE} IS NOT NULL AND (owner_id = {ME} OR "
            f"{_via('person', 'person_id')})))",
            f"({ANYONE} OR ({SCOPE} IS NOT NULL AND (owner_id = {ME} OR "
            f"{_via('person', 'person_id')})))",
        )
    },
    "assignment": {"ALL": (_via("person", "contact_id"), _via("person", "contact_id"))},
    "audit_log": {
        "SELECT": (ADMIN, None),
        # Whoever writes says who they are: their own login, or "admin (as someone)".
        "INSERT": (
            None,
            "actor = current_user OR starts_with(actor, current_user || ' (as ')",
        ),
    },
}

PG_FUNCTIONS = [
    # Mask the values of the given keys, at any depth of a JSON document.
    """CREATE FUNCTION tongxin_mask(doc jsonb, keys text[], mask text) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE AS $fn$
    BEGIN
        IF jsonb_typeof(doc) = 'object' THEN
            RETURN COALESCE((
                SELECT jsonb_object_agg(k, CASE WHEN k = ANY(keys) AND v <> 'null'::jsonb
                                                THEN to_jsonb(mask)
                                                ELSE tongxin_mask(v, keys, mask) END)
                FROM jsonb_each(doc) AS e(k, v)), '{}'::jsonb);
        ELSIF jsonb_typeof(doc) = 'array' THEN
            RETURN COALESCE((
                SELECT jsonb_agg(tongxin_mask(v, keys, mask))
                FROM jsonb_array_elements(doc) AS e(v)), '[]'::jsonb);
        END IF;
        RETURN doc;
    END $fn$""",
    # The audit log refuses changes, except the redaction below.
    """CREATE FUNCTION tongxin_audit_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $fn$
    BEGIN
        IF TG_OP = 'UPDATE'
           AND current_setting('tongxin.audit_redaction', true) = 'on' THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only: its rows cannot be changed or deleted'
            USING ERRCODE = 'insufficient_privilege';
    END $fn$""",
    # Redact personal values from the audit entries of some records (a person who is
    # anonymised): administrators only, and only by masking values.
    """CREATE FUNCTION tongxin_redact_audit(entity_name text, ids text[], keys text[],
                                            mask text) RETURNS integer
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
        PERFORM set_config('tongxin.audit_redaction', 'on', true);
        UPDATE audit_log
           SET before = tongxin_mask(before, keys, mask),
               after = tongxin_mask(after, keys, mask)
         WHERE entity = entity_name AND entity_id = ANY(ids);
        GET DIAGNOSTICS changed = ROW_COUNT;
        PERFORM set_config('tongxin.audit_redaction', 'off', true);
        RETURN changed;
    END $fn$""",
]


def _exec(sql: str) -> None:
    op.get_bind().exec_driver_sql(sql)


def _policy_name(table: str, command: str) -> str:
    return f"tongxin_{table}_{command.lower()}"


def _pg_upgrade() -> None:
    bind = op.get_bind()
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar()
    qschema = f'"{schema}"'
    _exec(
        f"""DO $do$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{GROUP_ROLE}') THEN
                CREATE ROLE {GROUP_ROLE} NOLOGIN;
            END IF;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'cannot create the role {GROUP_ROLE}: ask a superuser to '
                    'run CREATE ROLE {GROUP_ROLE} NOLOGIN, then upgrade again';
        END $do$"""
    )
    for sql in PG_FUNCTIONS:
        _exec(sql.replace("{schema}", qschema))
    _exec(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION tongxin_audit_append_only()"
    )
    # The program's rights: every table, but the audit log is append-only and the
    # schema version read-only. Tables this owner creates later get the same.
    _exec(f"GRANT USAGE ON SCHEMA {qschema} TO {GROUP_ROLE}")
    _exec(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {qschema} TO {GROUP_ROLE}")
    _exec(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {GROUP_ROLE}")
    _exec(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {GROUP_ROLE}")
    _exec(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {qschema} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {GROUP_ROLE}"
    )
    for name, sql in PG_VIEWS.items():
        _exec(sql)
        _exec(f"REVOKE ALL ON {name} FROM PUBLIC, {GROUP_ROLE}")
        _exec(f"GRANT SELECT ON {name} TO {GROUP_ROLE}")
    _exec("REVOKE ALL ON FUNCTION tongxin_redact_audit(text, text[], text[], text) FROM PUBLIC")
    _exec(
        f"GRANT EXECUTE ON FUNCTION tongxin_redact_audit(text, text[], text[], text) "
        f"TO {GROUP_ROLE}"
    )
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
    bind = op.get_bind()
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar()
    qschema = f'"{schema}"'
    for table, policies in PG_POLICIES.items():
        for command in policies:
            _exec(f"DROP POLICY IF EXISTS {_policy_name(table, command)} ON {table}")
        _exec(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for name in reversed(list(PG_VIEWS)):
        _exec(f"DROP VIEW IF EXISTS {name}")
    _exec("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    _exec("DROP FUNCTION IF EXISTS tongxin_redact_audit(text, text[], text[], text)")
    _exec("DROP FUNCTION IF EXISTS tongxin_audit_append_only()")
    _exec("DROP FUNCTION IF EXISTS tongxin_mask(jsonb, text[], text)")
    exists = bind.exec_driver_sql(
        f"SELECT 1 FROM pg_roles WHERE rolname = '{GROUP_ROLE}'"
    ).scalar()
    if exists:
        _exec(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {qschema} "
            f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {GROUP_ROLE}"
        )
        _exec(f"REVOKE ALL ON ALL TABLES IN SCHEMA {qschema} FROM {GROUP_ROLE}")
        _exec(f"REVOKE USAGE ON SCHEMA {qschema} FROM {GROUP_ROLE}")


# -- both ---------------------------------------------------------------------------------


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("real_actor_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_log_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_log_real_actor_id"), ["real_actor_id"], unique=False
        )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for sql in SQLITE_TRIGGERS:
            _exec(sql)
    elif dialect == "postgresql":
        _pg_upgrade()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _exec("DROP TRIGGER IF EXISTS audit_log_append_only_update")
        _exec("DROP TRIGGER IF EXISTS audit_log_append_only_delete")
    elif dialect == "postgresql":
        _pg_downgrade()
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_real_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor_id"))
        batch_op.drop_column("real_actor_id")
