"""A person's liaison record (联系档案, issue 18): for one person and a period (a year, a
term), every contact with them by kind and by whom, the talks (a confidential one the
reader may not read shows only that it happened), the concerns they raised and how each
was handled, the gatherings they attended and the briefings they received. This is what
the party group asks the office for when it reviews the liaison work (seed 四.1).

:func:`liaison_record` reads it as the acting account may; :func:`record_json` is its
stable JSON form; :func:`record_report` the same figures as report tables, which
:func:`write_record` prints to Word, Excel or PDF (Word converted by LibreOffice).
:func:`record_summary` is the yearly table across a special committee or a sector.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import col

from crm_core import authz
from crm_core.errors import TongxinError, ValidationError
from crm_core.i18n import N_, _, language
from crm_core.models import (
    Account,
    FollowUp,
    FollowUpStatus,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Person,
    Rsvp,
)
from crm_core.reports import Column, Period, ReportSpec, ReportTable, Section
from crm_core.services import contacts
from crm_core.unit import Unit

__all__ = [
    "BRIEFING_KINDS",
    "GATHERING_KINDS",
    "LiaisonRecord",
    "liaison_record",
    "record_json",
    "record_report",
    "record_summary",
    "write_record",
]

# The kinds the record lists apart (the union-liaison plugin's); talks are every
# confidential kind, and the heart-to-heart talk.
GATHERING_KINDS = ("gathering",)
BRIEFING_KINDS = ("briefing",)
TALK_KINDS = ("heart_talk",)
HANDLED = (FollowUpStatus.answered, FollowUpStatus.closed)


class RecordOutputError(TongxinError):
    """The record cannot be written in the asked format, or LibreOffice is missing."""


@dataclass
class LiaisonRecord:
    """One person's liaison record for a period (see the module)."""

    person: Person
    period: Period
    contacts: list[dict[str, Any]] = field(default_factory=list)
    by_kind: list[dict[str, Any]] = field(default_factory=list)
    by_whom: list[dict[str, Any]] = field(default_factory=list)
    talks: list[dict[str, Any]] = field(default_factory=list)
    concerns: list[dict[str, Any]] = field(default_factory=list)
    gatherings: list[dict[str, Any]] = field(default_factory=list)
    briefings: list[dict[str, Any]] = field(default_factory=list)


def _kind_label(unit: Unit, code: str) -> str:
    spec = unit.kinds.get(code)
    return spec.label(language()) if spec else code


def _is_talk(unit: Unit, i: Interaction) -> bool:
    spec = unit.kinds.get(i.kind)
    return i.confidential or i.kind in TALK_KINDS or bool(spec and spec.confidential)


def _interactions(unit: Unit, person_id: uuid.UUID, period: Period) -> list[Interaction]:
    lo, hi = period.bounds(unit.config.tz)
    return list(
        unit.session.scalars(
            select(Interaction)
            .join(
                InteractionParticipant, col(InteractionParticipant.interaction_id) == Interaction.id
            )
            .where(
                col(InteractionParticipant.person_id) == person_id,
                col(Interaction.status) == InteractionStatus.done,
                col(Interaction.start_at) >= lo,
                col(Interaction.start_at) < hi,
                *authz.interaction_scope(unit),
            )
            .order_by(col(Interaction.start_at), col(Interaction.id))
        )
    )


def _by(unit: Unit, items: list[Interaction]) -> dict[uuid.UUID, list[str]]:
    """Who did each interaction: its accounts taking part, else whoever recorded it."""
    ids = [i.id for i in items]
    names = {a.id: a.display_name for a in unit.session.scalars(select(Account))}
    out: dict[uuid.UUID, list[str]] = {i.id: [] for i in items}
    rows = unit.session.execute(
        select(col(InteractionParticipant.interaction_id), col(InteractionParticipant.account_id))
        .where(
            col(InteractionParticipant.interaction_id).in_(ids),
            col(InteractionParticipant.account_id).is_not(None),
        )
        .order_by(col(InteractionParticipant.id))
    )
    for iid, aid in rows:
        out[iid].append(names.get(aid, str(aid)))
    for i in items:
        if not out[i.id] and i.created_by_id in names:
            out[i.id].append(names[i.created_by_id])
    return out


