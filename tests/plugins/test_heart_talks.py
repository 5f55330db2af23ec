"""The heart-talks plugin (谈心谈话, seed 二.5): the confidential kind, who may talk with
whom, follow-ups of what was agreed, coverage per special committee, its command line
and its demo data.

Every test runs on SQLite and on PostgreSQL (the ``app`` fixture).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import crm_plugins.heart_talks as heart_talks
import pytest
from crm_cli.main import run
from sqlalchemy import func, select

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.demo_context import DemoContext
from crm_core.errors import PermissionDenied, ValidationError
from crm_core.models import Account, FollowUp, Interaction, InteractionStatus, Person
from crm_core.services import accounts, contacts, followups, interactions
from crm_core.unit import Unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
NOTES = "谈话记录：工作压力较大，希望组织多关心。"


def count(unit: Unit, model: Any) -> int:
    return unit.session.scalar(select(func.count()).select_from(model)) or 0


def at(day: str, hour: int = 15, minute: int = 0) -> datetime:
    """A time in Yangzhou on ``day`` (YYYY-MM-DD)."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), SHANGHAI).replace(
        hour=hour, minute=minute
    )


@dataclass
class Office:
    """Accounts (by username) and people of the tests."""

    zhuren: uuid.UUID  # leader of the economic affairs committee
    jiaoke: uuid.UUID  # leader of the education committee
    dangzu: uuid.UUID  # party-group member
    people: dict[str, uuid.UUID]  # by name


# name: (party, membership, committees, status)
PEOPLE: dict[str, tuple[str | None, str, list[str], str]] = {
    "安然": ("民盟", "member", ["经济委员会"], "active"),
    "白云": ("民进", "member", ["经济委员会"], "active"),
    "陈晨": ("农工党", "member", ["经济委员会"], "active"),
    "丁一": ("九三学社", "member", ["经济委员会"], "active"),
    "高歌": ("无党派", "standing", ["经济委员会", "教科卫体委员会"], "active"),
    "黄河": (None, "member", ["经济委员会"], "active"),  # party not recorded: non-party
    "金晶": ("民盟", "member", ["教科卫体委员会"], "active"),
    "中共委员": ("中共", "member", ["经济委员会"], "active"),
    "党外人士": ("民建", "none", ["经济委员会"], "active"),  # not a member of the committee
    "易故": ("民革", "member", ["经济委员会"], "deceased"),
}


@pytest.fixture
def office(with_plugins: Callable[..., Tongxin]) -> Office:
    app = with_plugins(heart_talks)
    clock.freeze(NOW)
    with app.unit() as unit:
        new = accounts.create_account
        zhuren = new(unit, username="zhuren", display_name="经济委主任", role="leader",
                     committee="economy").id  # fmt: skip
        jiaoke = new(unit, username="jiaoke", display_name="教科卫体委主任", role="leader",
                     committee="education_science").id  # fmt: skip
        dangzu = new(unit, username="dangzu", display_name="党组成员", role="leader").id
        new(unit, username="bangong", display_name="办公室", role="admin")
        new(unit, username="xiaowang", display_name="小王", role="staff")
        people = {
            name: contacts.create_person(
                unit, name=name, party=party, membership=membership, committees=committees,
                status=status,
            ).id
            for name, (party, membership, committees, status) in PEOPLE.items()
        }  # fmt: skip
    return Office(zhuren, jiaoke, dangzu, people)


def talk(app: Tongxin, by: str, name: str, office: Office, **values: Any) -> uuid.UUID:
    """Log a done talk of account ``by`` with the person ``name``."""
    with app.unit(by) as unit:
        return interactions.log_interaction(
            unit, kind="heart_talk", people=[office.people[name]], **values
        ).id


# -- the kind -----------------------------------------------------------------------------


