"""The rules every value from outside meets at the service boundary, in one place.

Whatever a front end, an import, a plugin or a phone hands the services, a text value is
refused (a :class:`~crm_core.errors.ValidationError` naming the field) when it holds:

* NUL or another C0 control character (U+0000-U+001F). Tab and line feed are white
  space, not controls: a multi-line field (notes, a follow-up's detail or response, a
  plugin's fields) keeps them (``CR LF`` counts as one line break); a single-line field
  (name, title, phone, summary, location, ...) folds them into one space as it always has
  (:func:`crm_core.services._common.clean_text`), so a line break pasted from a
  spreadsheet cell is no refusal. A lone ``CR`` is refused everywhere: on a terminal it
  moves the cursor back over what was printed;
* DEL and the C1 controls (U+007F-U+009F: ``0x9B`` is a CSI escape on some terminals);
* a lone surrogate (U+D800-U+DFFF: bytes that were not UTF-8, as a shell hands them over);
* a bidirectional embedding, override or isolate (U+202A-U+202E, U+2066-U+2069): they
  make text display in another order than it is stored ("Trojan Source"). Right-to-left
  scripts need none of them; the marks U+200E/U+200F stay allowed;
* more characters than the field's limit (:data:`LIMITS`; :data:`DEFAULT_LIMIT` for any
  other field, a plugin's included), counted in characters, not bytes. The message says
  the limit.

Dates and times (birth years, interaction start and end, due dates, snoozes, typed
``--at`` values) lie between :data:`FIRST_DAY` and :data:`LAST_DAY`. A local time that
does not exist in its zone (the hour skipped when clocks go forward, e.g. 2026-03-08 02:30
in America/New_York, 1986-05-04 02:30 in Asia/Shanghai) is refused, naming the time and
what the clocks did; it is never moved silently. A local time that happens twice (the
hour repeated when clocks go back) is read as its **first** occurrence (``fold=0``, the
earlier instant, still on summer time); a caller that means the second one gives the UTC
offset (``2026-11-01 01:30-05:00``).

The services call these functions; they never write SQL and depend on nothing above the
ground floor, so any service (and a plugin through :mod:`crm_core.api`) can use them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crm_core.errors import FieldError, ValidationError
from crm_core.i18n import N_

__all__ = [
    "DEFAULT_LIMIT",
    "FIRST_DAY",
    "LAST_DAY",
    "LIMITS",
    "Refused",
    "check_data",
    "check_day",
    "check_moment",
    "check_texts",
    "day_problem",
    "local_moment",
    "printable",
    "shown",
    "text_problem",
    "valid_text",
]

# Characters in (code point) of the fields people type. The numbers are generous for
# what the field holds and small enough that one value cannot fill a screen, a log line
# or an export cell for everyone.
LIMITS: dict[str, int] = {
    "name": 100,
    "display_name": 100,
    "username": 64,
    "title": 200,
    "position": 100,
    "employer": 200,
    "ethnicity": 50,
    "email": 254,
    "address": 300,
    "phone": 40,
    "mobile": 40,
    "phones": 40,
    "summary": 500,
    "location": 200,
    "reason": 500,
    "role": 100,
    "kind": 64,
    "party": 100,
    "sector": 100,
    "region": 100,
    "region_scope": 100,
    "committee": 100,
    "committees": 100,
    "categories": 100,
    "category": 100,
    "query": 200,
    "notes": 20_000,
    "detail": 20_000,
    "response": 20_000,
}
# Any field not named above: a plugin's fields, a person's ``extra`` values.
DEFAULT_LIMIT = 2_000

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)

# Refused in every field. Tab, LF and CR LF are text (see the module docstring).
_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]|\r(?!\n)"
)
_NAMES = {
    "\x00": "NUL",
    "\x1b": "ESC",
    "\x7f": "DEL",
    "\x0d": "CR",
    "\x0b": "VT",
    "\x0c": "FF",
    "\x08": "BS",
    "\x07": "BEL",
}


class Refused(ValueError):
    """A reason for refusing a value, as a pydantic validator raises it: ``template`` is
    a msgid (``N_``) formatted with ``params`` so the refusal can be translated
    (:func:`crm_core.services._common.parse` and the kinds' schemas keep it)."""

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params) if params else template)


