"""The command-palette entries of union_liaison (``register_palette_commands``): the coming
中秋联谊会's list of invitees with their answers and attendance, and the gathering itself
(or the agenda on its day while it is not organised yet)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from rich.console import Group
from rich.text import Text

from crm_core import api
from crm_core.api import OpenTarget, PaletteCommandSpec, Unit, _

from . import services
from .render import attendance_parts


def coming_gathering_day(unit: Unit) -> tuple[int, date]:
    """The year and day of the next 中秋联谊会: this year's unless it is past."""
    today = api.today(unit.config.tz)
    day = services.mid_autumn_date(unit, today.year)
    if day < today:
        return today.year + 1, services.mid_autumn_date(unit, today.year + 1)
    return today.year, day


def gathering_list(unit: Unit) -> Any:
    """The coming 中秋联谊会: its day (Gregorian and lunar), and who is invited, who
    answered what and who came; or that it is not on the calendar yet."""
    year, day = coming_gathering_day(unit)
    gathering = services.find_gathering(unit, year)
    title = Text(f"{year} 中秋联谊会  ", "bold")
    title.append(
        day.isoformat() + "（" + _("lunar {date}").format(date=api.solar_to_lunar(day).text) + "）"
    )
    if gathering is None:
        return Group(
            title, Text(_("Not on the calendar yet (tongxin gathering --create puts it there)."))
        )
    summary = services.attendance_summary(unit, gathering.id)
    return Group(title, *attendance_parts(summary))


def gathering_place(unit: Unit) -> OpenTarget:
    """The coming 中秋联谊会 itself if it is organised, else the agenda on its day."""
    year, day = coming_gathering_day(unit)
    gathering = services.find_gathering(unit, year)
    if gathering is not None:
        return OpenTarget("interaction", str(gathering.id))
    return OpenTarget("agenda", day.isoformat())


@api.hookimpl
def register_palette_commands(register: Callable[[PaletteCommandSpec], None]) -> None:
    """联谊: 中秋联谊会名单 and 联谊: 中秋联谊会日程."""
    register(
        PaletteCommandSpec(
            "mid_autumn_list",
            "联谊",
            "Liaison",
            "中秋联谊会名单",
            "Mid-Autumn gathering list",
            gathering_list,
            help_zh="即将举行的中秋联谊会：邀请、回复与出席",
            help_en="The coming Mid-Autumn gathering: invitations, answers and attendance",
        )
    )
    register(
        PaletteCommandSpec(
            "mid_autumn_day",
            "联谊",
            "Liaison",
            "中秋联谊会日程",
            "Mid-Autumn gathering day",
            gathering_place,
            help_zh="打开即将举行的中秋联谊会（未安排时打开当天日程）",
            help_en="Open the coming Mid-Autumn gathering (or the agenda on its day)",
            order=110,
        )
    )
