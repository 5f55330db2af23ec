"""County → city exchange (issue 19, part 3), on each backend: a county database and a
city database built by the same demo (so they share people, ids included), edited on
each side, exchange a signed bundle; counts, conflicts, idempotence, dry runs, refused
bundles, the confidentiality policy and the region scope."""

from __future__ import annotations

import io
import json
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel, col

from crm_core import clock, db, demo
from crm_core.app import Tongxin
from crm_core.config import load_config
from crm_core.errors import PermissionDenied, ValidationError
from crm_core.exchange import BundleRefused, export_bundle, import_bundle
from crm_core.exchange.bundle import sign, write_bundle
from crm_core.exchange_models import ExchangeRow
from crm_core.models import (
    Account,
    AuditLog,
    FollowUp,
    Interaction,
    InteractionParticipant,
    Person,
    Role,
)
from crm_core.plugins import PluginHost
from crm_core.services import accounts, assignments, contacts, followups, interactions
from tests.conftest import PG_ADMIN_URL, _empty_pg, _pg_database

TODAY = date(2026, 5, 20)
NOW = datetime(2026, 5, 20, 1, 30, tzinfo=UTC)
KEY = "县市同心-exchange-key-2026"
MOVED = 6  # demo people both sides move to 仪征市 alike (the demo has few there)


@pytest.fixture(autouse=True)
def _key_and_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TONGXIN_EXCHANGE_KEY", KEY)
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture(scope="module")
def county_pg(worker_id: str) -> Iterator[str]:
    """A migrated PostgreSQL database for the county, made once for this module."""
    url = _pg_database(worker_id)
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture
def county(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, plugins: PluginHost
) -> Iterator[Tongxin]:
    """The county's installation: another database of the same backend (a copy of the
    migrated SQLite template; on PostgreSQL this module's database, emptied after each
    test), with a config of its own."""
    if backend == "sqlite":
        url = str(tmp_path / "county.db")
        shutil.copy(request.getfixturevalue("sqlite_template"), url)
    else:
        url = request.getfixturevalue("county_pg")
    application = Tongxin(load_config(), db_url=url, plugins=plugins)
    yield application
    application.close()
    if backend == "postgresql":
        _empty_pg(url)


@dataclass
class World:
    shared: list[uuid.UUID]  # people of 仪征市 in both databases
    only_city: uuid.UUID  # a person the city has and the county does not
    duplicate: uuid.UUID  # the county's record of that same person
    new: uuid.UUID  # a person only the county has
    talk: uuid.UUID  # the county's confidential talk
    admin: str  # the county's administrator (reads confidential notes)


def _count(app: Tongxin, model: type[SQLModel]) -> int:
    with app.unit() as unit:
        return unit.session.scalar(select(func.count()).select_from(model)) or 0


def _snapshot(app: Tongxin) -> dict[str, int]:
    models = (Person, Interaction, InteractionParticipant, FollowUp, ExchangeRow, AuditLog)
    return {m.__name__: _count(app, m) for m in models}


def _world(city: Tongxin, county: Tongxin) -> World:
    for app in (city, county):
        demo.generate(app, contacts=100, seed=2019, today=TODAY)
    with city.unit() as unit:
        ids = list(unit.session.scalars(select(col(Person.id)).order_by(col(Person.id))))
    shared = ids[:MOVED]
    for app in (city, county):  # the same change on both sides: no conflict
        with app.unit() as unit:
            for pid in shared:
                contacts.update_person(unit, pid, region="yizheng")
    with county.unit() as unit:
        admin = unit.session.scalars(
            select(Account).where(col(Account.role) == Role.admin).order_by(Account.username)
        ).first()
        assert admin is not None
    with city.unit() as unit:
        contacts.update_person(unit, shared[1], title="市里改的职务")  # both sides: conflict
        contacts.update_person(unit, shared[2], notes="市里的备注")  # the city's own change
        only_city = contacts.create_person(
            unit, name="欧阳明华", mobile="13912345678", region="city", employer="扬州大学"
        ).id
    with county.unit() as unit:
        contacts.update_person(unit, shared[0], employer="仪征市化工园区")  # county only
        contacts.update_person(unit, shared[1], title="县里改的职务")
        duplicate = contacts.create_person(
            unit, name="欧阳明华", mobile="13912345678", region="yizheng"
        ).id
        new = contacts.create_person(unit, name="司马青云", region="yizheng").id
        # A keeper only the county has: the city cannot take the assignment.
        keeper = accounts.create_account(unit, username="yz_keeper", role="staff")
        assignments.assign(unit, keeper_id=keeper.id, contact_id=new, start_on=TODAY)
        work = interactions.log_interaction(
            unit, kind="call", people=[shared[0]], region="yizheng", summary="电话回访"
        )
        followups.raise_follow_up(unit, title="仪化路灯", person_id=shared[0],
                                  interaction_id=work.id)  # fmt: skip
    with county.unit(admin.username) as unit:
        talk = interactions.log_interaction(
            unit, kind="meeting", people=[new], region="yizheng", summary="谈心谈话",
            notes="谈话内容", confidential=True,
        ).id  # fmt: skip
    return World(shared, only_city, duplicate, new, talk, admin.username)


