"""Reports (报表): what the office files with the party group (seed 四.1).

A report is a :class:`ReportSpec`: a code, Chinese and English titles, and a ``build``
function that reads through the unit and returns a :class:`ReportTable` for a
:class:`Period`. The built-in reports (``coverage``, ``liaison``,
``followups``) and those plugins register with the ``register_reports`` hook (the
visits plugin's ``visits``) are listed by :func:`available_reports` and run by
:func:`run_report`; :mod:`crm_core.reports.output` writes a result as JSON, Excel,
Word or CSV, the same for every report.

A report is what the acting account may see: ``build`` reads through the services,
which apply :mod:`crm_core.authz` (county staff see their region's people and work only;
confidential notes only participants), and adds the same scopes
(:func:`crm_core.authz.person_scope`, :func:`~crm_core.authz.interaction_scope`,
:func:`~crm_core.authz.follow_up_scope`, :func:`~crm_core.authz.assignment_scope`) to
any query of its own. The built-in reports of county staff say so under their first
table.

A plugin's report::

    from crm_core import hookimpl
    from crm_core.reports import Column, ReportSpec, ReportTable, Section

    def build(unit, period):
        rows = [{"county": "宝应县", "teas": 3}]
        return ReportTable([Section("teas", "茶叙", "Tea chats",
                                    [Column("county", "县(市、区)", "County"),
                                     Column("teas", "次数", "Count", "int")], rows)])

    @hookimpl
    def register_reports(register):
        register(ReportSpec("teas", "茶叙统计", "Tea chats", build))
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from crm_core.errors import NotFound
from crm_core.reports.spec import (
    COLUMN_KINDS,
    Column,
    Period,
    ReportSpec,
    ReportTable,
    Section,
    jsonable,
    period_from_options,
    report_json,
    share,
)

if TYPE_CHECKING:
    from crm_core.ports import AppPort
    from crm_core.unit import Unit


def available_reports(app: AppPort) -> dict[str, ReportSpec]:
    """Every report by code: the built-in ones, then those plugins register (a code
    registered twice keeps the first; the clash is reported on the plugins list)."""
    from crm_core.reports import builtin

    reports: dict[str, ReportSpec] = {spec.code: spec for spec in builtin.REPORTS}
    for plugin, spec in app.plugins.collect("register_reports"):
        if not isinstance(spec, ReportSpec):
            app.plugins.record_failure(
                plugin, "register_reports", TypeError(f"not a ReportSpec: {spec!r}")
            )
        elif spec.code in reports:
            owner = reports[spec.code].plugin or "core"
            app.plugins.record_failure(
                plugin,
                "register_reports",
                ValueError(f"report {spec.code!r} already registered by {owner}"),
            )
        else:
            reports[spec.code] = ReportSpec(**{**spec.__dict__, "plugin": plugin})
    return reports


def get_report(app: AppPort, code: str) -> ReportSpec:
    """The report with this code (or title), or NotFound listing the known ones."""
    reports = available_reports(app)
    if code in reports:
        return reports[code]
    for spec in reports.values():
        if code in (spec.zh, spec.en):
            return spec
    raise NotFound("report", f"{code} ({', '.join(reports)})")


def run_report(
    unit: Unit,
    code: str,
    period: Period,
    *,
    people: Iterable[uuid.UUID] | None = None,
    lazy: bool = False,
) -> tuple[ReportSpec, ReportTable]:
    """Build the report ``code`` for ``period``, over what the acting account may see;
    with ``people`` (a group's members), over those people and the work with them only
    (:func:`crm_core.authz.narrowed_to`). With ``lazy``, a paged section (the names not
    reached) reads its rows only when asked, a page at a time for JSON
    (:func:`report_json`): use the result before the unit closes."""
    from crm_core.authz import narrowed_to

    spec = get_report(unit.app, code)
    with narrowed_to(unit, people):
        result = spec.build(unit, period)
        if not isinstance(result, ReportTable):
            raise TypeError(f"report {code} returned {type(result).__name__}, not a ReportTable")
        if spec.plugin is None and result.sections:
            note_scope(unit, result.sections[0])
        # A group's narrowing holds only in here: a lazy section would read its pages
        # after it, over everyone, so a report of a group is read whole now.
        if not lazy or people is not None:
            result.load()
    return spec, result


def note_scope(unit: Unit, section: Section) -> None:
    """Say under a county's report that it covers that region only (the core does so
    under the first table of its own reports; a plugin's report calls it itself)."""
    from crm_core import authz

    scope = authz.region_scope(unit)
    if scope is None:
        return
    term = unit.config.vocab["regions"].get(scope)
    if term is not None:
        zh, en = term.zh, term.en
    else:  # a code config no longer has, or county staff given no region at all
        zh, en = ("（无地区）", "(no region)") if scope == "\x00" else (scope, scope)
    line_zh = f"本表只含{zh}的人员和工作。"
    line_en = f"This report covers {en} only."
    section.note_zh = f"{section.note_zh}\n{line_zh}" if section.note_zh else line_zh
    section.note_en = f"{section.note_en}\n{line_en}" if section.note_en else line_en


__all__ = [
    "COLUMN_KINDS",
    "Column",
    "Period",
    "ReportSpec",
    "ReportTable",
    "Section",
    "available_reports",
    "get_report",
    "jsonable",
    "note_scope",
    "period_from_options",
    "report_json",
    "run_report",
    "share",
]
