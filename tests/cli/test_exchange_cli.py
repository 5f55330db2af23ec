"""`tongxin exchange export|import` through the real CLI (in-process), on each backend:
the city's database is the backend's, the county's a SQLite file (an office's embedded
default); --json shapes, exit codes (3 while conflicts remain), --dry-run, a refused
bundle."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from crm_cli.main import run
from sqlalchemy import select
from sqlmodel import col

from crm_core.app import Tongxin
from crm_core.config import load_config
from crm_core.models import Person
from crm_core.plugins import PluginHost
from crm_core.services import contacts

ENTITIES = {"person", "interaction", "follow_up", "assignment"}


@pytest.fixture
def tx(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `tongxin --db URL ARGS...`; return (exit code, stdout, stderr)."""
    monkeypatch.setenv("TONGXIN_EXCHANGE_KEY", "县市同心-exchange-key-2026")
    monkeypatch.setenv("TONGXIN_NOW", "2026-05-20T01:30:00+00:00")

    def call(url: str, *args: str) -> tuple[int, str, str]:
        code = run(["--db", url, *args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def _edit(url: str, name_of: str, **values: Any) -> None:
    host = PluginHost()
    host.load(entry_points_too=False)
    app = Tongxin(load_config(), db_url=url, plugins=host)
    try:
        with app.unit() as unit:
            person = unit.session.scalars(select(Person).where(col(Person.name) == name_of)).one()
            contacts.update_person(unit, person.id, **values)
    finally:
        app.close()


def test_export_import_json_exit_codes_and_a_refused_bundle(  # type: ignore[no-untyped-def]
    tx, db_url: str, sqlite_template: Path, tmp_path: Path
) -> None:
    city = db_url
    county = str(tmp_path / "county.db")
    shutil.copy(sqlite_template, county)
    for url in (city, county):
        code, _, err = tx(url, "demo", "--contacts", "100", "--seed", "2019")
        assert code == 0, err
    code, _, err = tx(city, "contacts", "add", "--name", "欧阳明华", "--mobile", "13912345678")
    assert code == 0, err
    for args in (
        ("--name", "欧阳明华", "--mobile", "13912345678", "--region", "仪征市"),
        ("--name", "司马青云", "--region", "仪征市"),
    ):
        code, _, err = tx(county, "contacts", "add", *args)
        assert code == 0, err
    # Both sides change the title of the same person of 仪征市: a conflict.
    _edit(city, _a_yizheng_person(city), title="市里改的")
    _edit(county, _a_yizheng_person(county), title="县里改的")

    bundle = tmp_path / "yizheng.zip"
    code, out, err = tx(county, "exchange", "export", "--region", "仪征市", "-o", str(bundle),
                        "--json")  # fmt: skip
    assert code == 0, err
    made = json.loads(out)
    assert set(made) >= {"path", "installation", "region", "since", "counts",
                         "confidential_withheld", "rows_sha256", "created_at"}  # fmt: skip
    assert made["region"] == "yizheng" and set(made["counts"]) == ENTITIES
    assert made["counts"]["person"] >= 2

    code, out, err = tx(city, "exchange", "import", str(bundle), "--dry-run", "--json")
    assert code == 3, err  # conflicts remain
    dry = json.loads(out)
    assert dry["dry_run"] is True
    code, out, err = tx(city, "exchange", "import", str(bundle), "--json")
    assert code == 3, err
    report = json.loads(out)
    assert set(report) == {
        "peer", "region", "bundle", "dry_run", "added", "updated", "unchanged", "kept_ours",
        "conflicts", "conflicts_remaining", "merge_candidates", "skipped",
        "confidential_refused",
    }  # fmt: skip
    assert report["added"] == dry["added"] == {
        "person": 2, "interaction": 0, "follow_up": 0, "assignment": 0
    }  # fmt: skip
    assert report["conflicts_remaining"] == 1
    assert report["conflicts"][0]["fields"] == [
        {"field": "title", "ours": "市里改的", "theirs": "县里改的"}
    ]
    assert [(m["a_name"], m["rule"]) for m in report["merge_candidates"]] == [
        ("欧阳明华", "mobile")
    ]
    # Again: nothing added or updated; --ours settles the conflict (exit 0).
    code, out, _ = tx(city, "exchange", "import", str(bundle), "--json")
    again = json.loads(out)
    assert code == 3 and sum(again["added"].values()) == sum(again["updated"].values()) == 0
    code, out, err = tx(city, "exchange", "import", str(bundle), "--ours")
    assert code == 0, err
    assert "ours" in out or "本方" in out
    code, out, _ = tx(city, "exchange", "import", str(bundle), "--json")
    assert code == 0 and json.loads(out)["conflicts"] == []

    # A tampered bundle: refused (exit 1), with the reason, nothing written.
    with zipfile.ZipFile(bundle) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["rows.jsonl"] = members["rows.jsonl"].replace("司马青云".encode(), "司马假名".encode())
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    code, out, err = tx(city, "exchange", "import", str(forged))
    assert code == 1
    assert "清单" in err or "manifest" in err
    code, out, _ = tx(city, "contacts", "search", "司马假名", "--json")
    assert json.loads(out)["total"] == 0


def _a_yizheng_person(url: str) -> str:
    """The name of the demo's first person of 仪征市 (the same in both databases)."""
    host = PluginHost()
    host.load(entry_points_too=False)
    app = Tongxin(load_config(), db_url=url, plugins=host)
    try:
        with app.unit() as unit:
            return unit.session.scalars(
                select(col(Person.name))
                .where(col(Person.region) == "yizheng", col(Person.name) != "司马青云",
                       col(Person.name) != "欧阳明华")
                .order_by(col(Person.id))
            ).first() or ""  # fmt: skip
    finally:
        app.close()