def _export(county: Tongxin, world: World, path: Path, **kw: Any) -> dict[str, Any]:
    with county.unit(world.admin) as unit:
        return export_bundle(unit, region="仪征市", path=path, **kw).as_json()


def _import(city: Tongxin, path: Path, **kw: Any) -> dict[str, Any]:
    with city.unit() as unit:
        return import_bundle(unit, path, **kw).as_json()


def _nums(report: dict[str, Any], key: str) -> tuple[int, int, int, int]:
    return tuple(report[key][e] for e in ("person", "interaction", "follow_up", "assignment"))  # type: ignore[return-value]


def test_counts_conflicts_candidates_dry_run_and_idempotence(
    app: Tongxin, county: Tongxin, tmp_path: Path
) -> None:
    city = app
    world = _world(city, county)
    clock.freeze(NOW + timedelta(hours=1))  # the export comes after the edits
    bundle = tmp_path / "yizheng.zip"
    made = _export(county, world, bundle)
    # The confidential talk stays home (send_confidential is off by default).
    assert made["confidential_withheld"] == 1
    with county.unit() as unit:
        regional = unit.session.scalar(
            select(func.count()).select_from(Person).where(col(Person.region) == "yizheng")
        )
    assert made["counts"]["person"] == regional >= MOVED + 2  # + the duplicate and the new one
    assert made["region"] == "yizheng"

    before = _snapshot(city)
    dry = _import(city, bundle, dry_run=True)
    assert _snapshot(city) == before  # a dry run writes nothing, not even the base
    real = _import(city, bundle)
    assert {k: v for k, v in real.items() if k != "dry_run"} == {
        k: v for k, v in dry.items() if k != "dry_run"
    }
    assert _nums(real, "added") == (2, 1, 1, 0)
    assert _nums(real, "updated") == (1, 0, 0, 0)
    assert [(c["entity"], c["id"], c["resolution"]) for c in real["conflicts"]] == [
        ("person", str(world.shared[1]), None)
    ]
    assert real["conflicts"][0]["fields"] == [
        {"field": "title", "ours": "市里改的职务", "theirs": "县里改的职务"}
    ]
    assert real["conflicts_remaining"] == 1
    assert [(x["entity"], x["reason"]) for x in real["skipped"]] == [
        ("assignment", "keeper_unknown")
    ]
    assert [(m["a"], m["b"], m["rule"]) for m in real["merge_candidates"]] == [
        (str(world.only_city), str(world.duplicate), "mobile")
    ]
    with city.unit() as unit:
        p0, p1, p2 = (unit.session.get(Person, i) for i in world.shared[:3])
        assert p0 is not None and p0.employer == "仪征市化工园区"  # theirs: updated
        assert p1 is not None and p1.title == "市里改的职务"  # a conflict: left alone
        assert p2 is not None and p2.notes == "市里的备注"  # ours: kept
        assert unit.session.get(Person, world.new) is not None  # added, same UUID
        assert unit.session.get(Interaction, world.talk) is None
        assert unit.session.get(Person, world.duplicate) is not None  # not merged
    after = _snapshot(city)

    # The same bundle again changes nothing; the conflict is still listed.
    again = _import(city, bundle)
    assert _nums(again, "added") == _nums(again, "updated") == (0, 0, 0, 0)
    assert again["conflicts_remaining"] == 1 and again["merge_candidates"] == []
    assert _snapshot(city) == after

    # --theirs settles it; then nothing is left to do.
    settled = _import(city, bundle, prefer="theirs")
    assert _nums(settled, "updated") == (1, 0, 0, 0)
    assert settled["conflicts"][0]["resolution"] == "theirs"
    assert settled["conflicts_remaining"] == 0
    with city.unit() as unit:
        p1 = unit.session.get(Person, world.shared[1])
        assert p1 is not None and p1.title == "县里改的职务"
    last = _import(city, bundle)
    assert _nums(last, "updated") == (0, 0, 0, 0) and last["conflicts"] == []

    # An incremental bundle: only what changed since the last export.
    clock.freeze(NOW + timedelta(days=1))
    with county.unit() as unit:
        contacts.update_person(unit, world.new, employer="仪征市人民医院")
    small = tmp_path / "since.zip"
    made = _export(county, world, small, since="last")
    assert made["counts"] == {"person": 1, "interaction": 0, "follow_up": 0, "assignment": 0}
    step = _import(city, small)
    assert _nums(step, "updated") == (1, 0, 0, 0) and step["conflicts"] == []