def _attended(unit: Unit, person_id: uuid.UUID, i: Interaction) -> bool:
    p = unit.session.scalars(
        select(InteractionParticipant).where(
            col(InteractionParticipant.interaction_id) == i.id,
            col(InteractionParticipant.person_id) == person_id,
        )
    ).first()
    if p is None or p.attended is False:
        return False
    return p.attended is True or p.rsvp != Rsvp.declined


def liaison_record(unit: Unit, person_id: uuid.UUID | str, period: Period) -> LiaisonRecord:
    """The liaison record of one person for ``period`` (done work only), as the acting
    account may see it: county staff only for a person of their region; a confidential
    talk they may not read shows its day, kind and who held it, never its content, nor
    the titles of the concerns raised in it."""
    person = contacts.get_person(unit, person_id)
    rec = LiaisonRecord(person, period)
    items = _interactions(unit, person.id, period)
    seen = authz.shown_all(unit, items)
    by = _by(unit, items)
    tz = unit.config.tz
    kinds: Counter[str] = Counter()
    whom: Counter[str] = Counter()
    for i in items:
        entry = {
            "id": str(i.id),
            "day": i.start_at.astimezone(tz).date().isoformat(),
            "kind": i.kind,
            "kind_label": _kind_label(unit, i.kind),
            "by": by[i.id],
            "summary": seen[i.id].headline,
            "hidden": seen[i.id].hidden,
            "confidential": i.confidential,
        }
        rec.contacts.append(entry)
        kinds[i.kind] += 1
        whom.update(dict.fromkeys(by[i.id], 1))
        if _is_talk(unit, i):
            rec.talks.append(entry)
        if i.kind in GATHERING_KINDS and _attended(unit, person.id, i):
            rec.gatherings.append(entry)
        if i.kind in BRIEFING_KINDS:
            rec.briefings.append(entry)
    rec.by_kind = [
        {"kind": k, "label": _kind_label(unit, k), "count": n} for k, n in kinds.most_common()
    ]
    rec.by_whom = [{"name": name, "count": n} for name, n in whom.most_common()]
    rec.concerns = _concerns(unit, person, period, items, seen)
    return rec


def _concerns(
    unit: Unit, person: Person, period: Period, items: list[Interaction], seen: dict[uuid.UUID, Any]
) -> list[dict[str, Any]]:
    lo, hi = period.bounds(unit.config.tz)
    in_period = [i.id for i in items]
    rows = unit.session.scalars(
        select(FollowUp)
        .where(
            or_(
                (col(FollowUp.person_id) == person.id)
                & (col(FollowUp.created_at) >= lo)
                & (col(FollowUp.created_at) < hi),
                col(FollowUp.interaction_id).in_(in_period),
            ),
            *authz.follow_up_scope(unit),
        )
        .order_by(col(FollowUp.created_at), col(FollowUp.id))
    )
    owners = {a.id: a.display_name for a in unit.session.scalars(select(Account))}
    hidden_talks = {i.id for i in items if seen[i.id].hidden}
    out = []
    for f in rows:
        hidden = f.interaction_id in hidden_talks or _hidden_elsewhere(unit, f)
        out.append(
            {
                "id": str(f.id),
                "raised": f.created_at.astimezone(unit.config.tz).date().isoformat(),
                "title": _("(confidential)") if hidden else f.title,
                "status": f.status.value,
                "status_label": _(f.status.value),
                "handled": f.status in HANDLED,
                "owner": owners.get(f.owner_id) if f.owner_id else None,
                "response": None if hidden else f.response,
                "answered_on": f.answered_on.isoformat() if f.answered_on else None,
                "closed_on": f.closed_on.isoformat() if f.closed_on else None,
                "hidden": hidden,
            }
        )
    return out


