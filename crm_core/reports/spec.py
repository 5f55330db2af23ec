"""The report types (:class:`ReportSpec`, :class:`ReportTable` …) and helpers, apart from
the registry in :mod:`crm_core.reports` so the built-in reports can import them without
an import circle. Import them from :mod:`crm_core.reports`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from crm_core.errors import ValidationError
from crm_core.i18n import N_

if TYPE_CHECKING:
    from crm_core.unit import Unit

COLUMN_KINDS = ("text", "int", "float", "percent", "date", "datetime", "list")


@dataclass(frozen=True)
class Period:
    """The local days ``start`` to ``end`` (both included) a report covers."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError.one(
                "--to",
                self.end.isoformat(),
                N_("before --from {start}"),
                start=self.start.isoformat(),
            )

    @classmethod
    def year(cls, year: int) -> Period:
        """The calendar year."""
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        """Quarter 1–4 of ``year``."""
        if not 1 <= quarter <= 4:
            raise ValidationError.one("--quarter", f"{year}Q{quarter}", N_("a quarter is 1 to 4"))
        first = date(year, 3 * quarter - 2, 1)
        nxt = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return cls(first, nxt - timedelta(days=1))

    @classmethod
    def parse_quarter(cls, text: str) -> Period:
        """``2026Q3``, ``2026-Q3``, ``2026q3`` or ``2026年第3季度``."""
        m = re.fullmatch(
            r"\s*(\d{4})\s*(?:-?\s*[Qq]\s*|年第?)([1-4一二三四])\s*(?:季度?)?\s*", text
        )
        if not m:
            raise ValidationError.one("--quarter", text, N_("write a quarter as 2026Q3"))
        q = "一二三四".find(m.group(2)) + 1 or int(m.group(2))
        return cls.quarter(int(m.group(1)), q)

    def bounds(self, tz: Any) -> tuple[datetime, datetime]:
        """The aware instants the period starts at and ends before, in zone ``tz``."""
        return (
            datetime.combine(self.start, time(), tz),
            datetime.combine(self.end + timedelta(days=1), time(), tz),
        )

    def months(self) -> list[tuple[int, int]]:
        """(year, month) of every month the period touches, in order."""
        out = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def label(self, lang: str = "zh") -> str:
        """How the period is written in a report's title: 2026年第三季度, 2026年,
        2026-07-01 至 2026-09-30."""
        s, e = self.start, self.end
        whole_year = s == date(s.year, 1, 1) and e == date(s.year, 12, 31)
        if whole_year:
            return f"{s.year}" if lang == "en" else f"{s.year}年"
        if (
            s.day == 1
            and s.month in (1, 4, 7, 10)
            and self == Period.quarter(s.year, (s.month + 2) // 3)
        ):
            q = (s.month + 2) // 3
            return f"{s.year} Q{q}" if lang == "en" else f"{s.year}年第{'一二三四'[q - 1]}季度"
        sep = " to " if lang == "en" else " 至 "
        return f"{s.isoformat()}{sep}{e.isoformat()}"

    def as_json(self) -> dict[str, str]:
        """The stable JSON form."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "label": self.label()}


def period_from_options(
    *,
    start: date | None = None,
    end: date | None = None,
    quarter: str | None = None,
    year: int | None = None,
    today: date,
) -> Period:
    """The period named by the command-line options (only one way at a time); without
    any, the current quarter."""
    given = [x for x in ((start or end), quarter, year) if x]
    if len(given) > 1:
        raise ValidationError.one(
            "--quarter", quarter or year, N_("give --from/--to, --quarter or --year, not several")
        )
    if quarter:
        return Period.parse_quarter(quarter)
    if year:
        if not 1900 <= year <= 2999:
            raise ValidationError.one("--year", year, N_("not a plausible year"))
        return Period.year(year)
    if start or end:
        return Period(start or date(today.year, 1, 1), end or today)
    return Period.quarter(today.year, (today.month + 2) // 3)


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` as a ``percent`` column's value (0 to 1); None when there is
    no whole to take a share of (a committee without non-party members)."""
    return part / whole if whole else None


@dataclass(frozen=True)
class Column:
    """A column of a report table: its key in the rows, Chinese and English headers,
    and the kind of its values (``text``, ``int``, ``float``, ``percent`` — a share
    between 0 and 1 —, ``date``, ``datetime`` or ``list`` — a list of names)."""

    key: str
    zh: str
    en: str
    kind: str = "text"

    def title(self, lang: str) -> str:
        """The header in ``lang``."""
        return self.en if lang == "en" else self.zh


@dataclass
class Section:
    """One table of a report: rows are dicts keyed by the columns' keys."""

    key: str
    zh: str
    en: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    note_zh: str = ""
    note_en: str = ""

    def title(self, lang: str) -> str:
        """The section's title in ``lang``."""
        return self.en if lang == "en" else self.zh

    def note(self, lang: str) -> str:
        """The line printed under the table, in ``lang``."""
        return self.note_en if lang == "en" else self.note_zh


@dataclass
class ReportTable:
    """What a report's ``build`` returns: its tables, in order, and headline figures
    (``summary``, plain JSON values) for ``--json`` and the top of the documents."""

    sections: list[Section]
    summary: dict[str, Any] = field(default_factory=dict)

    def load(self) -> ReportTable:
        """Read every row a section reads on demand (the names not reached), while the
        unit is still open; returns the table."""
        for s in self.sections:
            s.rows  # noqa: B018 - a paged section reads its rows on first access
        return self


@dataclass(frozen=True)
class ReportSpec:
    """A report: ``code`` (used on the command line), Chinese and English titles, and
    ``build(unit, period) -> ReportTable``, which must only read."""

    code: str
    zh: str
    en: str
    build: Callable[[Unit, Period], ReportTable]
    description: str = ""
    plugin: str | None = None

    def title(self, lang: str) -> str:
        """The title in ``lang``."""
        return self.en if lang == "en" else self.zh


def jsonable(value: Any, kind: str = "text") -> Any:
    """A cell as it appears in ``--json``."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if kind == "percent" and isinstance(value, float):
        return round(value, 4)
    if isinstance(value, tuple):
        return list(value)
    return value


PAGE = 100  # names per group in a paged section's JSON, unless --limit says otherwise


def _section_rows(s: Section, offset: int, limit: int | None) -> list[dict[str, Any]]:
    page = getattr(s, "page", None)
    return page(offset, limit) if getattr(s, "paged", False) and page else s.rows


def _section_json(s: Section, lang: str, offset: int, limit: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "key": s.key,
        "title": s.title(lang),
        "columns": [{"key": c.key, "title": c.title(lang), "kind": c.kind} for c in s.columns],
        "rows": [
            {c.key: jsonable(row.get(c.key), c.kind) for c in s.columns}
            for row in _section_rows(s, offset, limit)
        ],
    }
    if getattr(s, "paged", False):
        out["offset"], out["limit"] = offset, limit
    return out


def report_json(
    spec: ReportSpec,
    period: Period,
    result: ReportTable,
    lang: str = "zh",
    *,
    offset: int = 0,
    limit: int | None = PAGE,
) -> dict[str, Any]:
    """The stable JSON form of a report result (``tongxin report NAME --json``). A
    paged section (the names not reached) lists at most ``limit`` names of each group
    from ``offset`` (None: all); its count column says how many there are."""
    return {
        "report": spec.code,
        "title": spec.title(lang),
        "period": period.as_json(),
        "summary": {k: jsonable(v) for k, v in result.summary.items()},
        "sections": [_section_json(s, lang, offset, limit) for s in result.sections],
    }
