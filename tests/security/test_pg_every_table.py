"""Row-level security on every table a person's role can reach (issue 11, item 2).

The inventory comes from the database, not from a list: every relation in every schema
``tongxin_user`` may use (tables, partitioned and foreign tables, views, materialized
views, sequences) and every SECURITY DEFINER function there. A table must have
row-level security enabled with policies, or no privilege for ``tongxin_user`` or
PUBLIC; views, sequences and SECURITY DEFINER functions must be in the reviewed lists
below. A table a later migration adds without that fails here, and its rows must be
added to the expectations matrix (which must cover exactly the tables there are).

Then every table is tried, row by row, with SELECT, INSERT (a copy of the row),
UPDATE (a no-op) and DELETE, as real LOGIN roles (members of ``tongxin_user``) over
plain psycopg: a county clerk, a leader, a staff member and an administrator. Each
attempt runs in a transaction rolled back afterwards. What each may do is the matrix:
for each table, role and command, the rows (a condition the superuser evaluates) on
which the command is allowed, or "denied" (no privilege at all).

The attacks the issue names are tried by themselves too: a county clerk mints an
office-wide token, un-revokes or revokes another's token, rewrites a series, forges a
reminder delivery; and the program keeps working for each role.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import select
from sqlmodel import col

from crm_core import clock
from crm_core.access_models import Webhook, WebhookDelivery
from crm_core.app import Tongxin
from crm_core.calendar import feeds
from crm_core.calendar.caldav_sync import sync_caldav
from crm_core.calendar.series import sync_series
from crm_core.calendar_models import (
    CaldavState,
    ContactProposal,
    FeedToken,
    ReminderDelivery,
)
from crm_core.dedupe_models import NotDuplicate
from crm_core.exchange_models import ExchangePeer, ExchangeRow
from crm_core.group_models import ContactGroup, ContactGroupMember, GroupKind
from crm_core.models import (
    Organisation,
    OrganisationContact,
    PersonCategory,
    PersonCommittee,
    Series,
)
from crm_core.relation_models import InteractionTag, PersonTag, Relation
from crm_core.services import accounts, api_tokens, assignments, contacts, followups, interactions
from tests.calendar.dav_server import radicale_server  # noqa: F401  (a real CalDAV server)

from .conftest import PG_ADMIN_URL

PG = pytest.mark.parametrize("backend", ["postgresql"])
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
ROLES = ("county", "leader", "staff", "admin")
COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")
DENIED = "denied"  # no privilege: every attempt is refused

# Reviewed: each reads the tables with its owner's rights and filters by current_user.
REVIEWED_VIEWS = {
    # My own account (id, username, role, region, person): the policies' "who am I".
    "public.tongxin_me",
    # The ids of the interactions I take part in (as an account or as my person).
    "public.tongxin_my_interactions",
    # The ids of the interactions with people of my region (county staff only).
    "public.tongxin_scope_interactions",
    # Every interaction I may see, notes and fields masked unless I may read them.
    "public.interaction_overview",
    # The program's view of interactions (0004): as interaction_overview, every column;
    # its INSTEAD OF trigger writes as the caller, under the table's policies.
    "tongxin_program.interaction",
}
REVIEWED_SEQUENCES: set[str] = set()  # every key is a UUID made by the program
# Reviewed: it checks that the caller is an administrator (or the owner), sets its own
# search_path, and only masks or replaces values in the audit log (of the records named).
REVIEWED_DEFINER_FUNCTIONS = {"public.tongxin_redact_audit", "public.tongxin_redact_audit_text"}

# The conditions, evaluated by the superuser with %(me)s (the role's account id) and
# %(name)s (its username) and the world's ids.
ALL = "true"
NONE = "false"
GL_PEOPLE = "person_id IN (SELECT id FROM person WHERE region = 'guangling')"


def _in_groups(cond: str) -> str:
    return f"group_id IN (SELECT id FROM contact_group WHERE {cond})"


@dataclass
class World:
    users: dict[str, str]  # role -> username (= its LOGIN role)
    ids: dict[str, uuid.UUID]  # role -> account id; and the world's rows by name


def _expectations() -> dict[str, dict[str, dict[str, str]]]:
    """table -> role -> command -> the rows the command may touch (or DENIED)."""

    def same(cond: dict[str, str]) -> dict[str, dict[str, str]]:
        return {role: dict.fromkeys(COMMANDS, cond[role]) for role in ROLES}

    def by(
        select: dict[str, str],
        insert: dict[str, str],
        update: dict[str, str],
        delete: dict[str, str],
    ) -> dict[str, dict[str, str]]:
        return {
            role: {"SELECT": select[role], "INSERT": insert[role], "UPDATE": update[role],
                   "DELETE": delete[role]}
            for role in ROLES
        }  # fmt: skip

    everyone = dict.fromkeys(ROLES, ALL)
    admins = {"county": NONE, "leader": NONE, "staff": NONE, "admin": ALL}
    people = {**everyone, "county": "region = 'guangling'"}
    via_people = {**everyone, "county": GL_PEOPLE}
    own = {**dict.fromkeys(ROLES, "account_id = %(me)s"), "admin": ALL}
    # Interactions: the confidential talk (chair's, in guangling) only for its
    # participants and administrators; county staff: their region's, or with their
    # region's people, or their own.
    seen = {
        "county": "id = %(gl_call)s",
        "leader": ALL,
        "staff": "id <> %(talk)s",
        "admin": ALL,
    }
    # Who takes part is seen with the interaction, as the program view shows it
    # (the confidential talk in guangling included, masked); changed only with it.
    part_seen = {**seen, "county": "interaction_id IN (%(gl_call)s, %(talk)s)",
                 "staff": ALL}  # fmt: skip
    part_change = {role: seen[role].replace("id", "interaction_id", 1) for role in ROLES}
    audit_insert = dict.fromkeys(
        ROLES, "(actor = %(name)s OR starts_with(actor, %(name)s || ' (as '))"
    )
    return {
        "person": same(people),
        "person_category": same(via_people),
        "person_committee": same(via_people),
        "person_gram": same(via_people),
        "organisation_contact": same(via_people),
        "assignment": same({**everyone, "county": GL_PEOPLE.replace("person_id", "contact_id")}),
        "organisation": same(everyone),
        "follow_up": same({**everyone, "county": f"(owner_id = %(me)s OR {GL_PEOPLE})"}),
        "interaction": by(seen, {**everyone, "county": "region = 'guangling'"}, seen, seen),
        "interaction_participant": by(part_seen, part_change, part_change, part_change),
        "account": by(everyone, admins, admins, admins),
        "series": by(everyone, admins, admins, admins),
        "audit_log": by(
            admins, audit_insert, dict.fromkeys(ROLES, DENIED), dict.fromkeys(ROLES, DENIED)
        ),
        "alembic_version": by(everyone, *[dict.fromkeys(ROLES, DENIED)] * 3),
        "feed_token": by(
            own,
            {**dict.fromkeys(ROLES, "account_id = %(me)s AND scope = 'user'"), "admin": ALL},
            own,
            admins,
        ),
        "reminder_delivery": by(
            own,
            {
                **dict.fromkeys(
                    ROLES, "account_id = %(me)s AND channel = 'desk' AND recipient = %(name)s"
                ),
                "admin": ALL,
            },
            admins,
            admins,
        ),
        "caldav_state": same(own),
        "contact_proposal": same(own),
        # Issue 18: a relation is seen with both its people, a tag with its record.
        "relation": same(
            {
                **everyone,
                "county": f"{GL_PEOPLE} AND (other_id IS NULL OR "
                f"{GL_PEOPLE.replace('person_id', 'other_id')})",
            }
        ),
        "person_tag": same(via_people),
        "interaction_tag": same(part_change),
        # Groups: shared ones seen by all, personal ones by their owners; changed by the
        # owner (a shared one by an administrator too); members as their person is seen.
        "contact_group": by(
            dict.fromkeys(ROLES, "(shared OR owner_id = %(me)s)"),
            dict.fromkeys(ROLES, "owner_id = %(me)s"),
            {**dict.fromkeys(ROLES, "owner_id = %(me)s"), "admin": "(owner_id = %(me)s OR shared)"},
            {**dict.fromkeys(ROLES, "owner_id = %(me)s"), "admin": "(owner_id = %(me)s OR shared)"},
        ),
        "contact_group_member": by(
            {
                **dict.fromkeys(ROLES, _in_groups("shared OR owner_id = %(me)s")),
                "county": f"{GL_PEOPLE} AND " + _in_groups("shared OR owner_id = %(me)s"),
            },
            *[
                {
                    **dict.fromkeys(ROLES, _in_groups("owner_id = %(me)s")),
                    "admin": _in_groups("owner_id = %(me)s OR shared"),
                    "county": f"{GL_PEOPLE} AND " + _in_groups("owner_id = %(me)s"),
                }
            ]
            * 3,
        ),
        # The HTTP API's tokens, webhooks and their delivery log (migration 0012).
        "api_token": same(own),
        "webhook": same(own),
        "webhook_delivery": same(own),
        # County → city exchange (migration 0014): the base of imports is the office's;
        # an export record is seen by all, county staff only their region's.
        "exchange_peer": same(
            {
                **dict.fromkeys(ROLES, "direction = 'export'"),
                "county": "direction = 'export' AND region = 'guangling'",
                "admin": ALL,
            }
        ),
        "exchange_row": same(admins),
        "not_duplicate": same(
            {
                **everyone,
                "county": " AND ".join(
                    GL_PEOPLE.replace("person_id", column) for column in ("person_a", "person_b")
                ),
            }
        ),
    }


EXPECT = _expectations()


@pytest.fixture
def world(app: Tongxin, names: Callable[[str], str], pg_roles: Callable[[str], None]) -> World:
    clock.freeze(NOW)
    users = {
        "county": names("gl"),
        "leader": names("chair"),
        "staff": names("xiaoli"),
        "admin": names("office"),
    }
    ids: dict[str, uuid.UUID] = {}
    for name in users.values():
        pg_roles(name)
    with app.unit() as unit:
        made = {
            "admin": accounts.create_account(unit, username=users["admin"], role="admin"),
            "leader": accounts.create_account(unit, username=users["leader"], role="leader"),
            "staff": accounts.create_account(unit, username=users["staff"], role="staff"),
            "county": accounts.create_account(
                unit, username=users["county"], role="county_staff", region_scope="guangling"
            ),
        }
        ids.update({role: a.id for role, a in made.items()})
        zhang = contacts.create_person(unit, name="张三", region="guangling")
        li = contacts.create_person(unit, name="李四", region="hanjiang")
        ids["zhang"], ids["li"] = zhang.id, li.id
        org = Organisation(name="民建扬州市委")
        unit.session.add(org)
        unit.session.flush()
        for p in (zhang, li):
            unit.session.add(PersonCategory(person_id=p.id, category="members"))
            unit.session.add(PersonCommittee(person_id=p.id, committee="economy"))
            unit.session.add(OrganisationContact(organisation_id=org.id, person_id=p.id))
            assignments.assign(
                unit, keeper_id=made["leader"].id, contact_id=p.id, ideal_days=30, max_days=60,
                start_on=date(2026, 1, 1),
            )  # fmt: skip
        # Pairs marked "not a duplicate": one inside guangling, one across the counties.
        zhang2 = contacts.create_person(unit, name="章三", region="guangling")
        for one, other in ((zhang.id, zhang2.id), (zhang.id, li.id)):
            low, high = sorted((one, other), key=str)
            unit.session.add(NotDuplicate(person_a=low, person_b=high))
        # Groups: the leader's own and shared ones, the county clerk's own (issue 18).
        for owner, shared in (("leader", False), ("leader", True), ("county", False)):
            group = ContactGroup(name=f"{owner}-{shared}", kind=GroupKind.static, shared=shared,
                                 owner_id=made[owner].id)  # fmt: skip
            unit.session.add(group)
            unit.session.flush()
            for p in (zhang, li):
                unit.session.add(ContactGroupMember(group_id=group.id, person_id=p.id))
        followups.raise_follow_up(unit, title="路灯", person_id=zhang.id)
        followups.raise_follow_up(unit, title="停车", person_id=li.id)
        followups.raise_follow_up(unit, title="自己的", owner_id=made["county"].id)
        sync_series(unit)
        unit.session.add(Series(code="study", title="理论学习", rrule="FREQ=MONTHLY",
                                start_at=NOW, source="user"))  # fmt: skip
        for role in ("county", "leader"):
            feeds.create_token(unit, account=made[role], name=f"{role} phone")
        old, _t = feeds.create_token(unit, account=made["leader"], name="old phone")
        old.revoked_at = NOW
        feeds.create_token(unit, scope="office", name="大屏")
        feeds.create_token(unit, scope="institutional", name="公开")
        for role in ("county", "leader"):
            unit.session.add(
                ReminderDelivery(key=f"item:{role}", channel="desk", recipient=users[role],
                                 account_id=made[role].id, status="sent")
            )  # fmt: skip
            unit.session.add(
                CaldavState(calendar_url=f"https://dav.example/{role}/", uid=f"u-{role}",
                            href=f"https://dav.example/{role}/u.ics", content_hash="x",
                            account_id=made[role].id)
            )  # fmt: skip
            unit.session.add(
                ContactProposal(book_url=f"https://dav.example/{role}/book/", person_id=zhang.id,
                                phones=["13900000000"], account_id=made[role].id)
            )  # fmt: skip
        for role in ("county", "leader"):
            api_tokens.create_token(unit, made[role], name=f"{role} app")
            hook = Webhook(account_id=made[role].id, url=f"https://hooks.example/{role}",
                           secret="s", events=["person"])  # fmt: skip
            unit.session.add(hook)
            unit.session.flush()
            unit.session.add(
                WebhookDelivery(webhook_id=hook.id, account_id=made[role].id,
                                event="person.update", entity_id=str(zhang.id),
                                audit_id=uuid.uuid4())
            )  # fmt: skip
        unit.session.add(
            ReminderDelivery(key="item:x", channel="email", recipient="wang@example.org",
                             account_id=made["leader"].id, status="sent")
        )  # fmt: skip
        unit.session.add(ReminderDelivery(key="item:x", channel="*", recipient="*", status="sent"))
        # Exchange records: an import base and exports of two regions (issue 19).
        peers = [
            ExchangePeer(peer=f"county-{n}", region=region, direction=direction)
            for n, (region, direction) in enumerate(
                (("guangling", "import"), ("guangling", "export"), ("hanjiang", "export"))
            )
        ]
        unit.session.add_all(peers)
        unit.session.flush()
        unit.session.add(ExchangeRow(peer_id=peers[0].id, entity="person", row_id=zhang.id,
                                     version=1, content_hash="x"))  # fmt: skip
    with app.unit(users["leader"]) as unit:
        ids["talk"] = interactions.log_interaction(
            unit, kind="meeting", people=[zhang.id], region="guangling", summary="谈心谈话",
            notes="绝密内容", confidential=True,
        ).id  # fmt: skip
        ids["visit"] = interactions.log_interaction(
            unit, kind="meeting", people=[li.id], region="hanjiang", summary="走访"
        ).id
    with app.unit(users["county"]) as unit:
        ids["gl_call"] = interactions.log_interaction(
            unit, kind="call", people=[zhang.id], region="guangling", summary="电话"
        ).id
    with app.unit() as unit:
        # Relations inside guangling, across the counties, and with an organisation; tags
        # on both people and on each interaction (the confidential talk's included).
        for one, other in ((zhang.id, zhang2.id), (li.id, zhang.id)):
            unit.session.add(Relation(type="colleague", person_id=one, other_id=other))
        unit.session.add(Relation(type="heads", person_id=li.id, organisation_id=org.id))
        for p in (zhang, li):
            unit.session.add(PersonTag(person_id=p.id, tag="重点"))
        for key in ("talk", "visit", "gl_call"):
            unit.session.add(InteractionTag(interaction_id=ids[key], tag="回访"))
    # Each role leaves an audit entry of its own (the program writes them).
    return World(users, ids)


@pytest.fixture
def superuser(db_url: str) -> Iterator[psycopg.Connection]:
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db_url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn


SCHEMAS = (
    "SELECT oid, nspname FROM pg_namespace WHERE has_schema_privilege('tongxin_user', oid, "
    "'USAGE') AND nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND nspname NOT LIKE 'pg_toast%%' AND nspname NOT LIKE 'pg_temp%%'"
)


def _relations(conn: psycopg.Connection) -> list[tuple[str, str, str, bool, int, bool]]:
    """(schema, name, relkind, rls enabled, policies, any privilege to tongxin_user or
    PUBLIC) of every relation in the schemas tongxin_user may use."""
    return [
        tuple(r)  # type: ignore[misc]
        for r in conn.execute(
            f"""SELECT n.nspname, c.relname, c.relkind::text, c.relrowsecurity,
                   (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::int,
                   has_table_privilege('tongxin_user', c.oid,
                       'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')
                   OR EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee = 0)
                   OR (c.relkind = 'S' AND has_sequence_privilege('tongxin_user', c.oid,
                                                                  'USAGE,SELECT,UPDATE'))
            FROM pg_class c JOIN ({SCHEMAS}) n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
            ORDER BY 1, 2"""
        )
    ]


def _tables(conn: psycopg.Connection) -> list[str]:
    return [f"{s}.{n}" for s, n, kind, *_ in _relations(conn) if kind in ("r", "p", "f")]


@PG
def test_every_relation_has_row_security_or_no_grant_or_was_reviewed(
    app: Tongxin, superuser: psycopg.Connection
) -> None:
    relations = _relations(superuser)
    assert {f"{s}.{n}" for s, n, *_ in relations} >= {"public.feed_token", "public.series"}
    unguarded, views, sequences = [], set(), set()
    for schema, name, kind, rls, policies, granted in relations:
        full = f"{schema}.{name}"
        if kind in ("r", "p", "f"):
            if granted and not (rls and policies):
                unguarded.append(full)
        elif kind in ("v", "m"):
            if granted:
                views.add(full)
        elif granted:
            sequences.add(full)
    assert unguarded == [], "tables a person's role reaches without row-level security"
    assert views == REVIEWED_VIEWS
    assert sequences == REVIEWED_SEQUENCES
    # TRUNCATE ignores row-level security: no person's role has it on any table.
    truncatable = [
        r[0]
        for r in superuser.execute(
            f"SELECT c.relname FROM pg_class c JOIN ({SCHEMAS}) n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND has_table_privilege('tongxin_user', c.oid, "
            "'TRUNCATE')"
        )
    ]
    assert truncatable == []
    definers = {
        f"{r[0]}.{r[1]}"
        for r in superuser.execute(
            f"SELECT n.nspname, p.proname FROM pg_proc p JOIN ({SCHEMAS}) n "
            "ON n.oid = p.pronamespace WHERE p.prosecdef"
        )
    }
    assert definers == REVIEWED_DEFINER_FUNCTIONS
    # The matrix covers exactly the tables there are (a new one must be added).
    assert {t.removeprefix("public.") for t in _tables(superuser)} == set(EXPECT)


def _ctids(conn: psycopg.Connection, table: str, where: str, params: dict[str, object]) -> set[str]:
    q = sql.SQL("SELECT ctid::text FROM {} WHERE ").format(sql.Identifier(table)) + sql.SQL(where)
    return {r[0] for r in conn.execute(q, params)}


def _first_column(conn: psycopg.Connection, table: str) -> str:
    return str(
        conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum = 1",
            (table,),
        ).fetchone()[0]  # type: ignore[index]
    )


def _try(conn: psycopg.Connection, query: sql.Composable, args: tuple[object, ...]) -> str:
    """Run one attempt in a transaction that is rolled back: "ok" (it touched the
    row), "none" (no row touched), "refused" (a policy or the privileges refused it),
    "allowed" (policies let it through; a key or reference constraint stopped it)."""
    try:
        with conn.transaction(force_rollback=True):
            cur = conn.execute(query, args)
            return "ok" if cur.rowcount else "none"
    except psycopg.errors.InsufficientPrivilege:
        return "refused"
    except (psycopg.errors.UniqueViolation, psycopg.errors.ForeignKeyViolation):
        return "allowed"
    except psycopg.errors.RaiseException:  # a guard trigger: the policy let it through
        return "allowed"


@PG
def test_each_role_may_do_on_each_table_exactly_what_the_matrix_says(
    world: World,
    superuser: psycopg.Connection,
    psql: Callable[[str], psycopg.Connection],
) -> None:
    tables = [t.removeprefix("public.") for t in _tables(superuser) if t.startswith("public.")]
    assert set(tables) == set(EXPECT)
    problems = []
    for role in ROLES:
        conn = psql(world.users[role])
        params: dict[str, object] = {
            "me": world.ids[role], "name": world.users[role],
            **{k: v for k, v in world.ids.items() if k not in ROLES},
        }  # fmt: skip
        for table in tables:
            every = _ctids(superuser, table, ALL, params)
            assert every, f"the world has no row in {table}: add one"
            column = _first_column(superuser, table)
            rows = {
                ctid: json.loads(doc)
                for ctid, doc in superuser.execute(
                    sql.SQL("SELECT ctid::text, to_jsonb(t)::text FROM {} t").format(
                        sql.Identifier(table)
                    )
                )
            }
            for command in COMMANDS:
                want = EXPECT[table][role][command]
                allowed: set[str] = set()
                refused_all = True
                for ctid, doc in rows.items():
                    if command == "SELECT":
                        q = sql.SQL("SELECT 1 FROM {} WHERE ctid = %s::tid")
                        try:
                            got = conn.execute(q.format(sql.Identifier(table)), (ctid,)).fetchall()
                            outcome = "ok" if got else "none"
                        except psycopg.errors.InsufficientPrivilege:
                            outcome = "refused"
                    elif command == "INSERT":
                        copy = dict(doc)
                        if "id" in copy:
                            copy["id"] = str(uuid.uuid4())
                        q = sql.SQL("INSERT INTO {0} SELECT * FROM jsonb_populate_record("
                                    "NULL::{0}, %s::jsonb)")  # fmt: skip
                        outcome = _try(conn, q.format(sql.Identifier(table)), (json.dumps(copy),))
                    elif command == "UPDATE":
                        q = sql.SQL("UPDATE {0} SET {1} = {1} WHERE ctid = %s::tid")
                        outcome = _try(
                            conn, q.format(sql.Identifier(table), sql.Identifier(column)), (ctid,)
                        )
                    else:
                        q = sql.SQL("DELETE FROM {} WHERE ctid = %s::tid")
                        outcome = _try(conn, q.format(sql.Identifier(table)), (ctid,))
                    if outcome in ("ok", "allowed"):
                        allowed.add(ctid)
                    if outcome != "refused":
                        refused_all = False
                if want == DENIED:
                    if not refused_all:
                        problems.append(f"{role} {command} {table}: not refused")
                    continue
                expected = _ctids(superuser, table, want, params)
                if allowed != expected:
                    problems.append(
                        f"{role} {command} {table}: {len(allowed)} rows, "
                        f"expected {len(expected)} ({want})"
                    )
    assert problems == []


# -- the attacks the issue names ----------------------------------------------------


@PG
def test_a_county_role_cannot_mint_an_office_wide_token(
    world: World, psql: Callable[[str], psycopg.Connection]
) -> None:
    gl = psql(world.users["county"])
    for scope, holder in (("office", None), ("institutional", None), ("user", world.ids["leader"])):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            gl.execute(
                "INSERT INTO feed_token (id, account_id, scope, name, token_hash, created_at) "
                "VALUES (gen_random_uuid(), %s, %s, 'x', md5(random()::text), now())",
                (holder, scope),
            )
    # Nor turn its own token into one.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        gl.execute("UPDATE feed_token SET scope = 'office', account_id = NULL")


@PG
def test_tokens_are_not_revoked_by_others_nor_ever_unrevoked(
    world: World, psql: Callable[[str], psycopg.Connection]
) -> None:
    gl = psql(world.users["county"])
    assert gl.execute("UPDATE feed_token SET revoked_at = now() WHERE account_id <> %s",
                      (world.ids["county"],)).rowcount == 0  # fmt: skip
    assert gl.execute("UPDATE feed_token SET revoked_at = now() WHERE account_id IS NULL"
                      ).rowcount == 0  # fmt: skip
    assert gl.execute("DELETE FROM feed_token").rowcount == 0
    assert gl.execute("SELECT count(*) FROM feed_token").fetchone() == (1,)
    # Its own: revoked, then never live again, not even by an administrator.
    gl.execute("UPDATE feed_token SET revoked_at = now()")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="stays revoked"):
        gl.execute("UPDATE feed_token SET revoked_at = NULL")
    office = psql(world.users["admin"])
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="stays revoked"):
        office.execute("UPDATE feed_token SET revoked_at = NULL WHERE revoked_at IS NOT NULL")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="cannot be changed"):
        office.execute("UPDATE feed_token SET token_hash = md5(token_hash)")


@PG
def test_a_county_role_cannot_rewrite_the_series(
    world: World, psql: Callable[[str], psycopg.Connection]
) -> None:
    for role in ("county", "leader", "staff"):
        conn = psql(world.users[role])
        assert conn.execute("SELECT count(*) FROM series").fetchone()[0] > 0  # type: ignore[index]
        assert conn.execute("UPDATE series SET title = '取消', active = false").rowcount == 0
        assert conn.execute("DELETE FROM series").rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO series (id, created_at, updated_at, version, title, kind, all_day, "
                "source, active) VALUES (gen_random_uuid(), now(), now(), 1, '假会议', 'event', "
                "true, 'user', true)"
            )
    office = psql(world.users["admin"])
    assert office.execute("UPDATE series SET title = title").rowcount > 0


@PG
def test_a_county_role_cannot_forge_or_erase_reminder_deliveries(
    world: World, psql: Callable[[str], psycopg.Connection]
) -> None:
    gl = psql(world.users["county"])
    insert = (
        "INSERT INTO reminder_delivery (id, key, channel, recipient, account_id, status, "
        "attempts, created_at) VALUES (gen_random_uuid(), %s, %s, %s, %s, 'sent', 1, now())"
    )
    for key, channel, recipient, account in (
        ("item:next", "email", "wang@example.org", world.ids["county"]),  # the service's
        ("item:next", "*", "*", None),  # "done": would stop the reminder for everyone
        ("item:next", "desk", world.users["leader"], world.ids["leader"]),  # another's desk
        ("item:next", "desk", world.users["county"], world.ids["leader"]),
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            gl.execute(insert, (key, channel, recipient, account))
    assert gl.execute("UPDATE reminder_delivery SET status = 'failed'").rowcount == 0
    assert gl.execute("DELETE FROM reminder_delivery").rowcount == 0
    assert gl.execute("SELECT key FROM reminder_delivery").fetchall() == [("item:county",)]
    # Its own desk's row is what its terminal UI writes.
    gl.execute(insert, ("item:next", "desk", world.users["county"], world.ids["county"]))


@PG
def test_the_program_keeps_working_for_each_role(
    world: World, login: Callable[..., Tongxin]
) -> None:
    from crm_core.reminders.desk import DeskReminders

    county = login(world.users["county"])
    with county.unit() as unit:
        me = unit.actor
        assert me is not None
        _row, token = feeds.create_token(unit, account=me, name="新手机")
        assert sorted(t.name for t in feeds.list_tokens(unit)) == ["county phone", "新手机"]
        revoked = feeds.revoke_tokens(unit, account=me)
        assert sorted(r.name for r in revoked) == ["county phone", "新手机"]
        assert sync_series(unit)  # reads the series an administrator synced; writes none
    # Its desk reminders: planned and claimed as itself.
    with county.unit() as unit:
        interactions.schedule_interaction(
            unit, kind="call", start=NOW + timedelta(minutes=5), people=[world.ids["zhang"]],
            accounts=[world.ids["county"]],
        )  # fmt: skip
    shown: list[object] = []
    desk = DeskReminders(county, world.users["county"], shown.append)
    desk.start()
    try:
        assert desk.wait_idle()
    finally:
        desk.shutdown()
    assert len(shown) == 1
    # The feed server and the reminder service run as an administrator's role: they see
    # every live token and the whole delivery log.
    office = login(world.users["admin"])
    with office.unit() as unit:
        assert feeds.resolve_token(unit, token) is None  # revoked by its holder
        assert len(feeds.list_tokens(unit)) == 6
        shared = select(FeedToken).where(col(FeedToken.account_id).is_(None))
        assert len(list(unit.session.scalars(shared))) == 2
        assert len(list(unit.session.scalars(select(ReminderDelivery)))) == 5
        assert sync_series(unit)


@PG
def test_caldav_sync_works_for_a_county_role_and_keeps_its_state_its_own(
    world: World,
    login: Callable[..., Tongxin],
    psql: Callable[[str], psycopg.Connection],
    request: pytest.FixtureRequest,
) -> None:
    from tests.calendar import test_caldav

    rad = request.getfixturevalue("radicale_server")
    county = login(world.users["county"])
    with county.unit() as unit:
        interactions.schedule_interaction(
            unit, kind="call", start=NOW + timedelta(days=2), people=[world.ids["zhang"]],
            accounts=[world.ids["county"]],
        )  # fmt: skip

    def push() -> object:
        return sync_caldav(
            county, url=rad.url, username=test_caldav.USER, password=test_caldav.PASSWORD,
            calendar="同心 · 广陵",
        )  # fmt: skip

    first = push()
    assert first.created >= 1  # type: ignore[attr-defined]
    again = push()
    assert again.writes == 0 and again.unchanged == first.created  # type: ignore[attr-defined]
    base = first.calendar_url  # type: ignore[attr-defined]
    gl = psql(world.users["county"])
    mine = gl.execute("SELECT account_id FROM caldav_state WHERE calendar_url = %s", (base,))
    assert {r[0] for r in mine} == {world.ids["county"]}
    leader = psql(world.users["leader"])
    assert leader.execute("SELECT count(*) FROM caldav_state").fetchone() == (1,)  # its own
    assert leader.execute("DELETE FROM caldav_state WHERE calendar_url = %s", (base,)).rowcount == 0