def _hidden_elsewhere(unit: Unit, f: FollowUp) -> bool:
    # A concern raised in a confidential talk outside the period is hidden alike.
    if f.interaction_id is None:
        return False
    i = unit.session.get(Interaction, f.interaction_id)
    return i is not None and i.confidential and not authz.can_read_notes(unit, i)


def record_json(rec: LiaisonRecord) -> dict[str, Any]:
    """The stable JSON form of a liaison record (docs/cli-json.md): the figures
    (``totals``) and every list they count."""
    return {
        "person": {"id": str(rec.person.id), "name": rec.person.name},
        "period": rec.period.as_json(),
        "totals": _totals(rec),
        "by_kind": rec.by_kind,
        "by_whom": rec.by_whom,
        "contacts": rec.contacts,
        "talks": rec.talks,
        "concerns": rec.concerns,
        "gatherings": rec.gatherings,
        "briefings": rec.briefings,
    }


def _totals(rec: LiaisonRecord) -> dict[str, int]:
    return {
        "contacts": len(rec.contacts),
        "talks": len(rec.talks),
        "concerns": len(rec.concerns),
        "concerns_handled": sum(1 for c in rec.concerns if c["handled"]),
        "gatherings": len(rec.gatherings),
        "briefings": len(rec.briefings),
    }


_TOTAL_WORDS = {
    "contacts": ("联系次数", "Contacts"),
    "talks": ("谈心谈话", "Talks"),
    "concerns": ("反映问题", "Concerns raised"),
    "concerns_handled": ("已办理", "Concerns handled"),
    "gatherings": ("参加联谊活动", "Gatherings attended"),
    "briefings": ("接受宣讲通报", "Briefings received"),
}


def _list_section(key: str, zh: str, en: str, rows: list[dict[str, Any]]) -> Section:
    cols = [
        Column("day", "日期", "Day"),
        Column("kind_label", "方式", "Kind"),
        Column("by", "联系人", "By", "list"),
        Column("summary", "内容", "Summary"),
    ]
    return Section(key, zh, en, cols, rows)


def _printed_only(unit: Unit, period: Period) -> ReportTable:
    # A record is built by liaison_record, not run as a report: its spec only titles it.
    raise RecordOutputError("a liaison record is not run as a report")


def record_report(rec: LiaisonRecord) -> tuple[ReportSpec, ReportTable]:
    """The record as report tables (:mod:`crm_core.reports.output` prints them)."""
    name = rec.person.name
    spec = ReportSpec("record", f"{name} 联系档案", f"Liaison record of {name}", _printed_only)
    totals = _totals(rec)
    figures = Section(
        "totals", "概况", "Figures",
        [Column("what", "项目", "Item"), Column("count", "数量", "Count", "int")],
        [{"what": _TOTAL_WORDS[k][1 if language() == "en" else 0], "count": v}
         for k, v in totals.items()],
    )  # fmt: skip
    kinds = Section(
        "by_kind", "按联系方式", "By kind",
        [Column("label", "方式", "Kind"), Column("count", "次数", "Count", "int")], rec.by_kind,
    )  # fmt: skip
    whom = Section(
        "by_whom", "按联系人", "By whom",
        [Column("name", "联系人", "By"), Column("count", "次数", "Count", "int")], rec.by_whom,
    )  # fmt: skip
    concerns = Section(
        "concerns", "反映问题及办理情况", "Concerns raised and how each was handled",
        [Column("raised", "提出日期", "Raised"), Column("title", "问题", "Concern"),
         Column("status_label", "办理状态", "Status"), Column("owner", "承办人", "Owner"),
         Column("response", "办理结果", "Response"), Column("answered_on", "答复日期", "Answered")],
        rec.concerns,
    )  # fmt: skip
    sections = [
        figures, kinds, whom,
        _list_section("contacts", "联系记录", "Every contact", rec.contacts),
        _list_section("talks", "谈心谈话", "Talks", rec.talks),
        concerns,
        _list_section("gatherings", "参加联谊活动", "Gatherings attended", rec.gatherings),
        _list_section("briefings", "接受宣讲通报", "Briefings received", rec.briefings),
    ]  # fmt: skip
    return spec, ReportTable(sections, summary=totals)


