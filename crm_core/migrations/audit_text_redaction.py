"""PostgreSQL: replace given strings inside the audit entries of some records (for
migration 0005 to create; issue 11, item 6).

Migration 0003's ``tongxin_redact_audit()`` masks whole values by their JSON key. When
a person is anonymised, their name, phone and e-mail also sit *inside* values of other
records' entries (the summary of an interaction shared with others, a follow-up's
title): ``tongxin_redact_audit_text()`` replaces just those strings and keeps the rest.
Same contract as the key redaction: SECURITY DEFINER, administrators (or the owner, or
a superuser) only, only for the entries of the records named, and the one change the
append-only trigger lets through (``tongxin.audit_redaction``). It refuses needles
shorter than two characters, so a slip cannot blank every entry of a record.

Until a migration creates it, :mod:`crm_core.services.privacy` falls back to the key
redaction (the whole value of a key that holds the person's data is masked).

These statements are meant to be copied into the migration that creates the function
(a migration must not change when this module does); ``{schema}`` is the quoted
current schema, ``{group}`` the program's group role (``tongxin_user``).
"""

from __future__ import annotations

FUNCTION_NAME = "tongxin_redact_audit_text"
SIGNATURE = "tongxin_redact_audit_text(text, text[], text[], text)"

PG_UPGRADE = [
    # Every string value of a JSON document, at any depth, with each needle replaced.
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
    f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC",
    f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {{group}}",
]

PG_DOWNGRADE = [
    f"DROP FUNCTION IF EXISTS {SIGNATURE}",
    "DROP FUNCTION IF EXISTS tongxin_replace_text(jsonb, text[], text)",
]


def statements(schema: str, group: str = "tongxin_user", *, up: bool = True) -> list[str]:
    """The SQL to run, with the (already quoted) schema and the group role filled in."""
    return [
        s.replace("{schema}", schema).replace("{group}", group)
        for s in (PG_UPGRADE if up else PG_DOWNGRADE)
    ]