def test_the_kind_is_confidential_and_has_topics_and_agreements(
    app: Tongxin, with_plugins: Callable[..., Tongxin]
) -> None:
    with_plugins(heart_talks)
    kind = app.kinds["heart_talk"]
    assert (kind.zh, kind.en, kind.plugin) == ("谈心谈话", "Heart-to-heart talk", "heart_talks")
    assert kind.confidential is True
    assert (kind.person_role, kind.account_role, kind.default_duration_minutes) == (
        "member", "talker", 60,
    )  # fmt: skip
    assert [f["name"] for f in kind.fields()] == ["topics", "agreed"]
    assert all(" / " in f["description"] for f in kind.fields())
    # The thoughts exchanged belong in the notes: a field of that name is refused, not lost.
    with pytest.raises(ValidationError) as caught:
        kind.validate_data({"thoughts": "想法"})
    assert caught.value.errors[0].field == "data.thoughts"
    assert kind.validate_data({"topics": [" 履职 ", "履职"], "agreed": []}) == {
        "topics": ["履职"], "agreed": [],
    }  # fmt: skip
    info = app.plugins.info["heart_talks"]
    assert (info.status, info.version) == ("ok", heart_talks.__version__)


def test_notes_and_fields_are_for_the_participants_and_administrators(
    app: Tongxin, office: Office
) -> None:
    iid = talk(app, "zhuren", "安然", office, notes=NOTES, summary="谈心谈话",
               data={"topics": ["履职情况"], "agreed": ["推荐参加界别活动周座谈"]})  # fmt: skip
    for reader in ("zhuren", "bangong"):  # the talker; the office's administrator
        with app.unit(reader) as unit:
            assert interactions.read_notes(unit, iid) == NOTES
            shown = interactions.interaction_json(unit, interactions.get_interaction(unit, iid))
            assert (shown["notes"], shown["notes_hidden"]) == (NOTES, False)
            assert shown["data"]["topics"] == ["履职情况"]
    for reader in ("jiaoke", "xiaowang"):  # another leader; a staffer
        with app.unit(reader) as unit:
            with pytest.raises(PermissionDenied):
                interactions.read_notes(unit, iid)
            shown = interactions.interaction_json(unit, interactions.get_interaction(unit, iid))
            assert (shown["notes"], shown["data"], shown["notes_hidden"]) == (None, None, True)
            # That a talk took place is not secret (kind, time, who); what it was about is.
            assert (shown["summary"], shown["kind"]) == (None, "heart_talk")


# -- who may talk with whom ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "name", "given", "field", "value"),
    [
        ("xiaowang", "安然", {}, "accounts", "xiaowang"),  # a staffer is no talker
        ("bangong", "安然", {"accounts": ["xiaowang"]}, "accounts", "xiaowang"),
        (None, "安然", {}, "accounts", []),  # nobody holds the talk
        ("zhuren", "中共委员", {}, "people", "中共委员"),  # a CPC member
        ("zhuren", "党外人士", {}, "people", "党外人士"),  # not on the committee
    ],
)
def test_talker_and_member_are_checked_and_a_refusal_writes_nothing(
    app: Tongxin, office: Office, actor: str | None, name: str, given: dict[str, Any],
    field: str, value: Any,
) -> None:  # fmt: skip
    if "accounts" in given:
        with app.unit() as unit:
            given = {"accounts": [accounts.resolve_account(unit, a).id for a in given["accounts"]]}
    with pytest.raises(ValidationError) as caught, app.unit(actor) as unit:
        interactions.log_interaction(
            unit, kind="heart_talk", people=[office.people[name]], data={"agreed": ["一件事"]},
            **given,
        )  # fmt: skip
    error = caught.value.errors[0]
    assert error.field == field
    if isinstance(value, str) and field == "people":
        assert error.value.startswith(value)  # the person, described unambiguously
    else:
        assert error.value == value
    with app.unit() as unit:
        assert (count(unit, Interaction), count(unit, FollowUp)) == (0, 0)


def test_every_fault_is_named_at_once(app: Tongxin, office: Office) -> None:
    with pytest.raises(ValidationError) as caught, app.unit("xiaowang") as unit:
        interactions.log_interaction(
            unit, kind="heart_talk", people=[office.people["中共委员"], office.people["安然"]]
        )
    assert [(e.field, str(e.value)[:4]) for e in caught.value.errors] == [
        ("accounts", "xiao"), ("people", "中共委员"),
    ]  # fmt: skip


