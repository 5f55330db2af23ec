"""The cache of serialised events (issue 16, item 4): an export is byte for byte the
calendar icalendar serialises, whether its events come from the cache or are built, and
a change to an event, its people or the language reaches the export at once."""

from __future__ import annotations

from datetime import timedelta

from crm_core import clock
from crm_core.calendar import build_calendar, calendar_range, export_ics, ics_cache
from crm_core.i18n import language, set_language
from crm_core.services import interactions

from .conftest import World, local


def _both(world: World) -> tuple[bytes, bytes]:
    with world.app.unit("wangzx") as unit:
        rng = calendar_range(unit, scope="office")
        return export_ics(unit, rng), bytes(build_calendar(unit, rng).to_ical())


def test_an_export_from_the_cache_is_the_serialised_calendar(world: World) -> None:
    ics_cache.clear()
    built_first, whole = _both(world)
    assert built_first == whole  # built and cached
    cached, whole = _both(world)
    assert cached == whole == built_first  # every event from the cache
    clock.freeze(clock.now() + timedelta(hours=1))
    with world.app.unit("wangzx") as unit:
        interactions.reschedule_interaction(
            unit, world.visit, start=local(2026, 9, 21, 9, 30), location="高邮市委员活动之家"
        )
    changed, whole = _both(world)
    assert changed == whole != cached
    assert "高邮市委员活动之家".encode() in changed
    was = language()
    set_language("en")
    try:
        english, whole = _both(world)
    finally:
        set_language(was)
    assert english == whole != changed
