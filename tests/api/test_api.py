"""The HTTP API (issue 19 item 1) through a real HTTP client against a running `tongxin
serve` (feed server + /api/v1/), on SQLite and PostgreSQL: county scope and the
confidentiality of talks per endpoint, tokens (hashed, scoped, revocable), pagination,
ETags, errors naming the field, and the OpenAPI document."""

from __future__ import annotations

import hashlib
import json

import pytest
from crm_cli.main import run
from openapi_spec_validator import validate
from sqlalchemy import select

from crm_core.access_models import ApiToken
from crm_core.app import Tongxin
from crm_core.calendar import feeds
from crm_core.models import AuditLog
from crm_core.services import accounts

from .conftest import Call, Office

# What docs/cli-json.md gives for `contacts search --json` results.
SEARCH_KEYS = {"id", "name", "pinyin", "initials", "gender", "sector", "party", "region",
               "employer", "title", "membership", "categories"}  # fmt: skip


def test_the_openapi_document_validates(call: Call) -> None:
    answer = call("GET", "/api/v1/openapi.json", who=None)
    assert answer.status == 200
    doc = answer.json
    validate(doc)  # raises on an invalid OpenAPI document
    paths = set(doc["paths"])
    for path in ("/api/v1/people", "/api/v1/people/{person_id}", "/api/v1/interactions",
                 "/api/v1/follow-ups", "/api/v1/assignments", "/api/v1/overdue",
                 "/api/v1/calendar.ics", "/api/v1/people/{person_id}/timeline"):  # fmt: skip
        assert path in paths, path
    assert "HTTPBearer" in doc["components"]["securitySchemes"]


def test_search_is_scoped_and_shaped_as_the_cli(call: Call, office: Office) -> None:
    gl = call("GET", "/api/v1/people?q=" + "%E5%BC%A0%E4%B8%89")  # 张三
    assert gl.status == 200
    data = gl.json
    assert data["total"] == 1 and data["query"] == "张三"
    (row,) = data["results"]
    assert set(row) == SEARCH_KEYS and row["name"] == "张三"
    # 广陵区's clerk lists only 广陵区's people; 邗江区's only theirs; the chair both.
    names = {
        who: {r["name"] for r in call("GET", "/api/v1/people", who=who).json["results"]}
        for who in ("gl", "hj", "chair")
    }
    assert names == {"gl": {"张三"}, "hj": {"李四"}, "chair": {"张三", "李四"}}


