"""The report ``visits`` (走访约请统计): done visits and invitations per county and
month, registered through ``register_reports`` (it was a core report until issue 13:
only this plugin knows its kinds and their ``county`` field). The figures are the same
as before, over what the acting account may see (:func:`crm_core.api.interactions`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from crm_core import api
from crm_core.api import Column, Period, ReportSpec, ReportTable, Section, Unit

VISIT_KINDS = (("visit", "走访看望", "Visits"), ("invitation", "约请上门", "Invitations"))


def visits(unit: Unit, period: Period) -> ReportTable:
    """Done visits and invitations (kinds ``visit`` and ``invitation``) per county and
    per month, with the people visited; a kind another plugin took counts under its
    label, one not registered at all counts 0. The county is the interaction's region
    (or its ``county`` field), else 未注明. County staff get their region's row only
    (and any other county where work with their region's people took place), and
    count their people."""
    tz = unit.config.tz
    lo, hi = period.bounds(tz)
    codes = tuple(k for k, _zh, _en in VISIT_KINDS)
    labels = {
        k: (
            unit.kinds[k].zh if k in unit.kinds else zh,
            unit.kinds[k].en if k in unit.kinds else en,
        )
        for k, zh, en in VISIT_KINDS
    }
    # County staff: their region's work, and of it their region's people.
    items = api.interactions(unit, codes, start=lo, end=hi, done_only=True)
    visited: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for iid, attendees in api.participants(unit, [i.id for i in items]).items():
        visited[iid] |= {a.person.id for a in attendees if a.person is not None}
    # The county field of a confidential visit is read only by whoever may read its
    # fields (PostgreSQL does not even give the others the value).
    readable = api.readable_ids(unit, items)
    regions = unit.config.vocab["regions"]
    months = period.months()
    month_keys = [f"{y:04d}-{m:02d}" for y, m in months]
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    people: dict[str, set[uuid.UUID]] = defaultdict(set)
    for i in items:
        field = (i.data or {}).get("county") if i.id in readable else None
        county = i.region or _county_code(regions, field) or ""
        local = i.start_at.astimezone(tz)
        counts[county][f"{local.year:04d}-{local.month:02d}"] += 1
        by_kind[county][i.kind] += 1
        people[county] |= visited.get(i.id, set())
    scope = api.region_scope(unit)
    order = [(t.code, t.zh) for t in regions if scope is None or t.code in (scope, *counts)]
    order += [(c, c) for c in counts if c and c not in regions]
    if "" in counts:
        order.append(("", "（未注明）"))
    month_cols = [Column(k, f"{int(k[:4])}年{int(k[5:])}月", k, "int") for k in month_keys]
    matrix_rows = []
    kind_rows: list[dict[str, Any]] = []
    for code, zh in order:
        row: dict[str, Any] = {"county": zh, "code": code}
        for k in month_keys:
            row[k] = counts[code][k]
        row["total"] = sum(counts[code].values())
        matrix_rows.append(row)
        kind_rows.append(
            {
                "county": zh,
                "code": code,
                **{k: by_kind[code][k] for k in codes},
                "total": sum(by_kind[code].values()),
                "people": len(people[code]),
            }
        )
    total_row: dict[str, Any] = {"county": "合计", "code": None}
    for k in month_keys:
        total_row[k] = sum(r[k] for r in matrix_rows)
    total_row["total"] = sum(r["total"] for r in matrix_rows)
    matrix_rows.append(total_row)
    kind_rows.append(
        {
            "county": "合计",
            "code": None,
            **{k: sum(r[k] for r in kind_rows) for k in codes},
            "total": sum(r["total"] for r in kind_rows),
            "people": len(set().union(*people.values())) if people else 0,
        }
    )
    table = ReportTable(
        [
            Section(
                "by_month",
                "走访约请按县(市、区)和月份",
                "Visits and invitations by county and month",
                [
                    Column("county", "县(市、区)", "County"),
                    *month_cols,
                    Column("total", "合计", "Total", "int"),
                ],
                matrix_rows,
            ),
            Section(
                "by_kind",
                "走访约请按种类",
                "Visits and invitations by kind",
                [
                    Column("county", "县(市、区)", "County"),
                    *[Column(k, labels[k][0], labels[k][1], "int") for k in codes],
                    Column("total", "合计", "Total", "int"),
                    Column("people", "走访委员人数", "People visited", "int"),
                ],
                kind_rows,
            ),
        ],
        {
            "total": total_row["total"],
            **{k: kind_rows[-1][k] for k in codes},
            "people": kind_rows[-1]["people"],
        },
    )
    api.note_scope(unit, table.sections[0])  # as the core's reports say it
    return table


def _county_code(regions: Any, value: Any) -> str | None:
    if not value:
        return None
    term = regions.resolve(str(value))
    return term.code if term else str(value)


REPORT = ReportSpec(
    "visits",
    "走访约请统计",
    "Visits per county and month",
    visits,
    "走访看望、约请上门按县(市、区)和月份统计",
)
