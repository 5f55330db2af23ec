"""RRULE-based VTIMEZONEs read right by three readers: icalendar, vobject and ical.js
(the parser of Thunderbird and many web calendars, run with the machine's Node.js from
tests/calendar/icaljs, which `.ci/run` installs with `npm ci`). For each zone, events at
wall-clock times around every transition from 2000 to 2060 must land on the instant
zoneinfo gives them."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from crm_core.calendar.vtimezone_rules import _transitions, rrule_vtimezone_bytes

from .conftest import World

ICALJS = Path(__file__).parent / "icaljs"
DST_ZONES = [
    "America/New_York", "Europe/Berlin", "Europe/London", "Australia/Sydney",
    "Pacific/Auckland", "America/Havana",
]  # fmt: skip


def _wall_times(zone: ZoneInfo) -> list[datetime]:
    """Unambiguous wall-clock times on both sides of each transition, 2000-2060."""
    out = []
    for year in range(2000, 2061):
        for t in _transitions(zone, year):
            for delta in (-timedelta(days=1), -timedelta(hours=3), timedelta(hours=3),
                          timedelta(days=1), timedelta(days=40)):  # fmt: skip
                wall = t.local + delta
                a = wall.replace(tzinfo=zone)
                b = wall.replace(tzinfo=zone, fold=1)
                if (
                    a.utcoffset() == b.utcoffset()
                    and a.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall
                ):
                    out.append(wall)
    return out


def _calendar(tzid: str, walls: list[datetime]) -> str:
    body = rrule_vtimezone_bytes(tzid)
    assert body is not None
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tongxin//test//ZH", body.decode().strip()]
    for i, wall in enumerate(walls):
        lines += [
            "BEGIN:VEVENT", f"UID:e{i}", "DTSTAMP:20260101T000000Z",
            f"DTSTART;TZID={tzid}:{wall:%Y%m%dT%H%M%S}", "SUMMARY:x", "END:VEVENT",
        ]  # fmt: skip
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def _expected(tzid: str, walls: list[datetime]) -> dict[str, int]:
    zone = ZoneInfo(tzid)
    return {f"e{i}": int(w.replace(tzinfo=zone).timestamp()) for i, w in enumerate(walls)}


@pytest.mark.parametrize("tzid", DST_ZONES)
def test_each_reader_puts_every_wall_time_on_zoneinfo_s_instant(tzid: str, tmp_path: Path) -> None:
    walls = _wall_times(ZoneInfo(tzid))
    assert len(walls) > 400
    text = _calendar(tzid, walls)
    want = _expected(tzid, walls)

    cal = icalendar.Calendar.from_ical(text)
    got = {str(e["UID"]): int(e.decoded("dtstart").timestamp()) for e in cal.walk("VEVENT")}
    assert got == want

    parsed = vobject.readOne(text)
    got = {e.uid.value: int(e.dtstart.value.timestamp()) for e in parsed.vevent_list}
    assert got == want

    node = shutil.which("node")
    assert node, "Node.js is needed: ical.js is one of the readers checked"
    assert (ICALJS / "node_modules" / "ical.js").is_dir(), (
        "run `npm ci --prefix tests/calendar/icaljs` (as .ci/run does)"
    )
    path = tmp_path / "zone.ics"
    path.write_text(text, "utf-8")
    done = subprocess.run(
        [node, str(ICALJS / "instants.mjs"), str(path)],
        capture_output=True, text=True, check=True, cwd=ICALJS,
    )  # fmt: skip
    assert json.loads(done.stdout) == want


def test_the_rule_is_a_few_lines_not_a_list_of_every_year() -> None:
    body = rrule_vtimezone_bytes("Europe/Berlin")
    assert body is not None
    # The offset before 2000, then the rule (the EU's since 1996): three blocks.
    assert body.count(b"BEGIN:STANDARD") == 2 and body.count(b"BEGIN:DAYLIGHT") == 1
    assert body.count(b"RRULE") == 2
    assert b"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in body
    assert b"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in body
    ny = rrule_vtimezone_bytes("America/New_York")
    assert ny is not None and b"RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3" in ny
    assert ny.count(b"RRULE") == 2  # the 2000-2006 rule written out, then today's


@pytest.mark.parametrize("tzid", ["Asia/Shanghai", "Asia/Tehran", "America/Santiago", "UTC"])
def test_a_zone_without_a_yearly_weekday_rule_gets_none(tzid: str) -> None:
    # No daylight saving (Shanghai, Tehran since 2022, UTC), or a rule RRULE's BYDAY
    # cannot say ("the first Saturday at 24:00"): the caller writes the list form.
    assert rrule_vtimezone_bytes(tzid) is None


def test_a_calendar_shown_in_new_york_carries_the_rule(world: World) -> None:
    # What an export in a daylight-saving display zone writes (TONGXIN_TZ).
    world.app.config.timezone = "America/New_York"
    body = world.export()
    assert b"RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3" in body
    assert body.count(b"BEGIN:VTIMEZONE") == 2  # the display zone's and the office's
    cal = vobject.readOne(body.decode("utf-8"))
    visit = next(e for e in cal.vevent_list if "宝应" in str(getattr(e, "location", "")))
    assert visit.dtstart.value.astimezone(UTC) == datetime(2026, 9, 20, 1, 30, tzinfo=UTC)