def test_leaders_and_the_office_talk_with_non_party_members(app: Tongxin, office: Office) -> None:
    talk(app, "zhuren", "安然", office)
    talk(app, "dangzu", "高歌", office)  # a party-group member; a standing member
    talk(app, "bangong", "黄河", office)  # the office (admin); party not recorded
    # A staffer may log the talk a leader held.
    talk(app, "xiaowang", "金晶", office, accounts=[office.jiaoke])
    with app.unit() as unit:
        assert count(unit, Interaction) == 4


def test_a_planned_talk_can_be_cancelled_after_the_member_joined_the_party(
    app: Tongxin, office: Office
) -> None:
    with app.unit("zhuren") as unit:
        iid = interactions.schedule_interaction(
            unit, kind="heart_talk", people=[office.people["白云"]], accounts=[office.zhuren],
            start=NOW + timedelta(days=3),
        ).id  # fmt: skip
    with app.unit() as unit:
        contacts.update_person(unit, office.people["白云"], party="中共")
    with pytest.raises(ValidationError), app.unit("zhuren") as unit:
        interactions.complete_interaction(unit, iid)
    with app.unit("zhuren") as unit:
        interactions.cancel_interaction(unit, iid, reason="已入党，另行安排组织谈话")
        assert interactions.get_interaction(unit, iid).status is InteractionStatus.cancelled


def test_each_agreed_item_becomes_a_follow_up_of_the_talker(app: Tongxin, office: Office) -> None:
    agreed = ["邀请参加专题协商会", "协助联系有关部门"]
    iid = talk(app, "xiaowang", "安然", office, accounts=[office.zhuren], notes=NOTES,
               start=at("2026-06-12"), data={"topics": ["履职情况"], "agreed": agreed})  # fmt: skip
    with app.unit() as unit:
        rows = followups.list_follow_ups(unit)
        assert sorted(f.title for f in rows) == ["协助联系有关部门", "邀请参加专题协商会"]
        for f in rows:
            assert (f.interaction_id, f.person_id, f.owner_id) == (
                iid, office.people["安然"], office.zhuren,
            )  # fmt: skip
            assert f.due_on == date(2026, 7, 12)  # 30 days after the talk
            assert f.detail == "2026-06-12 谈心谈话商定事项"  # nothing of the notes


# -- coverage -----------------------------------------------------------------------------------


@pytest.fixture
def talks(app: Tongxin, office: Office) -> Office:
    """A year and a half of talks with the economic committee's non-party members."""
    talk(app, "zhuren", "安然", office, start=at("2026-03-02"))
    talk(app, "zhuren", "安然", office, start=at("2026-05-10", 9, 30))
    talk(app, "dangzu", "高歌", office, start=at("2026-01-01", 7))  # 2025-12-31 23:00 UTC
    talk(app, "zhuren", "黄河", office, start=at("2025-12-31", 20))  # 12:00 UTC: still 2025
    talk(app, "zhuren", "丁一", office, start=at("2025-11-05"))
    with app.unit("zhuren") as unit:
        for name in ("白云", "陈晨"):
            interactions.schedule_interaction(
                unit, kind="heart_talk", people=[office.people[name]],
                accounts=[office.zhuren], start=at("2026-06-20"),
            )  # fmt: skip
        cancelled = interactions.schedule_interaction(
            unit, kind="heart_talk", people=[office.people["陈晨"]], accounts=[office.zhuren],
            start=at("2026-06-16"),
        )  # fmt: skip
        interactions.cancel_interaction(unit, cancelled.id, reason="对方出差")
        # Other kinds do not count.
        interactions.log_interaction(unit, kind="call", people=[office.people["白云"]])
    return office


def names(members: list[heart_talks.MemberTalks]) -> list[str]:
    return [m.name for m in members]


