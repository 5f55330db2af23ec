"""union_liaison's obligation (``collect_obligations``): the 中秋联谊会 (2026-09-25)
without invitations sent 14 days before it is owed by the office, in ``tongxin overdue``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from crm_plugins import union_liaison as ul

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.kinds import OpenTarget
from crm_core.services import accounts, contacts, overdue
from crm_core.services import obligations as obligation_service


@pytest.fixture
def ul_app(with_plugins: Callable[..., Tongxin]) -> Tongxin:
    """The test's app with union_liaison registered."""
    return with_plugins(ul)


def _rows(app: Tongxin, as_of: date, actor: str | None = None) -> list:  # type: ignore[type-arg]
    with app.unit(actor) as unit:
        return [
            o
            for o in obligation_service.collect(unit, as_of=as_of).rows
            if o.plugin == "union_liaison"
        ]


def test_the_gathering_without_invitations_is_owed_14_days_before(
    ul_app: Tongxin, admin: str
) -> None:
    clock.freeze(datetime(2026, 9, 15, 2, 0, tzinfo=UTC))
    assert _rows(ul_app, date(2026, 8, 1)) == []  # too early to tell
    (row,) = _rows(ul_app, date(2026, 9, 15))
    assert row.label == "中秋联谊会（2026-09-25）邀请未发出"
    assert row.detail == "应提前 14 天、于 2026-09-11 前发出邀请"
    assert (row.level(date(2026, 9, 15)), row.days_overdue(date(2026, 9, 15))) == ("late", 4)
    assert row.link == OpenTarget("agenda", "2026-09-25") and row.account_id is None
    assert _rows(ul_app, date(2026, 9, 1))[0].level(date(2026, 9, 1)) == "due"
    with ul_app.unit(admin) as unit:
        gathering = ul.ensure_gathering(unit, 2026)  # on the calendar, nobody invited yet
    (row,) = _rows(ul_app, date(2026, 9, 15))
    assert row.link == OpenTarget("interaction", str(gathering.id))
    with ul_app.unit(admin) as unit:
        guest = contacts.create_person(unit, name="张三")
        ul.invite(unit, gathering.id, [guest.id])
    assert _rows(ul_app, date(2026, 9, 15)) == []
    assert _rows(ul_app, date(2026, 9, 26)) == []  # past the day: nothing owed any more


def test_it_is_in_tongxin_overdue_and_not_told_to_county_staff(ul_app: Tongxin, admin: str) -> None:
    clock.freeze(datetime(2026, 9, 15, 2, 0, tzinfo=UTC))
    with ul_app.unit() as unit:
        accounts.create_account(
            unit, username="gl", display_name="广陵区政协", role="county_staff",
            region_scope="guangling",
        )  # fmt: skip
        data = overdue.overdue_json(overdue.overdue(unit, today=date(2026, 9, 15)))
    assert [o["label"] for o in data["obligations"]] == ["中秋联谊会（2026-09-25）邀请未发出"]
    assert data["obligations"][0]["link_text"] == "agenda 2026-09-25"
    assert _rows(ul_app, date(2026, 9, 15), "gl") == []
