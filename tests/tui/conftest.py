"""Fixtures of the terminal UI tests: a small fixed office on a SQLite file, a frozen
clock (Friday 2026-11-27, 10:00 in Yangzhou), and helpers to let the app settle.

The TUI tests run on SQLite only: the services they call are tested on both backends.
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

from crm_core import clock, hookimpl
from crm_core.app import Tongxin
from crm_core.i18n import set_language
from crm_core.kinds import KindSpec
from crm_core.services import accounts, assignments, contacts, followups, interactions
from crm_core.testing import make_test_app


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests in a fresh event loop (Pilot needs one; no plugin needed)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{n: pyfuncitem.funcargs[n] for n in names}))
    return True


NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai, a Friday
NOW_ISO = "2026-11-27T02:00:00+00:00"


class VisitFields(BaseModel):
    """A visit's own fields, as a liaison plugin would define them."""

    occasion: str | None = Field(default=None, description="场合 / Occasion")
    concerns: list[str] = Field(default_factory=list, description="反映的问题 / Concerns raised")


class VisitPlugin:
    """A stand-in for a liaison plugin: registers "visit" after the core kinds, the way
    an entry-point plugin comes after them."""

    @hookimpl
    def register_kinds(self, register: Callable[[KindSpec], None]) -> None:
        register(
            KindSpec(
                "visit",
                "走访看望",
                "Visit",
                VisitFields,
                default_duration_minutes=90,
                person_role="visited",
                account_role="visitor",
            )
        )


def fill(core: Tongxin) -> dict[str, Any]:
    """The fixed office every TUI test and snapshot sees; returns ids by name."""
    ids: dict[str, Any] = {}
    with core.unit() as unit:
        office = accounts.create_account(
            unit, username="office", display_name="办公室", role="admin"
        )
        chair = accounts.create_account(
            unit,
            username="wangzx",
            display_name="王主席",
            role="leader",
            chair_meeting=True,
            position="主席",
        )
        accounts.create_account(unit, username="xiaoli", display_name="小李", role="staff")
        ids.update(office=office.id, chair=chair.id)
        people = [
            dict(
                name="张三",
                gender="男",
                birth="1965-03",
                party="民盟",
                sector="教育界",
                region="广陵区",
                employer="扬州大学",
                title="教授",
                mobile="13812345678",
                membership="member",
                categories=["党外知识分子"],
            ),
            dict(
                name="李四",
                gender="女",
                party="无党派",
                sector="经济界",
                region="邗江区",
                employer="扬州某科技公司",
                title="总经理",
                mobile="13900001111",
                categories=["非公有制经济人士"],
            ),
            dict(
                name="王五",
                party="民建",
                region="江都区",
                employer="江都区人民医院",
                title="主任医师",
            ),
            dict(name="赵六", party="九三学社", region="高邮市", employer="高邮中学", title="校长"),
            dict(name="欧阳明", party="民进", region="仪征市", employer="仪征市文联", title="主席"),
            dict(name="单雄信", region="宝应县", employer="宝应县律师事务所", title="律师"),
        ]
        for p in people:
            ids[p["name"]] = contacts.create_person(unit, **p).id
        assignments.assign(
            unit,
            keeper_id=chair.id,
            contact_id=ids["张三"],
            category="党外知识分子",
            start_on=date(2026, 1, 5),
        )
        interactions.log_interaction(
            unit,
            kind="meeting",
            people=[ids["张三"]],
            accounts=[office.id],
            start=datetime(2026, 11, 20, 6, 0, tzinfo=UTC),
            summary="座谈高校科研成果转化",
            notes="建议设立转化基金",
        )
        interactions.log_interaction(
            unit,
            kind="call",
            people=[ids["李四"]],
            accounts=[office.id],
            start=datetime(2026, 11, 25, 1, 30, tzinfo=UTC),
            summary="电话了解企业用工情况",
        )
        interactions.log_interaction(
            unit,
            kind="note",
            people=[ids["张三"]],
            accounts=[office.id],
            start=datetime(2026, 11, 18, 7, 0, tzinfo=UTC),
            summary="交流思想近况",
            notes="只有参加者能看的记录",
            confidential=True,
        )
        interactions.schedule_interaction(
            unit,
            kind="meeting",
            people=[ids["王五"]],
            accounts=[office.id],
            start=datetime(2026, 11, 27, 7, 0, tzinfo=UTC),
            summary="听取医疗卫生界意见",
        )
        interactions.schedule_interaction(
            unit,
            kind="call",
            people=[ids["赵六"]],
            accounts=[office.id],
            start=datetime(2026, 12, 1, 1, 30, tzinfo=UTC),
            summary="通知参加界别活动周",
        )
        fu = followups.raise_follow_up(
            unit,
            title="反映企业融资难",
            person_id=ids["李四"],
            owner_id=office.id,
            due_on=date(2026, 11, 25),
        )
        ids["follow_up"] = fu.id
    return ids


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[datetime]:
    """The clock stopped at NOW (in this process and in any it starts)."""
    monkeypatch.setenv("TONGXIN_NOW", NOW_ISO)
    clock.freeze(NOW)
    yield NOW
    clock.freeze(None)
    set_language("zh")


@pytest.fixture
def make_core(
    tmp_path: Path, frozen: datetime, sqlite_template: Path
) -> Iterator[Callable[..., Tongxin]]:
    """Build a Tongxin on a new SQLite file: ``make_core(plugins={...}, config_text=...,
    data=True)``. The file is a copy of the session's migrated template, where
    make_test_app would migrate a new one (migrations are tested in tests/core)."""
    made: list[Tongxin] = []

    def make(
        *, plugins: dict[str, object] | None = None, config_text: str = "", data: bool = True
    ) -> Tongxin:
        folder = tmp_path / f"office{len(made)}"
        folder.mkdir(parents=True)
        shutil.copy(sqlite_template, folder / "tongxin-test.db")
        core = make_test_app(
            folder,
            plugins={"visit_test": VisitPlugin(), **(plugins or {})},
            config_text=config_text,
        )
        if data:
            core.test_ids = fill(core)  # type: ignore[attr-defined]
        made.append(core)
        return core

    yield make
    for core in made:
        core.close()


@pytest.fixture
def core(make_core: Callable[..., Tongxin]) -> Tongxin:
    """The fixed office."""
    return make_core()


async def settle(pilot: Any) -> None:
    """Let the app finish what it started: messages, timers, worker threads."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()