def test_coverage_per_committee_for_a_year(app: Tongxin, talks: Office) -> None:
    with app.unit() as unit:
        rows = heart_talks.coverage(unit, year=2026)
        assert [r.committee for r in rows] == unit.config.vocab["committees"].codes()
        by = {r.committee: r for r in rows}
        economy = by["economy"]
        assert (economy.zh, economy.year, economy.total) == ("经济委员会", 2026, 6)
        assert names(economy.talked) == ["安然", "高歌"]  # pinyin order
        assert names(economy.not_talked) == ["白云", "陈晨", "丁一", "黄河"]
        anran = economy.talked[0]
        assert (anran.talks, anran.last_talk) == (2, date(2026, 5, 10))
        assert economy.talked[1].last_talk == date(2026, 1, 1)  # the office's day, not UTC's
        assert economy.ratio == pytest.approx(2 / 6)
        education = by["education_science"]
        assert (names(education.talked), names(education.not_talked)) == (["高歌"], ["金晶"])
        assert by["proposals"].total == 0 and by["proposals"].ratio is None
        last_year = heart_talks.coverage(unit, year=2025, committee="经济委员会")
        assert [r.committee for r in last_year] == ["economy"]
        assert names(last_year[0].talked) == ["丁一", "黄河"]
        assert heart_talks.coverage(unit, year=2027, committee="economy")[0].talked == []
        assert economy.as_json() == {
            "committee": "economy",
            "name": "经济委员会",
            "year": 2026,
            "total": 6,
            "coverage": 0.3333,
            "talked": [
                {"id": str(talks.people["安然"]), "name": "安然", "talks": 2,
                 "last_talk": "2026-05-10"},
                {"id": str(talks.people["高歌"]), "name": "高歌", "talks": 1,
                 "last_talk": "2026-01-01"},
            ],
            "not_talked": [
                {"id": str(talks.people[n]), "name": n, "talks": 0, "last_talk": None}
                for n in ("白云", "陈晨", "丁一", "黄河")
            ],
        }  # fmt: skip


def test_coverage_refuses_an_unknown_committee_or_year(app: Tongxin, office: Office) -> None:
    with app.unit() as unit:
        with pytest.raises(ValidationError) as caught:
            heart_talks.coverage(unit, year=2026, committee="外星委员会")
        assert (caught.value.errors[0].field, caught.value.errors[0].value) == (
            "committee", "外星委员会",
        )  # fmt: skip
        with pytest.raises(ValidationError) as caught:
            heart_talks.coverage(unit, year=26)
        assert caught.value.errors[0].field == "year"


# -- command line ---------------------------------------------------------------------------------


