"""The gathering's invitation list from a group (issue 18): `gathering --create
--invite-group NAME` invites the members the reader sees, on both backends."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from crm_core import clock
from crm_core.app import Tongxin
from crm_core.services import groups
from tests.plugins.test_union_liaison import person, tx, ul_app  # noqa: F401  (fixtures)


def test_a_groups_members_are_invited_to_the_gathering(
    ul_app: Tongxin,  # noqa: F811
    tx: Callable[..., Any],  # noqa: F811
) -> None:
    clock.freeze(datetime(2026, 8, 1, 2, tzinfo=UTC))
    with ul_app.unit() as unit:
        a, b = person(unit, "欧阳春"), person(unit, "司马秋")
        person(unit, "东方红")
        groups.create_static(unit, "联谊名单", people=[a, b], shared=True)
    code, out, err = tx("gathering", "--year", "2026", "--create", "--invite-group", "联谊名单",
                        "--invite", "欧阳春", "--json")  # fmt: skip
    assert code == 0, err
    assert [p["name"] for p in json.loads(out)["summary"]["people"]] == ["欧阳春", "司马秋"]
    code, _, err = tx("gathering", "--year", "2026", "--invite-group", "联谊名单")
    assert code != 0 and "--create" in err
