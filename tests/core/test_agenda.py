"""The agenda service: interactions in a time range, counts by kind, names of who took part."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.errors import ValidationError
from crm_core.services import accounts, agenda, contacts, interactions

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def test_between_counts_and_names(app: Tongxin) -> None:
    clock.freeze(NOW)
    with app.unit() as unit:
        office = accounts.create_account(unit, username="office", display_name="办公室")
        zs = contacts.create_person(unit, name="张三")
        ls = contacts.create_person(unit, name="李四")
        done = interactions.log_interaction(
            unit,
            kind="meeting",
            people=[zs.id, ls.id],
            accounts=[office.id],
            start=NOW - timedelta(hours=1),
        )
        planned = interactions.schedule_interaction(
            unit, kind="call", people=[ls.id], start=NOW + timedelta(hours=3)
        )
        gone = interactions.schedule_interaction(
            unit, kind="call", people=[ls.id], start=NOW + timedelta(hours=4)
        )
        interactions.cancel_interaction(unit, gone.id)
        interactions.log_interaction(
            unit, kind="call", people=[zs.id], start=NOW - timedelta(days=40)
        )
    with app.unit() as unit:
        day = agenda.between(unit, NOW - timedelta(hours=10), NOW + timedelta(hours=10))
        assert [i.id for i in day.items] == [done.id, planned.id]  # earliest first
        assert day.total == 2  # the cancelled one is left out
        only_planned = agenda.between(
            unit, NOW - timedelta(hours=10), NOW + timedelta(hours=10), statuses=["planned"]
        )
        assert [i.id for i in only_planned.items] == [planned.id]
        limited = agenda.between(unit, NOW - timedelta(days=60), NOW + timedelta(days=1), limit=1)
        assert (len(limited.items), limited.total) == (1, 3)
        kinds = agenda.between(
            unit, NOW - timedelta(days=60), NOW + timedelta(days=1), kinds=["meeting"]
        )
        assert [i.kind for i in kinds.items] == ["meeting"]
        month = agenda.counts_by_kind(unit, NOW - timedelta(days=20), NOW + timedelta(days=1))
        assert month == {"meeting": 1}
        planned_counts = agenda.counts_by_kind(unit, NOW, NOW + timedelta(days=1), status="planned")
        assert planned_counts == {"call": 1}
        names = agenda.names_of(unit, [done.id, planned.id])
        assert names[done.id] == ["李四", "张三", "办公室"]  # people by pinyin, then accounts
        assert names[planned.id] == ["李四"]
        assert agenda.names_of(unit, []) == {}


def test_between_refuses_naive_or_reversed_ranges(app: Tongxin) -> None:
    with app.unit() as unit:
        with pytest.raises(ValidationError) as exc:
            agenda.between(unit, datetime(2026, 1, 1), NOW)
        assert exc.value.errors[0].field == "start"
        with pytest.raises(ValidationError) as exc:
            agenda.counts_by_kind(unit, NOW, NOW - timedelta(days=1))
        assert exc.value.errors[0].field == "end"