@pytest.fixture
def tx(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, str, str]]:
    """Run `tongxin --db URL ARGS...` with the heart_talks entry point as the only plugin."""
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "heart_talks")

    def call(*args: str) -> tuple[int, str, str]:
        code = run(["--db", db_url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def test_talks_coverage_command(
    app: Tongxin, talks: Office, tx: Callable[..., tuple[int, str, str]]
) -> None:
    code, out, err = tx("talks", "coverage", "--json")  # this year (2026) by default
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["year"] == 2026
    economy = next(c for c in data["committees"] if c["committee"] == "economy")
    assert [m["name"] for m in economy["talked"]] == ["安然", "高歌"]
    assert [m["name"] for m in economy["not_talked"]] == ["白云", "陈晨", "丁一", "黄河"]
    code, out, _ = tx("talks", "coverage", "--year", "2025", "--committee", "经济委员会", "--json")
    assert code == 0
    (only,) = json.loads(out)["committees"]
    assert [m["name"] for m in only["talked"]] == ["丁一", "黄河"]
    # The table, in Chinese by default, in English on request.
    code, out, _ = tx("talks", "coverage", "--committee", "economy")
    assert code == 0
    assert "2026 年党外委员谈心谈话情况" in out
    assert "经济委员会" in out and "33%" in out and "白云、陈晨、丁一、黄河" in out
    assert "末次谈话" in out and "2026-05-10" in out  # one committee: each member too
    code, out, _ = tx("--lang", "en", "talks", "coverage")
    assert code == 0
    assert "Heart-to-heart talks with non-party members in 2026" in out
    assert "Economic" in out and "Coverage" in out
    code, out, _ = tx("talks", "--help")
    assert code == 0 and "谈心谈话" in out
    code, _, err = tx("talks", "coverage", "--committee", "外星委员会")
    assert code == 1 and "committee" in err and "外星委员会" in err


def test_without_the_plugin_there_is_no_talks_command(
    tx: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TONGXIN_LOAD_PLUGINS", "")
    code, _, _ = tx("talks", "coverage")
    assert code == 2  # no such command


# -- demo data ----------------------------------------------------------------------------------


class _Rollback(Exception):
    """Raised to leave a unit without committing it."""


def _fingerprint(unit: Unit) -> list[Any]:
    """Everything the demo wrote, independent of the random row ids."""
    key: dict[uuid.UUID, tuple[Any, ...]] = {}
    rows = []
    for i in unit.session.scalars(select(Interaction)):
        parts = sorted(
            (p.role, str(p.person_id), str(p.account_id))
            for p in interactions.participants_of(unit, i.id)
        )
        key[i.id] = (i.kind, i.start_at.isoformat(), tuple(parts))
        rows.append((*key[i.id], i.status.value, i.summary, i.notes, i.data, i.confidential))
    for f in unit.session.scalars(select(FollowUp)):
        rows.append(
            (f.title, key[f.interaction_id] if f.interaction_id else None, str(f.person_id),
             str(f.owner_id), f.due_on, f.status.value, f.response)
        )  # fmt: skip
    return sorted(rows, key=repr)


def test_populate_demo_leaves_gaps_and_is_the_same_for_a_seed(
    app: Tongxin, with_plugins: Callable[..., Tongxin]
) -> None:
    with_plugins(heart_talks)
    clock.freeze(NOW)
    with app.unit() as unit:
        new = accounts.create_account
        leaders = [
            new(unit, username="zhuren", display_name="经济委主任", role="leader",
                committee="economy").id,
            new(unit, username="jiaoke", display_name="教科卫体委主任", role="leader",
                committee="education_science").id,
            new(unit, username="dangzu", display_name="党组成员", role="leader").id,
        ]  # fmt: skip
        parties = ["民盟", "民进", "九三学社", "无党派", "中共"]
        members = [
            contacts.create_person(
                unit, name=f"委员{n:02d}", membership="member", party=parties[n % 5],
                committees=["经济委员会" if n % 3 else "教科卫体委员会"],
            ).id
            for n in range(30)
        ]  # fmt: skip

    def populate(seed: int) -> list[Any]:
        with pytest.raises(_Rollback), app.unit() as unit:
            demo = DemoContext(
                rng=random.Random(seed),
                today=TODAY,
                members=list(members),
                accounts_by_role={"leader": [unit.session.get(Account, a) for a in leaders]},
            )
            ran = app.plugins.call("populate_demo", passthrough=(Exception,), unit=unit, demo=demo)
            assert [name for name, _ in ran] == ["heart_talks"]
            written = _fingerprint(unit)
            check(unit)
            raise _Rollback
        return written

    def check(unit: Unit) -> None:
        committee_of = {leaders[0]: "economy", leaders[1]: "education_science"}
        rows = list(unit.session.scalars(select(Interaction)))
        assert rows and {i.kind for i in rows} == {"heart_talk"}
        for i in rows:
            parts = interactions.participants_of(unit, i.id)
            (talker,) = [p.account_id for p in parts if p.account_id]
            (pid,) = [p.person_id for p in parts if p.person_id]
            person = unit.session.get(Person, pid)
            assert person is not None and person.party != "ccp"
            assert committee_of[talker] in contacts.committees_of(unit, pid)
            assert i.confidential
            if i.status is InteractionStatus.done:
                assert date(2026, 1, 1) <= i.start_at.astimezone(SHANGHAI).date() < TODAY
                assert i.notes and i.data["topics"]
            else:
                assert i.start_at > NOW
        for row in heart_talks.coverage(unit, year=2026, committee="economy") + (
            heart_talks.coverage(unit, year=2026, committee="education_science")
        ):
            assert row.talked and row.not_talked  # talks, and gaps to show
        assert count(unit, FollowUp) > 0

    first, again, other = populate(2019), populate(2019), populate(11)
    assert first == again
    assert first != other
    with app.unit() as unit:
        assert count(unit, Interaction) == 0
