"""The institutional series are written by administrators only on PostgreSQL (migration
0005): a leader who plans the year's 中秋联谊会 before any administrator has added the
series gets a clear refusal, not a database error, and once it is there plans it as
usual. On SQLite (the file's permissions are the boundary) anyone may add it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from crm_plugins import union_liaison as ul
from sqlalchemy import func, select

from crm_core.app import Tongxin
from crm_core.errors import ValidationError
from crm_core.models import Series
from crm_core.services import accounts


def test_a_leader_plans_the_gathering_on_the_series_an_administrator_added(
    backend: str, app: Tongxin, login: Callable[..., Tongxin], names: Callable[[str], str]
) -> None:
    office, chair = names("office"), names("chair")
    app.plugins.register(ul, "union_liaison")  # the logins below share this plugin host
    app.refresh_registries()
    with app.unit() as unit:
        accounts.create_account(unit, username=office, role="admin")
        accounts.create_account(unit, username=chair, role="leader")
        unit.session.execute(Series.__table__.delete().where(Series.code == ul.MID_AUTUMN))  # type: ignore[attr-defined]
    leader = login(chair)
    if backend == "postgresql":
        with pytest.raises(ValidationError) as refused, leader.unit() as unit:
            ul.ensure_gathering(unit, 2026)
        assert "administrator" in str(refused.value)
        assert "series" in [e.field for e in refused.value.errors]
        with app.unit() as unit:
            assert unit.session.scalar(select(func.count()).select_from(Series).where(
                Series.code == ul.MID_AUTUMN)) == 0  # fmt: skip
        with login(office).unit() as unit:
            ul.services.gathering_series(unit)
    with leader.unit() as unit:
        gathering = ul.ensure_gathering(unit, 2026)
        assert gathering.series_id is not None
    with leader.unit() as unit:  # and again: the same gathering, nothing written
        assert ul.ensure_gathering(unit, 2026).id == gathering.id