def test_pagination_and_etags(call: Call) -> None:
    first = call("GET", "/api/v1/people?limit=1&offset=0", who="chair").json
    second = call("GET", "/api/v1/people?limit=1&offset=1", who="chair").json
    assert first["total"] == second["total"] == 2 and first["limit"] == 1
    assert {first["results"][0]["name"], second["results"][0]["name"]} == {"张三", "李四"}
    answer = call("GET", "/api/v1/people", who="chair")
    etag = answer.headers["etag"]
    again = call("GET", "/api/v1/people", who="chair", headers={"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    other = call("GET", "/api/v1/people", who="gl", headers={"If-None-Match": etag})
    assert other.status == 200  # another account's view is other data


def test_show_person_per_county(call: Call, office: Office) -> None:
    zhang, li = office.ids["zhang"], office.ids["li"]
    mine = call("GET", f"/api/v1/people/{zhang}")
    assert mine.status == 200 and mine.json["mobile"] == "+8613812345678"
    # Another county's person: the same 404 as no person at all, nothing of them shown.
    for path in (f"/api/v1/people/{li}", "/api/v1/people/00000000-0000-0000-0000-000000000000",
                 f"/api/v1/people/{li}/timeline", f"/api/v1/interactions?person={li}"):  # fmt: skip
        answer = call("GET", path)
        assert answer.status == 404, path
        text = answer.body.decode()
        assert "李四" not in text and "139" not in text and "邗江" not in text
    assert call("GET", f"/api/v1/people/{li}", who="hj").status == 200


def test_confidential_talks_are_masked_per_endpoint(call: Call, office: Office) -> None:
    zhang, talk = office.ids["zhang"], office.ids["talk"]
    paths = [f"/api/v1/people/{zhang}", f"/api/v1/people/{zhang}/timeline",
             f"/api/v1/interactions?person={zhang}", f"/api/v1/interactions/{talk}"]  # fmt: skip
    for path in paths:
        gl = call("GET", path)
        assert gl.status == 200, path
        assert "谈心谈话" not in gl.body.decode() and "绝密" not in gl.body.decode(), path
        chair = call("GET", path, who="chair").body.decode()
        assert "谈心谈话" in chair, path  # the participant reads it
    masked = call("GET", f"/api/v1/interactions/{talk}").json
    assert masked["notes_hidden"] is True and masked["summary"] is None
    assert masked["confidential"] is True and masked["data"] is None
    # 邗江区's clerk does not see 广陵区's talk at all.
    assert call("GET", f"/api/v1/interactions/{talk}", who="hj").status == 404
    # The calendar of the clerk: their own work, nothing of 邗江区.
    ics = call("GET", "/api/v1/calendar.ics")
    assert ics.status == 200 and ics.headers["content-type"].startswith("text/calendar")
    body = ics.body.decode().replace("\r\n ", "")
    assert "电话回访" in body and "邗江" not in body and "绝密" not in body


def test_follow_ups_assignments_and_overdue_per_county(call: Call, office: Office) -> None:
    titles = {r["title"] for r in call("GET", "/api/v1/follow-ups").json["results"]}
    assert titles == {"路灯"}
    overdue_titles = call("GET", "/api/v1/follow-ups?overdue=true", who="hj").json["results"]
    assert [r["title"] for r in overdue_titles] == ["停车"]
    gl = call("GET", "/api/v1/assignments").json["results"]
    assert [a["contact"] for a in gl] == ["张三"]
    chair = call("GET", "/api/v1/assignments", who="chair").json
    assert chair["total"] == 2
    overdue = call("GET", "/api/v1/overdue").json
    assert set(overdue) >= {"overdue", "gaps", "obligations"}
    assert "李四" not in json.dumps(overdue, ensure_ascii=False)


def test_writes_need_a_write_token_and_act_as_its_account(
    app: Tongxin, call: Call, office: Office
) -> None:
    body = {"kind": "call", "people": [str(office.ids["zhang"])], "summary": "API 回访"}
    refused = call("POST", "/api/v1/interactions", body=body)
    assert refused.status == 403 and "read-only" in refused.json["error"]["message"]
    made = call("POST", "/api/v1/interactions", who="gl_write", body=body)
    assert made.status == 201, made.body
    item = made.json
    assert item["summary"] == "API 回访" and item["follow_ups"] == []
    assert item["region"] == "guangling"  # what a county clerk creates lands in their region
    with app.unit() as unit:
        entry = unit.session.scalars(
            select(AuditLog).where(
                AuditLog.entity == "interaction", AuditLog.entity_id == item["id"]
            )
        ).one()
        assert entry.actor == "gl"
    planned = call("POST", "/api/v1/interactions", who="gl_write",
                   body={**body, "status": "planned", "start": "2026-03-20T02:00:00Z"})  # fmt: skip
    assert planned.status == 201 and planned.json["status"] == "planned"
    # Another county's person: refused, nothing written.
    other = call("POST", "/api/v1/interactions", who="gl_write",
                 body={**body, "people": [str(office.ids["li"])]})  # fmt: skip
    assert other.status in (403, 404)
    assert "13987654321" not in other.body.decode()
    raised = call("POST", "/api/v1/follow-ups", who="gl_write",
                  body={"title": "回复", "person_id": str(office.ids["zhang"])})  # fmt: skip
    assert raised.status == 201 and raised.json["title"] == "回复"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"people": []}, "body.kind"),
        ({"kind": "call", "people": ["not-an-id"]}, "body.people.0"),
        ({"kind": "call", "start": "yesterday"}, "body.start"),
        ({"kind": "call", "colour": "red"}, "body.colour"),
        ({"kind": "no_such_kind"}, "kind"),
        ({"kind": "call", "status": "planned"}, "body.start"),
    ],
)
def test_bad_input_gets_422_naming_the_field(call: Call, body: dict, field: str) -> None:
    answer = call("POST", "/api/v1/interactions", who="gl_write", body=body)
    assert answer.status == 422, answer.body
    error = answer.json["error"]
    assert error["status"] == 422
    assert field in [f["field"] for f in error["fields"]], error
    query = call("GET", "/api/v1/people?limit=0")
    assert query.status == 422 and query.json["error"]["fields"][0]["field"] == "query.limit"


def test_tokens_hashed_revocable_and_from_the_cli(
    app: Tongxin, call: Call, office: Office, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert call("GET", "/api/v1/people", who=None).status == 401
    bad = call("GET", "/api/v1/people", headers={"Authorization": "Bearer txa_" + "x" * 43},
               who=None)  # fmt: skip
    assert bad.status == 401 and bad.headers["www-authenticate"] == "Bearer"
    # Made by the CLI, shown once; stored only as its hash.
    assert run(["--db", db_url, "api", "token", "create", "hj", "--scope", "write",
                "--json"]) == 0  # fmt: skip
    made = json.loads(capsys.readouterr().out)
    token = made["token"]
    assert made["scope"] == "write" and made["account"] == "hj"
    office.tokens["new"] = token
    assert call("GET", "/api/v1/people", who="new").json["results"][0]["name"] == "李四"
    with app.unit() as unit:
        hashes = {r.token_hash for r in unit.session.scalars(select(ApiToken))}
        assert hashlib.sha256(token.encode()).hexdigest() in hashes
        text = " ".join(str(e.after) for e in unit.session.scalars(select(AuditLog)))
        assert token not in text and hashlib.sha256(token.encode()).hexdigest() not in text
    assert run(["--db", db_url, "api", "token", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert made["id"] in {t["id"] for t in listed} and all("token" not in t for t in listed)
    assert run(["--db", db_url, "api", "token", "revoke", made["id"][:8], "--json"]) == 0
    capsys.readouterr()
    assert call("GET", "/api/v1/people", who="new").status == 401  # at once
    # A disabled account's tokens stop too.
    with app.unit() as unit:
        accounts.resolve_account(unit, "hj").active = False
    assert call("GET", "/api/v1/people", who="hj").status == 401


def test_the_feed_and_the_api_share_one_server(app: Tongxin, call: Call, office: Office) -> None:
    with app.unit() as unit:
        _row, token = feeds.create_token(unit, account=accounts.resolve_account(unit, "gl"))
    feed = call("GET", f"/cal/{token}.ics", who=None)
    assert feed.status == 200 and b"BEGIN:VCALENDAR" in feed.body
    again = call(
        "GET", f"/cal/{token}.ics", who=None, headers={"If-None-Match": feed.headers["etag"]}
    )
    assert again.status == 304
    assert call("GET", "/api/v1/people").status == 200