def _rewrite(src: Path, dst: Path, change: dict[str, Any]) -> None:
    """A copy of the bundle with members replaced (bytes) or dropped (None)."""
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    for name, value in change.items():
        if value is None:
            members.pop(name)
        else:
            members[name] = value
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    dst.write_bytes(buffer.getvalue())


def test_unsigned_tampered_wrong_key_and_unknown_version_are_refused_whole(
    app: Tongxin, county: Tongxin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = _world(app, county)
    bundle = tmp_path / "b.zip"
    _export(county, world, bundle)
    with zipfile.ZipFile(bundle) as z:
        head, body = z.read("manifest.json"), z.read("rows.jsonl")
    forged = body.replace("仪征市化工园区".encode(), "伪造的单位".encode())
    assert forged != body
    manifest = json.loads(head)
    manifest["version"] = "9.0"
    future = json.dumps(manifest).encode()
    cases = {
        "unsigned": ({"signature": None}, "not signed"),
        "tampered": ({"rows.jsonl": forged}, "not the ones its manifest names"),
        "manifest": ({"manifest.json": head.replace(b'"yizheng"', b'"gaoyou"')}, "signature"),
        "version": (
            {"manifest.json": future, "signature": sign(KEY.encode(), future).encode()},
            "format version 9.0",
        ),
    }
    before = _snapshot(app)
    for name, (change, message) in cases.items():
        target = tmp_path / f"{name}.zip"
        _rewrite(bundle, target, change)
        with pytest.raises(BundleRefused, match=message):
            _import(app, target)
    # Signed with the right key, but a row the city cannot take: an error naming the row
    # and the field; nothing of the bundle is written.
    rows = [json.loads(line) for line in body.decode().splitlines()]
    bad = next(r for r in rows if r["entity"] == "interaction")
    bad["fields"]["kind"] = "no_such_kind"
    odd = tmp_path / "odd.zip"
    write_bundle(odd, KEY.encode(), {k: v for k, v in json.loads(head).items()}, rows)
    with pytest.raises(ValidationError, match=f"interaction {bad['id']}: kind"):
        _import(app, odd)
    monkeypatch.setenv("TONGXIN_EXCHANGE_KEY", "another key, as long as it")
    with pytest.raises(BundleRefused, match="signature does not match"):
        _import(app, bundle)
    monkeypatch.delenv("TONGXIN_EXCHANGE_KEY")
    with pytest.raises(BundleRefused, match="no exchange key"):
        _import(app, bundle)
    assert _snapshot(app) == before


def test_confidential_talks_travel_only_when_both_sides_allow(
    app: Tongxin, county: Tongxin, tmp_path: Path
) -> None:
    world = _world(app, county)
    county.config.sections.exchange.send_confidential = True
    bundle = tmp_path / "b.zip"
    assert _export(county, world, bundle)["confidential_withheld"] == 0
    with zipfile.ZipFile(bundle) as z:
        assert "谈话内容" in z.read("rows.jsonl").decode()
    # The receiver refuses (its default): the talk is not written, the rest is.
    refused = _import(app, bundle)
    assert refused["confidential_refused"] == 1
    assert _nums(refused, "added") == (2, 1, 1, 0)
    with app.unit() as unit:
        assert unit.session.get(Interaction, world.talk) is None
    app.config.sections.exchange.accept_confidential = True
    accepted = _import(app, bundle)
    assert accepted["confidential_refused"] == 0
    assert _nums(accepted, "added") == (0, 1, 0, 0)
    with app.unit() as unit:
        talk = unit.session.get(Interaction, world.talk)
        assert talk is not None and talk.confidential and talk.notes == "谈话内容"


def test_export_keeps_to_the_region_and_the_county_role(
    app: Tongxin, county: Tongxin, tmp_path: Path
) -> None:
    world = _world(app, county)
    with county.unit() as unit:
        clerks = {
            a.region_scope: a.username
            for a in unit.session.scalars(
                select(Account).where(col(Account.role) == Role.county_staff)
            )
        }
    bundle = tmp_path / "clerk.zip"
    with county.unit(clerks["yizheng"]) as unit:
        export_bundle(unit, region="yizheng", path=bundle)
    with zipfile.ZipFile(bundle) as z:
        rows = [json.loads(line) for line in z.read("rows.jsonl").decode().splitlines()]
    people = [r for r in rows if r["entity"] == "person"]
    assert {r["fields"]["region"] for r in people} == {"yizheng"}
    assert str(world.new) in {r["id"] for r in people}
    # The clerk may not read the talk's notes: it stays home even when sending is on.
    assert str(world.talk) not in {r["id"] for r in rows}
    with county.unit(clerks["gaoyou"]) as unit, pytest.raises(PermissionDenied):
        export_bundle(unit, region="仪征市", path=tmp_path / "other.zip")
    # A clerk may not import (an import is the office's work).
    with app.unit(clerks["yizheng"]) as unit, pytest.raises(PermissionDenied):
        import_bundle(unit, bundle)
