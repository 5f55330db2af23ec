"""The in-process cache of serialised calendar events, keyed by content hash.

An exported interaction's VEVENT is a function of the interaction's row, who takes part
(as the reader may see them), the kind's and region's labels, the office's sender
address, the alarms and the language and zone of the calendar. The hash of those is the
key; the value is the event's bytes as icalendar serialises them. An unchanged event
is then not rebuilt nor serialised again: the feed and ``tongxin export ics`` pay the
query and the hash. The cache lives in this process only (bounded, least recently used
first out): building a calendar still never writes to the database (issue 15). When a
plugin implements ``decorate_event`` its inputs are unknown, and no event is cached.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from crm_core.calendar.settings import smtp_settings
from crm_core.i18n import language
from crm_core.models import Interaction
from crm_core.unit import Unit

MAX_EVENTS = 100_000
_CACHE: OrderedDict[bytes, bytes] = OrderedDict()
_COLUMNS = [c.key for c in Interaction.__table__.c]  # type: ignore[attr-defined]


def decorated(unit: Unit) -> bool:
    """Whether a plugin decorates events (then nothing is cached)."""
    return bool(unit.plugins.pm.hook.decorate_event.get_hookimpls())


def clear() -> None:
    """Empty the cache (tests; a process that changed its translations)."""
    _CACHE.clear()


def _key(
    unit: Unit,
    rng: Any,
    i: Interaction,
    who: Any,
    labels: dict[str, str],
    alarm_offsets: Callable[[Unit, Interaction], Any],
) -> bytes:
    region = unit.config.vocab["regions"].get(i.region) if i.region else None
    content = (
        language(),
        rng.tz.key,
        tuple(getattr(i, k) for k in _COLUMNS),
        tuple(who.people),
        tuple(who.accounts),
        tuple(who.invited),
        labels.get(i.kind, i.kind),
        region.label(language()) if region is not None else None,
        smtp_settings(unit.config).sender,
        tuple(alarm_offsets(unit, i)) if i.status.value == "planned" else (),
    )
    return hashlib.blake2b(repr(content).encode(), digest_size=20).digest()


def cached_event(
    make: Callable[..., Any], alarm_offsets: Callable[[Unit, Interaction], Any]
) -> Callable[..., bytes]:
    """A maker of interaction items that returns each event's serialised bytes, from
    the cache when an event of the same content was serialised before."""

    def cached(unit: Unit, rng: Any, i: Interaction, who: Any, labels: dict[str, str]) -> bytes:
        key = _key(unit, rng, i, who, labels, alarm_offsets)
        body = _CACHE.get(key)
        if body is not None:
            _CACHE.move_to_end(key)
            return body
        body = bytes(make(unit, rng, i, who, labels).to_ical())
        _CACHE[key] = body
        if len(_CACHE) > MAX_EVENTS:
            _CACHE.popitem(last=False)
        return body

    return cached
