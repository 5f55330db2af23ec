"""What plugins say the office owes (the ``collect_obligations`` hook, issue 13): rows of
``tongxin overdue``, the dashboard's overdue card and the daily digest.

A plugin's hook that raises is skipped: its rows are left out, the failure is recorded
against the plugin (``tongxin plugins``) and logged on ``tongxin.plugins``, and the names
of the plugins skipped travel with the rows so each front end can warn (stderr, a
notification). The rest is shown.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crm_core.i18n import _
from crm_core.kinds import Obligation
from crm_core.models import Account, Role
from crm_core.unit import Unit

HOOK = "collect_obligations"


@dataclass(frozen=True)
class Obligations:
    """The plugins' rows on ``as_of`` (late first, most overdue first, then by label),
    and the plugins whose hook failed (their rows are missing)."""

    as_of: date
    rows: list[Obligation] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def collect(unit: Unit, *, as_of: date, account: Account | None = None) -> Obligations:
    """Every plugin's obligations on ``as_of``, read acting as ``unit``'s account (the
    plugins apply county scope and confidentiality with it).

    ``account`` narrows them to one account's: those it owes, plus the office's
    (``account_id`` None) when it is an administrator; without it, every row the reader
    is given."""
    hook = getattr(unit.plugins.pm.hook, HOOK)
    expected = {impl.plugin_name for impl in hook.get_hookimpls()}
    # A collecting hook (docs/plugins.md, "When a plugin fails"): one that raises is
    # recorded, logged, told to the front end and left out.
    results = unit.plugins.call_collecting(HOOK, unit=unit, as_of=as_of)
    failed = expected - {plugin for plugin, _result in results}
    rows: list[Obligation] = []
    for plugin, result in results:
        if result is None:
            continue
        if not isinstance(result, list | tuple):
            unit.plugins.record_failure(
                plugin, HOOK, TypeError(f"returned {type(result).__name__}, not a list")
            )
            failed.add(plugin)
            continue
        for row in result:
            if not isinstance(row, Obligation):
                unit.plugins.record_failure(
                    plugin, HOOK, TypeError(f"not an Obligation: {row!r:.80}")
                )
                failed.add(plugin)
                continue
            if account is not None and not _owed_by(row, account):
                continue
            rows.append(dataclasses.replace(row, plugin=plugin))
    rows.sort(key=lambda r: (r.level(as_of) != "late", -r.days_overdue(as_of), r.label, r.key))
    return Obligations(as_of, rows, sorted(failed))


def _owed_by(row: Obligation, account: Account) -> bool:
    if row.account_id is None:
        return account.role == Role.admin
    return row.account_id == account.id


def line(row: Obligation, as_of: date) -> str:
    """One row as a line of text (the digest): label, detail, and how late."""
    text = row.label
    if row.detail:
        text += f"（{row.detail}）"
    days = row.days_overdue(as_of)
    if days:
        text += " " + _("{days} days overdue").format(days=days)
    elif row.due_on is not None:
        text += " " + _("due {day}").format(day=row.due_on.isoformat())
    return text


def as_json(row: Obligation, as_of: date) -> dict[str, Any]:
    """The stable JSON form of one row (documented in docs/cli-json.md)."""

    def plain(v: Any) -> Any:
        if isinstance(v, uuid.UUID):
            return str(v)
        if isinstance(v, date):
            return v.isoformat()
        return v

    return {
        "plugin": row.plugin,
        "key": row.key,
        "label": row.label,
        "detail": row.detail,
        "due_on": plain(row.due_on),
        "level": row.level(as_of),
        "days_overdue": row.days_overdue(as_of),
        "account_id": plain(row.account_id),
        "link": None
        if row.link is None
        else {"screen": row.link.screen, "ref": row.link.ref, "kind": row.link.kind},
        "link_text": row.link.text() if row.link is not None else None,
    }