def write_record(rec: LiaisonRecord, path: Path | str, *, lang: str = "zh") -> Path:
    """Print the record to ``path``: .docx, .xlsx, or .pdf (the Word document converted
    by LibreOffice, which must be installed)."""
    from crm_core.reports.output import write_report

    path = Path(path)
    spec, table = record_report(rec)
    if path.suffix.lower() != ".pdf":
        if path.suffix.lower() not in (".docx", ".xlsx"):
            raise RecordOutputError(
                _("cannot write a record as {name}: use .docx, .pdf or .xlsx").format(
                    name=path.name
                )
            )
        return write_report(spec, rec.period, table, path, lang=lang)
    with tempfile.TemporaryDirectory(prefix="tongxin-record-") as tmp:
        docx = Path(tmp) / (path.stem + ".docx")
        write_report(spec, rec.period, table, docx, lang=lang)
        to_pdf(docx, path)
    return path


def to_pdf(source: Path, target: Path, *, profile: Path | None = None) -> Path:
    """Convert a document to PDF with LibreOffice (headless), into ``target``; its own
    user profile (``profile``, or a temporary one) so a running LibreOffice is left alone."""
    soffice = shutil.which("libreoffice") or shutil.which("soffice")
    if not soffice:
        raise RecordOutputError(
            _("printing to PDF needs LibreOffice (libreoffice or soffice on the PATH)")
        )
    with tempfile.TemporaryDirectory(prefix="tongxin-pdf-") as tmp:
        user = profile or Path(tmp) / "profile"
        result = subprocess.run(
            [soffice, f"-env:UserInstallation={user.as_uri()}", "--headless", "--convert-to",
             "pdf", "--outdir", tmp, str(source)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        made = Path(tmp) / (source.stem + ".pdf")
        if result.returncode != 0 or not made.exists():
            raise RecordOutputError(
                _("LibreOffice could not convert {name}: {why}").format(
                    name=source.name, why=(result.stderr or result.stdout).strip()[:300]
                )
            )
        shutil.copyfile(made, target)
    return target


def record_summary(
    unit: Unit, period: Period, *, committee: str | None = None, sector: str | None = None
) -> tuple[ReportSpec, ReportTable]:
    """The yearly summary across the people of a special committee or a sector (codes
    or labels): one row per person with the figures of their liaison record."""
    if not committee and not sector:
        raise ValidationError.one("--committee", None, N_("give --committee or --sector"))
    filters = contacts.resolve_filters(unit, committee=committee, sector=sector)
    people = contacts.list_people(unit, limit=100_000, offset=0, **filters).items
    rows: list[dict[str, Any]] = []
    for p in people:
        rec = liaison_record(unit, p.id, period)
        kinds = "、".join(f"{k['label']} {k['count']}" for k in rec.by_kind)
        rows.append({"name": p.name, "id": str(p.id), **_totals(rec), "kinds": kinds})
    cols = [Column("name", "姓名", "Name")] + [
        Column(k, zh, en, "int") for k, (zh, en) in _TOTAL_WORDS.items()
    ] + [Column("kinds", "按方式", "By kind")]  # fmt: skip
    group = (
        unit.config.vocab["committees"].get(filters["committee"])
        if "committee" in filters
        else unit.config.vocab["sectors"].get(filters["sector"])
    )
    title = group.label(language()) if group else ""
    spec = ReportSpec(
        "record_summary", f"{title} 联系档案汇总", f"Liaison records: {title}", _printed_only
    )
    total = {k: sum(r[k] for r in rows) for k in _TOTAL_WORDS}
    return spec, ReportTable(
        [Section("people", "逐人汇总", "By person", cols, rows)],
        summary={"people": len(rows), **total},
    )
