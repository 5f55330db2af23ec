"""The agenda's month as a grid (as khal and calcurse draw it): a week a row, Monday
first, each day a cell of three lines — the day and its lunar day (the month's name on
初一), the festival or solar term (中秋, 冬至 …), and what is on that day."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from crm_tui.common import WEEKDAYS, safe
from crm_tui.institutional import SERIES_MARK
from rich.cells import cell_len
from rich.text import Text

from crm_core import lunar
from crm_core.i18n import _

CELL_LINES = 3


@dataclass
class DayItems:
    """What one day holds: how many items, and the first one's words."""

    count: int = 0
    series: bool = False
    first: str = ""


@dataclass
class MonthGrid:
    """The weeks of a month (Monday to Sunday, days of the months around included) and
    the day of each cell."""

    month: date  # its first day
    weeks: list[list[date]] = field(default_factory=list)

    @classmethod
    def of(cls, first: date) -> MonthGrid:
        """The grid of the month starting on ``first``."""
        start = first - timedelta(days=first.weekday())
        after = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        weeks: list[list[date]] = []
        day = start
        while day < after:
            weeks.append([day + timedelta(days=i) for i in range(7)])
            day += timedelta(days=7)
        return cls(first, weeks)

    def day_at(self, row: int, column: int) -> date | None:
        """The day of a cell, if the grid has it."""
        if 0 <= row < len(self.weeks) and 0 <= column < 7:
            return self.weeks[row][column]
        return None

    def place_of(self, day: date) -> tuple[int, int] | None:
        """The cell (row, column) of ``day``."""
        for r, week in enumerate(self.weeks):
            if day in week:
                return r, week.index(day)
        return None


def column_labels() -> list[str]:
    """The weekday names, Monday first, in the user's language."""
    return [_(w) for w in WEEKDAYS]


def _fit(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return text
    out = ""
    for ch in text:
        if cell_len(out + ch) > width - 1:
            break
        out += ch
    return out + "…"


def day_cell(day: date, grid: MonthGrid, items: DayItems | None, width: int, today: date) -> Text:
    """The three lines of a day's cell, ``width`` cells wide."""
    in_month = day.month == grid.month.month
    try:
        lday = lunar.solar_to_lunar(day)
        lunar_day = lday.text[:-2] if lday.day == 1 else lday.text[-2:]
        mark = lday.festival or lunar.solar_term(day) or ""
    except Exception:  # outside the lunar tables: the Gregorian day alone
        lunar_day, mark = "", ""
    head = Text(f"{day.day:>2}", "bold reverse" if day == today else "bold")
    head.append(" " + lunar_day, "dim")
    cell = Text(no_wrap=True, overflow="ellipsis", end="")
    cell.append_text(head)
    cell.append("\n")
    cell.append(_fit(mark, width), "bold red" if lday_festival(day) else "green")
    cell.append("\n")
    if items and items.count:
        words = f"{items.count}·" + safe(items.first)
        cell.append(
            _fit((SERIES_MARK if items.series else "") + words, width),
            "bold" if items.series else "",
        )
    if not in_month:
        cell.stylize("dim")
    return cell


def lday_festival(day: date) -> bool:
    """Whether ``day`` is a traditional festival (drawn red, as printed calendars do)."""
    try:
        return lunar.solar_to_lunar(day).festival is not None
    except Exception:
        return False


def items_by_day(entries: list[tuple[date, str, bool]]) -> dict[date, DayItems]:
    """(day, words, is a series occurrence) in time order → what each day holds."""
    out: dict[date, DayItems] = defaultdict(DayItems)
    for day, words, series in entries:
        slot = out[day]
        if not slot.count or (series and not slot.series):
            slot.first = words  # a series occurrence is named before other work
        slot.count += 1
        slot.series = slot.series or series
    return dict(out)
