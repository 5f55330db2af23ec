"""Planning an import: each row read, matched against stored people and earlier rows,
and turned into the values to write (nothing is written here)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm_core.i18n import N_, _
from crm_core.models import Person

# The reading stages live in planner_read (issue 17: no class over 450 lines).
from crm_core.roster.links import RowLinks, take_links
from crm_core.roster.planner_read import _Reader
from crm_core.roster.planner_read import _Row as _Row
from crm_core.roster.report import CellError, Duplicate, Progress, RowOutcome
from crm_core.roster.settle import settle
from crm_core.roster.sheets import (
    OnDuplicate,
    Sheet,
)
from crm_core.roster.unknowns import UnknownPolicy
from crm_core.services import contacts
from crm_core.unit import Unit

# -- planning ------------------------------------------------------------------------

PREVIEW_ROWS = 5

_SCALARS = (
    "name",
    "gender",
    "birth",
    "ethnicity",
    "party",
    "sector",
    "region",
    "employer",
    "title",
    "mobile",
    "email",
    "address",
    "membership",
    "notes",
)


@dataclass
class _Target:
    """A person the import writes: a new one (``person_id`` None) or a stored one."""

    first_row: int
    person_id: uuid.UUID | None
    base: dict[str, Any]  # the stored values (empty for a new person)
    state: dict[str, Any]  # the values after the rows applied so far
    description: str = ""
    skipped: bool = False  # the user chose to leave this person alone (ask mode)


def _canonical(person: Person, cats: list[str], comms: list[str]) -> dict[str, Any]:
    birth = None
    if person.birth_year:
        birth = f"{person.birth_year:04d}" + (
            f"-{person.birth_month:02d}" if person.birth_month else ""
        )
    gender = person.gender.value if person.gender else None
    return {
        "name": person.name,
        "gender": gender,
        "birth": birth,
        "ethnicity": person.ethnicity,
        "party": person.party,
        "sector": person.sector,
        "region": person.region,
        "employer": person.employer,
        "title": person.title,
        "mobile": person.mobile,
        "phones": tuple(person.phones),
        "email": person.email,
        "address": person.address,
        "membership": person.membership.value,
        "notes": person.notes,
        "categories": tuple(sorted(cats)),
        "committees": tuple(sorted(comms)),
        "roster": dict((person.extra or {}).get("roster") or {}),
        "_extra": dict(person.extra or {}),
    }


class _Planner(_Reader):
    """Plans an import: the rows read (:class:`_Reader`), then matched against stored
    people and earlier rows, row by row."""

    def __init__(
        self,
        unit: Unit,
        sheet: Sheet,
        *,
        file: str,
        mapping: dict[str, str] | None,
        membership: str | None,
        on_duplicate: OnDuplicate,
        decide: Callable[[Duplicate], str] | None,
        dry_run: bool,
        progress: Progress | None,
        policy: UnknownPolicy | None = None,
        keep_partial: bool = False,
    ) -> None:
        super().__init__(
            unit,
            sheet,
            file=file,
            mapping=mapping,
            membership=membership,
            dry_run=dry_run,
            progress=progress,
            keep_partial=keep_partial,
        )
        self.on_duplicate = on_duplicate
        self.decide = decide
        self.policy = policy or UnknownPolicy()
        self.dry_run = dry_run
        # sheet row -> its 标签 and 关系 cells (crm_core.roster.links)
        self.row_links: dict[int, RowLinks] = {}
        self.stored_names: dict[str, list[uuid.UUID]] = {}

    # duplicates ------------------------------------------------------------------

    def plan(self) -> tuple[list[_Target], dict[uuid.UUID, _Target]]:
        """Decide, row by row, whom each good row creates or changes."""
        rows = settle(self, self._rows(), self.policy, self.dry_run)
        # The first rows as read (codes, E.164 phones …), for a preview before importing.
        self.report.preview = [(r.row, dict(r.values)) for r in rows[:PREVIEW_ROWS]]
        stored = contacts.person_keys(self.unit)
        by_key: dict[tuple[str, int | None, int | None], list[uuid.UUID]] = {}
        by_mobile: dict[str, list[uuid.UUID]] = {}
        by_name: dict[str, list[uuid.UUID]] = {}
        for k in stored:
            by_key.setdefault((k.name, k.birth_year, k.birth_month), []).append(k.id)
            if k.mobile:
                by_mobile.setdefault(k.mobile, []).append(k.id)
            by_name.setdefault(k.name, []).append(k.id)
        self.stored_names = by_name
        take_links(self, rows, by_name)
        # Which stored people do the rows name? Load them (and only them) at once.
        matched: set[uuid.UUID] = set()
        for r in rows:
            if not r.errors and not r.unknown and not r.left_out:
                matched.update(by_key.get(_key(r.values), ()))
                matched.update(by_mobile.get(r.values.get("mobile") or "", ()))
        self.people, cats, comms = contacts.people_by_ids(self.unit, matched)
        self.links = (cats, comms)
        file_key: dict[tuple[str, int | None, int | None], _Target] = {}
        file_mobile: dict[str, _Target] = {}
        file_name: dict[str, list[int]] = {}
        db_targets: dict[uuid.UUID, _Target] = {}
        new_targets: list[_Target] = []
        report = self.report
        for r in rows:
            name = r.values.get("name", "")
            if r.errors:
                report.errors += r.errors
                report.outcomes.append(RowOutcome(r.row, name, "refuse"))
                report.raw_rows[r.row] = r.raw
                continue
            if r.left_out or r.unknown:
                # Not bad: left out by choice, or waiting for an answer about a value.
                action = "left_out" if r.left_out else "pending"
                report.outcomes.append(RowOutcome(r.row, name, action))
                continue
            key = _key(r.values)
            mobile = r.values.get("mobile")
            # 1. someone an earlier row of the file named
            target = self._pick(r, file_key.get(key), file_mobile.get(mobile or ""))
            if target is None:
                # 2. someone stored
                ids_k = by_key.get(key, [])
                ids_m = by_mobile.get(mobile, []) if mobile else []
                if len(ids_m) > 1:
                    who = "; ".join(self._describe(ids_m))
                    self._refuse(
                        r,
                        "mobile",
                        _("several stored people have this mobile: {who}").format(who=who),
                    )
                    continue
                if len(ids_k) > 1:
                    both = [i for i in ids_k if i in ids_m]
                    if len(both) != 1:
                        who = "; ".join(self._describe(ids_k))
                        self._refuse(
                            r,
                            "name",
                            _("several stored people have this name and birth month: {who}; "
                              "merge them first").format(who=who),
                        )  # fmt: skip
                        continue
                    ids_k = both
                target = self._pick(
                    r,
                    self._db_target(db_targets, ids_k[0]) if ids_k else None,
                    self._db_target(db_targets, ids_m[0]) if ids_m else None,
                )
                if isinstance(target, _Target) and target.first_row == 0:
                    target.first_row = r.row
            if target is False:
                continue
            if isinstance(target, _Target):
                if r.row in self.row_links:
                    self.row_links[r.row].target = target
                self._apply(r, target)
                file_key.setdefault(key, target)
                if mobile:
                    file_mobile.setdefault(mobile, target)
                continue
            # 3. a new person
            new = _Target(r.row, None, {}, dict(r.values))
            if r.row in self.row_links:
                self.row_links[r.row].target = new
            outcome = RowOutcome(r.row, name, "create")
            stored_namesakes = by_name.get(name)
            file_namesakes = file_name.get(name)
            if stored_namesakes or file_namesakes:
                outcome.namesakes = self._describe(stored_namesakes or []) + [
                    f"row {x}" for x in file_namesakes or []
                ]
                if file_namesakes is None:
                    file_name[name] = [r.row]
                else:
                    file_namesakes.append(r.row)
            else:
                file_name[name] = [r.row]
            report.outcomes.append(outcome)
            new_targets.append(new)
            file_key.setdefault(key, new)
            if mobile:
                file_mobile.setdefault(mobile, new)
        return new_targets, db_targets

    def _describe(self, ids: list[uuid.UUID]) -> list[str]:
        out = []
        for pid in ids:
            p = self.people.get(pid) or self.unit.session.get(Person, pid)
            if p is not None:
                out.append(contacts.describe(p))
        return out

    def _db_target(self, targets: dict[uuid.UUID, _Target], pid: uuid.UUID) -> _Target:
        # One target per stored person, whichever key finds it; ``first_row`` stays 0
        # until a row is applied to it.
        if pid not in targets:
            person = self.people[pid]
            cats, comms = self.links
            base = _canonical(person, cats.get(pid, []), comms.get(pid, []))
            targets[pid] = _Target(0, pid, base, dict(base), contacts.describe(person))
        return targets[pid]

    def _pick(
        self, r: _Row, by_key: _Target | None, by_mobile: _Target | None
    ) -> _Target | bool | None:
        """The person a row names (by name and birth month, else by mobile), None for
        nobody known, or False when the row was refused for naming two different people
        (or a mobile someone else has)."""
        if by_key is not None and by_mobile is not None and by_key is not by_mobile:
            self._refuse(
                r,
                "mobile",
                _("the name and birth month match {first}, but the mobile belongs to "
                  "{second}").format(first=self._who(by_key), second=self._who(by_mobile)),
            )  # fmt: skip
            return False
        if by_key is not None:
            r.how = N_("name and birth month")
            return by_key
        if by_mobile is not None:
            if r.values.get("name") != by_mobile.state.get("name"):
                self._refuse(
                    r,
                    "mobile",
                    _("this mobile belongs to {owner}, a different name; correct one of "
                      "them (or merge the people) and import again").format(
                        owner=self._who(by_mobile)
                    ),
                )  # fmt: skip
                return False
            r.how = N_("mobile")
            return by_mobile
        return None

    @staticmethod
    def _who(target: _Target) -> str:
        if target.person_id is not None and target.first_row == 0:
            return target.description
        if target.person_id is not None:
            return f"{target.description} (" + _("row {row}").format(row=target.first_row) + ")"
        return _("row {row}").format(row=target.first_row)

    def _refuse(self, r: _Row, field_name: str, reason: str) -> None:
        col_ = next((c for c in self.report.columns if c.field == field_name), None)
        if col_ is None and field_name == "mobile":
            col_ = next((c for c in self.report.columns if c.field == "phone"), None)
        header = col_.header if col_ else field_name
        value = r.raw[col_.index] if col_ and col_.index < len(r.raw) else ""
        self.report.errors.append(CellError(r.row, header, value, reason))
        self.report.outcomes.append(RowOutcome(r.row, r.values.get("name", ""), "refuse"))
        self.report.raw_rows[r.row] = r.raw

    def _apply(self, r: _Row, target: _Target) -> None:
        view = _merged_view(target.state, r.values)
        changes = {k: (target.state.get(k), v) for k, v in view.items() if target.state.get(k) != v}
        first_touch = target.first_row == r.row  # only for a stored person
        action = "update" if changes else "unchanged" if first_touch else "duplicate"
        of = N_("database") if first_touch else f"row {target.first_row}"
        outcome = RowOutcome(
            r.row, r.values.get("name", ""), action, target.person_id, of, r.how, sorted(changes)
        )
        if changes:
            choice = self.on_duplicate.value
            if choice == "ask" and target.skipped:
                choice = "skip"  # asked once for this person already: not again
            elif choice == "ask":
                assert self.decide is not None
                existing = self._who(target) if not first_touch else target.description
                choice = self.decide(
                    Duplicate(r.row, outcome.name, existing, (_(r.how) if r.how else ""), changes)
                )
            if choice == "skip":
                target.skipped = True
                outcome.action = "skip"
                self.report.outcomes.append(outcome)
                return
            target.state.update(view)
        self.report.outcomes.append(outcome)


def _merged_view(state: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    # A non-empty cell replaces the stored value; the roster's extra columns are added
    # to those already kept.
    out = dict(values)
    if "roster" in values:
        out["roster"] = {**(state.get("roster") or {}), **values["roster"]}
    return out


def _key(values: dict[str, Any]) -> tuple[str, int | None, int | None]:
    birth = values.get("birth")
    year = int(birth[:4]) if birth else None
    month = int(birth[5:]) if birth and len(birth) > 4 else None
    return values.get("name", ""), year, month


def _fields_for_service(state: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The PersonFields values that make a stored person (``base``) like ``state``."""
    out: dict[str, Any] = {}
    for k in (*_SCALARS, "phones", "categories", "committees"):
        if k in state and state[k] != base.get(k):
            v = state[k]
            out[k] = list(v) if isinstance(v, tuple) else v
    if "roster" in state and state["roster"] != base.get("roster"):
        out["extra"] = {**base.get("_extra", {}), "roster": state["roster"]}
    return out


def _create_fields(state: dict[str, Any]) -> dict[str, Any]:
    """The PersonFields values of a new person (lists where the state keeps tuples)."""
    out = {k: (list(v) if type(v) is tuple else v) for k, v in state.items() if k != "roster"}
    if "roster" in state:
        out["extra"] = {"roster": state["roster"]}
    return out


# -- the import ----------------------------------------------------------------------
