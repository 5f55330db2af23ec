"""HTTP API tokens, webhooks and their delivery log

``tongxin serve`` answers ``/api/v1/`` for bearer tokens (``api_token``: only the
SHA-256 stored, revoked never deleted); an account's webhooks (``webhook``) receive
person, interaction and follow-up events, each delivery logged (``webhook_delivery``,
with no personal data: the body is built when sent, acting as the account).

On PostgreSQL each table has row-level security like ``caldav_state`` (0005): an account
reads and writes only its own rows, administrators all. A revoked API token stays
revoked, and its hash, holder and scope never change (triggers, as for ``feed_token``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crm_core.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The conditions of 0003/0005 (copied: a migration keeps what it did).
ROLE = "(SELECT role FROM tongxin_me)"
ME = "(SELECT id FROM tongxin_me)"
OWN = f"{ROLE} = 'admin' OR account_id = {ME}"
TABLES = ("api_token", "webhook", "webhook_delivery")

PG_GUARD = """CREATE FUNCTION tongxin_api_token_guard() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
        RAISE EXCEPTION 'a revoked API token stays revoked'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.token_hash IS DISTINCT FROM OLD.token_hash
       OR NEW.account_id IS DISTINCT FROM OLD.account_id
       OR NEW.scope IS DISTINCT FROM OLD.scope THEN
        RAISE EXCEPTION 'an API token''s hash, holder and scope cannot be changed'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $fn$"""

SQLITE_GUARDS = [
    """CREATE TRIGGER api_token_stays_revoked BEFORE UPDATE ON api_token
    WHEN OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS NOT OLD.revoked_at
    BEGIN SELECT RAISE(ABORT, 'a revoked API token stays revoked'); END""",
    """CREATE TRIGGER api_token_fixed BEFORE UPDATE ON api_token
    WHEN NEW.token_hash IS NOT OLD.token_hash OR NEW.account_id IS NOT OLD.account_id
      OR NEW.scope IS NOT OLD.scope
    BEGIN SELECT RAISE(ABORT, 'an API token''s hash, holder and scope cannot be changed'); END""",
]


def upgrade() -> None:
    utc = crm_core.types.UTCDateTime(timezone=True)
    op.create_table(
        "api_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("revoked_at", utc, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_account_id"), ["account_id"])
        batch_op.create_index(batch_op.f("ix_api_token_token_hash"), ["token_hash"], unique=True)
    op.create_table(
        "webhook",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("secret", sa.String(), nullable=False),
        sa.Column("events", crm_core.types.JSONDoc, nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("removed_at", utc, nullable=True),
        sa.Column("cursor_at", utc, nullable=True),
        sa.Column("cursor_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_account_id"), ["account_id"])
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("entity_id", sa.String(), nullable=False),
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", utc, nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("delivered_at", utc, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhook.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_delivery_webhook_id"), ["webhook_id"])
        batch_op.create_index(batch_op.f("ix_webhook_delivery_account_id"), ["account_id"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in TABLES:
            bind.exec_driver_sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            bind.exec_driver_sql(
                f"CREATE POLICY tongxin_{table}_all ON {table} FOR ALL "
                f"USING ({OWN}) WITH CHECK ({OWN})"
            )
        bind.exec_driver_sql(PG_GUARD)
        bind.exec_driver_sql(
            "CREATE TRIGGER api_token_guard BEFORE UPDATE ON api_token "
            "FOR EACH ROW EXECUTE FUNCTION tongxin_api_token_guard()"
        )
    else:
        for sql in SQLITE_GUARDS:
            bind.exec_driver_sql(sql)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS api_token_guard ON api_token")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS tongxin_api_token_guard()")
        for table in TABLES:
            bind.exec_driver_sql(f"DROP POLICY IF EXISTS tongxin_{table}_all ON {table}")
    else:
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS api_token_stays_revoked")
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS api_token_fixed")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook")
    op.drop_table("api_token")