# What a terminal must never receive from data: every C0 control but tab and line feed,
# DEL, C1, lone surrogates (they cannot even be encoded) and the bidirectional controls.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` safe to hand a terminal: each control character (all but tab and line
    feed), lone surrogate or bidirectional control replaced by its visible escape
    (``ESC [ 2 J`` becomes ``\\x1b[2J``). For values already in the database that never
    met these rules (older rows, rows written by SQL or through CalDAV); the front ends
    pass everything they show through it (:mod:`crm_cli.context`, :mod:`crm_tui.common`)."""
    return _UNPRINTABLE.sub(_escape_char, text) if _UNPRINTABLE.search(text) else text


def _base(field: str) -> str:
    """``data.topics[2]`` -> ``topics``; ``rows[3].name`` -> ``name``: the key the limits
    and the multi-line rule are looked up by."""
    last = field.rsplit(".", 1)[-1]
    return last.split("[", 1)[0]


def limit_of(field: str) -> int:
    """The most characters ``field`` takes."""
    return LIMITS.get(_base(field), DEFAULT_LIMIT)


def _char_name(ch: str) -> str:
    code = ord(ch)
    if ch in _NAMES:
        return f"U+{code:04X} {_NAMES[ch]}"
    if 0xD800 <= code <= 0xDFFF:
        return f"U+{code:04X} (a lone surrogate: the bytes were not UTF-8)"
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return f"U+{code:04X} (a bidirectional override)"
    return f"U+{code:04X}"


def text_problem(value: str, *, field: str = "", limit: int | None = None) -> Refused | None:
    """Why ``value`` may not be stored in ``field`` (a :class:`Refused`), or None;
    ``limit`` defaults to the field's (:func:`limit_of`)."""
    bad = _CONTROLS.search(value)
    if bad is not None:
        return Refused(
            N_("contains {char} at position {pos}: control characters are refused"),
            char=_char_name(bad.group()),
            pos=bad.start() + 1,
        )
    cap = limit if limit is not None else limit_of(field)
    length = len(value) - value.count("\r\n")  # a Windows line end is one character
    if length > cap:
        return Refused(
            N_("is {length} characters long; at most {limit} are allowed"),
            length=length,
            limit=cap,
        )
    return None


def valid_text(field: str, value: Any) -> Any:
    """``value`` unchanged when it is no text or a text that keeps the rules; a
    :class:`Refused` otherwise. Meant for a pydantic ``field_validator(mode="before")``
    (list items are checked one by one), so a model refuses as early as it can."""
    for item in value if isinstance(value, list | tuple) else [value]:
        if isinstance(item, str):
            problem = text_problem(item, field=field)
            if problem is not None:
                raise problem
    return value


def shown(value: Any, width: int = 60) -> Any:
    """``value`` as an error message may repeat it: a long text cut to ``width``
    characters (a refused megabyte is not printed back)."""
    if isinstance(value, str) and len(value) > width:
        return value[:width] + f"…(+{len(value) - width})"
    return value


def _error(field: str, value: Any, refused: Refused) -> FieldError:
    return FieldError.of(field, shown(value), refused.template, **refused.params)


def check_texts(values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
    """Refuse (one ValidationError naming every bad field) any text among ``values``
    (field name -> value; None and non-text values are skipped, lists of texts are
    checked item by item) that breaks the rules of this module."""
    errors: list[FieldError] = []
    items = values.items() if isinstance(values, Mapping) else values
    for field, value in items:
        many = value if isinstance(value, list | tuple) else [value]
        for i, item in enumerate(many):
            if not isinstance(item, str):
                continue
            name = field if many is not value else f"{field}[{i}]"
            problem = text_problem(item, field=name)
            if problem is not None:
                errors.append(_error(name, item, problem))
    if errors:
        raise ValidationError(errors)


def check_data(data: Any, prefix: str = "data") -> None:
    """Refuse any string (keys included) or date anywhere inside ``data`` (a plugin
    kind's fields, a person's ``extra``: dicts, lists, scalars), naming its path such as
    ``data.topics[2]``. Dates and datetimes must lie in the sane range."""
    errors: list[FieldError] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, str):
            problem = text_problem(value, field=path)
            if problem is not None:
                errors.append(_error(path, value, problem))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(key, str):
                    problem = text_problem(key, field=path, limit=100)
                    if problem is not None:
                        errors.append(_error(f"{path}[{shown(key, 20)!r}]", key, problem))
                        continue
                walk(item, f"{path}.{key}")
        elif isinstance(value, list | tuple | set | frozenset):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")
        elif isinstance(value, datetime | date):
            problem = day_problem(value)
            if problem is not None:
                errors.append(_error(path, value.isoformat(), problem))

    walk(data, prefix)
    if errors:
        raise ValidationError(errors)


def day_problem(value: date | datetime) -> Refused | None:
    """Why ``value`` lies outside :data:`FIRST_DAY`..:data:`LAST_DAY`, or None. An
    aware datetime is judged by its UTC date."""
    day = value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            try:
                day = value.astimezone(UTC)
            except (OverflowError, ValueError):
                day = value  # year 1 or 9999 at the edge of what Python holds
        day = day.date() if isinstance(day, datetime) else day
    if not FIRST_DAY <= day <= LAST_DAY:
        return Refused(
            N_("{day} is outside the dates this program keeps ({first} to {last})"),
            day=value.isoformat(),
            first=FIRST_DAY.isoformat(),
            last=LAST_DAY.isoformat(),
        )
    return None


def check_day(field: str, value: date | datetime | None) -> None:
    """Refuse a date (or datetime) outside the sane range, naming ``field``."""
    if value is None:
        return
    problem = day_problem(value)
    if problem is not None:
        raise ValidationError(_error(field, value.isoformat(), problem))


def _exists(wall: datetime, tz: ZoneInfo) -> bool:
    """Whether the naive wall-clock time ``wall`` is shown by the clocks of ``tz``."""
    aware = wall.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall.replace(fold=0)


def gap_problem(value: datetime) -> Refused | None:
    """Why ``value`` (aware) names a local time that does not exist in its zone, or None.

    Only a zone with rules (a ZoneInfo) has gaps; a fixed offset or UTC never does. The
    reason names the time, the zone and the clock times the gap runs between."""
    tz = value.tzinfo
    if not isinstance(tz, ZoneInfo):
        return None
    wall = value.replace(tzinfo=None, fold=0)
    try:
        if _exists(wall, tz):
            return None
    except (OverflowError, ValueError):
        return None  # at the edge of what Python holds: day_problem says so
    minute = timedelta(minutes=1)
    first = last = wall.replace(second=0, microsecond=0)
    # A gap is at most a few hours long: walk to its edges a minute at a time.
    for _ in range(24 * 60):
        if _exists(first - minute, tz):
            break
        first -= minute
    for _ in range(24 * 60):
        last += minute
        if _exists(last, tz):
            break
    return Refused(
        N_(
            "{time} does not exist in {zone}: that day the clocks jump from {before} "
            "to {after}; give a time outside the gap"
        ),
        time=wall.strftime("%Y-%m-%d %H:%M"),
        zone=tz.key,
        before=first.strftime("%H:%M"),
        after=last.strftime("%H:%M"),
    )


def check_moment(field: str, value: datetime | None) -> None:
    """Refuse a datetime outside the sane range, or a local time in a DST gap, naming
    ``field``."""
    if value is None:
        return
    check_day(field, value)
    problem = gap_problem(value)
    if problem is not None:
        raise ValidationError(_error(field, value.replace(tzinfo=None).isoformat(), problem))


def local_moment(wall: datetime, tz: ZoneInfo) -> datetime:
    """The aware moment of the naive wall-clock time ``wall`` in ``tz``: ValueError
    (a :class:`Refused`) when it falls in a gap or outside the sane range; the first
    occurrence when the clocks go back and it happens twice (the rule of this module)."""
    problem = day_problem(wall)
    if problem is not None:
        raise problem
    aware = wall.replace(tzinfo=tz, fold=0)
    problem = gap_problem(aware)
    if problem is not None:
        raise problem
    return aware
