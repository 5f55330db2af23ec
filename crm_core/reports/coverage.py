"""The coverage report (``coverage``), computed in the database.

Two statements, whatever the number of people: one counts, for everyone and for each
category, sector, region, special committee and membership, the active people and those
reached in the period (``GROUP BY`` over a common table of the people the reader may
see, with a 0/1 "reached" flag); the other lists the names not yet reached, a page per
group (a window ``row_number()`` per group), or every name when a document needs them.
No person is loaded as an object.

Authorization is in the same statements: the people are those of
:func:`crm_core.authz.person_scope`. A person's taking part in an interaction makes
that interaction visible to county staff of the person's region
(:func:`crm_core.authz.interaction_scope`: "a person of their region taking part"),
so for the people in scope the reached flag needs no interaction condition: adding it
gave the same numbers and turned the statement into a correlated scan per
participation (469 s for county staff at 100,000 people; bench/RESULTS.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import String, case, func, literal_column, null, select, type_coerce, union_all
from sqlalchemy.sql import Select
from sqlmodel import col

from crm_core import authz
from crm_core.models import (
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Person,
    PersonCategory,
    PersonCommittee,
    PersonStatus,
)
from crm_core.reports.spec import Column, Period, ReportTable, Section, share
from crm_core.unit import Unit

UNSET_ZH, UNSET_EN = "（未填写）", "(not recorded)"
NAMES_PAGE = 100  # names per group in --json unless --limit says otherwise

COVERAGE_COLUMNS = [
    Column("dimension", "分组方式", "Grouped by"),
    Column("group", "分组", "Group"),
    Column("total", "人数", "People", "int"),
    Column("reached", "已联系", "Reached", "int"),
    Column("share", "覆盖率", "Coverage", "percent"),
    Column("not_reached", "未联系", "Not reached", "int"),
]
NAMES_COLUMNS = [
    Column("dimension", "分组方式", "Grouped by"),
    Column("group", "分组", "Group"),
    Column("not_reached", "未联系人数", "Not reached", "int"),
    Column("names", "未联系名单", "Names not yet reached", "list"),
]
# The dimensions in the report's order: key, Chinese and English headings.
DIMENSIONS = (
    ("all", "全部", "All"),
    ("category", "类别", "Category"),
    ("sector", "界别", "Sector"),
    ("region", "县(市、区)", "Region"),
    ("committee", "专委会", "Special committee"),
    ("membership", "委员身份", "Membership"),
)
MEMBERSHIPS = (
    ("standing", "常委", "Standing member"),
    ("member", "委员", "Member"),
    ("none", "非委员", "Not a member"),
)


def reached_select(unit: Unit, period: Period, kinds: tuple[str, ...] = ()) -> Select[Any]:
    """The ids of the people who took part in done work (of any kind, or of ``kinds``)
    that started in the period, as a subquery (no authorization: the caller keeps the
    people it may see, whose work it may then see too)."""
    lo, hi = period.bounds(unit.config.tz)
    stmt = (
        select(col(InteractionParticipant.person_id))
        .join(Interaction, col(Interaction.id) == InteractionParticipant.interaction_id)
        .where(
            col(Interaction.status) == InteractionStatus.done,
            col(Interaction.start_at) >= lo,
            col(Interaction.start_at) < hi,
            col(InteractionParticipant.person_id).is_not(None),
        )
    )
    if kinds:
        stmt = stmt.where(col(Interaction.kind).in_(kinds))
    return stmt


def _people(unit: Unit, period: Period) -> Any:
    """The active people the unit may see, with their pinyin position and reached flag."""
    got = case((col(Person.id).in_(reached_select(unit, period)), 1), else_=0)
    return (
        select(
            col(Person.id).label("id"),
            col(Person.name).label("name"),
            func.row_number().over(order_by=(col(Person.name_pinyin), col(Person.id))).label("pos"),
            type_coerce(Person.sector, String).label("sector"),
            type_coerce(Person.region, String).label("region"),
            type_coerce(Person.membership, String).label("membership"),
            got.label("got"),
        )
        .where(col(Person.status) == PersonStatus.active, *authz.person_scope(unit))
        .cte("pp")
    )


def _branches(pp: Any, columns: Callable[[Any], list[Any]], where: Any = None) -> list[Any]:
    """One SELECT per dimension over ``pp``: the dimension key, the group's code, then
    ``columns(code)``; filtered by ``where`` (a condition on ``pp``) when given."""
    out = []
    for dim, _zh, _en in DIMENSIONS:
        source: Any = pp
        if dim == "all":
            code: Any = type_coerce(null(), String)
        elif dim == "category":
            source = pp.outerjoin(PersonCategory, col(PersonCategory.person_id) == pp.c.id)
            code = type_coerce(PersonCategory.category, String)
        elif dim == "committee":
            source = pp.outerjoin(PersonCommittee, col(PersonCommittee.person_id) == pp.c.id)
            code = type_coerce(PersonCommittee.committee, String)
        else:
            code = pp.c[dim]
        stmt = select(
            literal_column(f"'{dim}'", String).label("dim"), code.label("code"), *columns(code)
        ).select_from(source)
        if where is not None:
            stmt = stmt.where(where)
        out.append(stmt)
    return out


def coverage_counts(unit: Unit, period: Period) -> list[tuple[str, str | None, int, int, int]]:
    """(dimension, code, people, reached, first position) of every group with people,
    in one statement."""

    def counts(code: Any) -> list[Any]:
        return [func.count(), func.sum(pp.c.got), func.min(pp.c.pos)]

    pp = _people(unit, period)
    stmts = [
        s if i == 0 else s.group_by(s.selected_columns.code)  # everyone: no grouping
        for i, s in enumerate(_branches(pp, counts))
    ]
    rows = unit.session.execute(union_all(*stmts)).all()
    return [(d, c, int(n), int(r or 0), int(first or 0)) for d, c, n, r, first in rows if n]


def not_reached_names(
    unit: Unit, period: Period, offset: int = 0, limit: int | None = None
) -> dict[tuple[str, str | None], list[str]]:
    """The names not reached in each group, in pinyin order, by (dimension, code): from
    ``offset``, at most ``limit`` of each group (every one with None), in one
    statement."""
    pp = _people(unit, period)

    def names(code: Any) -> list[Any]:
        return [pp.c.pos, pp.c.name]

    every = union_all(*_branches(pp, names, pp.c.got == 0)).subquery("nr")
    if limit is None and not offset:
        stmt = select(every.c.dim, every.c.code, every.c.name).order_by(
            every.c.dim, every.c.code, every.c.pos
        )
    else:
        rn = (
            func.row_number()
            .over(partition_by=(every.c.dim, every.c.code), order_by=every.c.pos)
            .label("rn")
        )
        ranked = select(every.c.dim, every.c.code, every.c.name, every.c.pos, rn).subquery("r")
        stmt = select(ranked.c.dim, ranked.c.code, ranked.c.name).where(ranked.c.rn > offset)
        if limit is not None:
            stmt = stmt.where(ranked.c.rn <= offset + limit)
        stmt = stmt.order_by(ranked.c.dim, ranked.c.code, ranked.c.pos)
    out: dict[tuple[str, str | None], list[str]] = {}
    for dim, code, name in unit.session.execute(stmt):
        out.setdefault((dim, code), []).append(name)
    return out


class NamesSection(Section):
    """The not-reached section: its group rows are known from the counts, the names
    are read when first asked for (every one: ``rows``) or a page of each group
    (:meth:`page`, what ``--json`` prints). Read them while the unit is open:
    :func:`crm_core.reports.run_report` reads every name unless asked not to."""

    paged = True

    def __init__(
        self,
        groups: list[dict[str, Any]],
        names: Callable[[int, int | None], dict[tuple[str, str | None], list[str]]],
    ) -> None:
        self._groups = groups
        self._names = names
        self._loaded: list[dict[str, Any]] | None = None
        super().__init__("not_reached", "未联系名单", "Not yet reached", NAMES_COLUMNS)

    @property
    def rows(self) -> list[dict[str, Any]]:  # every name of every group
        if self._loaded is None:
            self._loaded = self.page(0, None)
        return self._loaded

    @rows.setter
    def rows(self, value: list[dict[str, Any]]) -> None:
        self._loaded = value or None

    def __repr__(self) -> str:
        return f"NamesSection({len(self._groups)} groups)"

    @property
    def loaded(self) -> bool:
        """Whether every name has been read."""
        return self._loaded is not None or not self._groups

    def page(self, offset: int, limit: int | None) -> list[dict[str, Any]]:
        """The group rows with ``limit`` names of each from ``offset`` (None: all);
        ``not_reached`` stays the whole count."""
        if self._loaded is not None:
            end = None if limit is None else offset + limit
            return [{**r, "names": r["names"][offset:end]} for r in self._loaded]
        if not self._groups:
            return []
        names = self._names(offset, limit)
        return [{**g, "names": names.get((g["dim"], g["code"]), [])} for g in self._groups]


def coverage(unit: Unit, period: Period) -> ReportTable:
    """Of all active people, and of each category, sector, region, special committee
    and membership: how many were contacted at least once in the period (any done work
    of any kind, by anyone), the share, and the names not yet reached."""
    vocab = unit.config.vocab
    terms: dict[str, list[tuple[str | None, str, str]]] = {
        "all": [(None, "全部联系对象", "Everyone")],
        "category": [(t.code, t.zh, t.en) for t in unit.app.categories],
        "sector": [(t.code, t.zh, t.en) for t in vocab["sectors"]],
        "region": [(t.code, t.zh, t.en) for t in vocab["regions"]],
        "committee": [(t.code, t.zh, t.en) for t in vocab["committees"]],
        "membership": list(MEMBERSHIPS),
    }
    found: dict[str, dict[str | None, tuple[int, int, int]]] = {d: {} for d, _z, _e in DIMENSIONS}
    for dim, code, total, got, first in coverage_counts(unit, period):
        found[dim][code] = (total, got, first)
    summary_rows: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    for dim, dim_zh, dim_en in DIMENSIONS:
        have = found[dim]
        order = [(c, zh, en) for c, zh, en in terms[dim] if c in have]
        known = {c for c, _zh, _en in terms[dim]}
        rest = sorted((c for c in have if c not in known), key=lambda c: have[c][2])
        order += [(c, c or UNSET_ZH, c or UNSET_EN) for c in rest]  # unset, or an old code
        for code, zh, en in order:
            total, got, _first = have[code]
            base = {"dimension": dim_zh, "dimension_en": dim_en, "code": code, "group": zh}
            summary_rows.append(
                {
                    **base,
                    "group_en": en,
                    "total": total,
                    "reached": got,
                    "share": share(got, total),
                    "not_reached": total - got,
                }
            )
            if total > got:
                groups.append({**base, "dim": dim, "not_reached": total - got})
    everyone = found["all"].get(None, (0, 0, 0))

    def names(offset: int, limit: int | None) -> dict[tuple[str, str | None], list[str]]:
        return not_reached_names(unit, period, offset, limit)

    return ReportTable(
        [
            Section(
                "coverage",
                "联系覆盖情况",
                "Coverage",
                COVERAGE_COLUMNS,
                summary_rows,
                "已联系：本期内至少参加过一次已完成的工作（任何种类、任何人开展）。",
                "Reached: took part in at least one done piece of work of any kind in the period.",
            ),
            NamesSection(groups, names),
        ],
        {"people": everyone[0], "reached": everyone[1], "share": share(everyone[1], everyone[0])},
    )


__all__ = [
    "COVERAGE_COLUMNS",
    "NAMES_COLUMNS",
    "NAMES_PAGE",
    "NamesSection",
    "coverage",
    "coverage_counts",
    "not_reached_names",
    "reached_select",
]
