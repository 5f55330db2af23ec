"""A real `tongxin serve` (feed server + HTTP API) on 127.0.0.1 for the API tests, and
an office of two counties: 广陵区 (张三) and 邗江区 (李四), a confidential talk."""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from crm_web_api.gateway import wsgi_api

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.calendar.server import FeedServer, make_server, serve_in_thread
from crm_core.services import accounts, api_tokens, assignments, contacts, followups, interactions

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@dataclass
class Office:
    users: dict[str, str]  # role -> username: office (admin), chair (leader), gl, hj (county)
    ids: dict[str, uuid.UUID]  # accounts and records by name
    tokens: dict[str, str] = field(default_factory=dict)  # "gl", "gl_write", … -> token


@pytest.fixture
def office(app: Tongxin) -> Office:
    clock.freeze(NOW)
    users = {"office": "office", "chair": "chair", "gl": "gl", "hj": "hj"}
    ids: dict[str, uuid.UUID] = {}
    with app.unit() as unit:
        made = {
            "office": accounts.create_account(unit, username="office", display_name="办公室",
                                              role="admin"),
            "chair": accounts.create_account(unit, username="chair", display_name="王主席",
                                             role="leader"),
            "gl": accounts.create_account(unit, username="gl", display_name="广陵区政协",
                                          role="county_staff", region_scope="guangling"),
            "hj": accounts.create_account(unit, username="hj", display_name="邗江区政协",
                                          role="county_staff", region_scope="hanjiang"),
        }  # fmt: skip
        ids.update({k: a.id for k, a in made.items()})
        zhang = contacts.create_person(
            unit, name="张三", region="guangling", mobile="13812345678", employer="扬州大学"
        )
        li = contacts.create_person(
            unit, name="李四", region="hanjiang", mobile="13987654321", employer="邗江中学"
        )
        ids["zhang"], ids["li"] = zhang.id, li.id
        ids["lamp"] = followups.raise_follow_up(
            unit, title="路灯", person_id=zhang.id, owner_id=made["gl"].id, due_on=date(2026, 3, 5)
        ).id
        ids["parking"] = followups.raise_follow_up(
            unit, title="停车", person_id=li.id, owner_id=made["hj"].id, due_on=date(2026, 3, 5)
        ).id
        for p in (zhang, li):
            assignments.assign(
                unit, keeper_id=made["chair"].id, contact_id=p.id, ideal_days=30, max_days=60,
                start_on=date(2025, 1, 1),
            )  # fmt: skip
        for role in ("gl", "hj", "chair", "office"):
            _row, ids_token = api_tokens.create_token(unit, made[role], name="test")
            office_tokens = ids_token
            ids[f"token_{role}"] = _row.id
            users[f"t_{role}"] = office_tokens
        _row, write = api_tokens.create_token(unit, made["gl"], scope="write", name="app")
        users["t_gl_write"] = write
    with app.unit("chair") as unit:
        ids["talk"] = interactions.log_interaction(
            unit, kind="meeting", people=[zhang.id], region="guangling", summary="谈心谈话",
            notes="绝密内容", confidential=True, start=datetime(2026, 3, 9, 2, tzinfo=UTC),
        ).id  # fmt: skip
        ids["visit"] = interactions.log_interaction(
            unit, kind="meeting", people=[li.id], region="hanjiang", summary="邗江走访",
            start=datetime(2026, 3, 8, 2, tzinfo=UTC),
        ).id  # fmt: skip
    with app.unit("gl") as unit:
        ids["call"] = interactions.log_interaction(
            unit, kind="call", people=[zhang.id], region="guangling", summary="电话回访",
            start=datetime(2026, 3, 7, 2, tzinfo=UTC),
        ).id  # fmt: skip
    o = Office(users, ids)
    o.tokens = {k[2:]: v for k, v in users.items() if k.startswith("t_")}
    return o


@pytest.fixture
def server(app: Tongxin, office: Office) -> Iterator[FeedServer]:
    srv = make_server(app, "127.0.0.1", 0, timeout=5.0, api=wsgi_api(app))
    serve_in_thread(srv)
    yield srv
    srv.shutdown()
    srv.server_close()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


Call = Callable[..., Answer]


@pytest.fixture
def call(server: FeedServer, office: Office) -> Call:
    """``call(method, path, who="gl", body=None, headers={})``: one request over a real
    connection to the running server, with the bearer token of ``who`` (None: none)."""
    port = int(server.server_address[1])

    def do(
        method: str,
        path: str,
        who: str | None = "gl",
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        sent = dict(headers or {})
        if who is not None:
            sent["Authorization"] = f"Bearer {office.tokens[who]}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        answer = Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
        conn.close()
        return answer

    return do
