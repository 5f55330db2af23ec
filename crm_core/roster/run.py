"""Running an import: validate the options, read, plan, write in the unit's transaction."""

from __future__ import annotations

import gc
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from crm_core.errors import ValidationError
from crm_core.i18n import _
from crm_core.roster.links import write_links
from crm_core.roster.planner import _create_fields, _fields_for_service, _Planner, _Target
from crm_core.roster.report import Duplicate, ImportReport, Progress
from crm_core.roster.sheets import FIELDS, OnDuplicate, read_sheet
from crm_core.roster.unknowns import UnknownPolicy
from crm_core.services import contacts
from crm_core.sheetguard import RosterError
from crm_core.unit import Unit


def import_roster(
    unit: Unit,
    path: Path | str,
    *,
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    on_duplicate: OnDuplicate | str = OnDuplicate.update,
    dry_run: bool = False,
    membership: str | None = None,
    decide: Callable[[Duplicate], str] | None = None,
    progress: Progress | None = None,
    unknowns: UnknownPolicy | None = None,
    keep_partial: bool = False,
) -> ImportReport:
    """Import the people of a roster file into the unit's transaction.

    ``mapping`` maps a header (as written in the file) to a field of :data:`FIELDS` for
    columns that are not recognised, or to override a recognised one. ``on_duplicate``
    says what to do with a row naming a person already stored or already read from the
    file (same normalised name and birth month, or same mobile): ``update`` fills in and
    replaces fields with the row's non-empty cells, ``skip`` leaves them, ``ask`` calls
    ``decide(Duplicate)`` for each one that would change something and expects
    ``"update"`` or ``"skip"``. ``membership`` (``standing``/``member``/``none``) is
    given to people whose row does not say. With ``dry_run`` nothing is written; the
    report says what would be. ``progress(stage, done, total)`` is called as rows are
    read (``read``) and written (``write``).

    ``unknowns`` says how values the vocabularies do not know are answered (added,
    mapped, left out: :mod:`crm_core.roster.unknowns`); their rows are ``pending``, not
    refused, until answered, and the answers are written to the office's config file
    (not in a dry run). ``keep_partial``: a row with bad cells is imported without them
    (``report.dropped``) instead of refused, as long as its name is good.
    """
    on_duplicate = OnDuplicate(on_duplicate)
    if mapping:
        bad = {h: f for h, f in mapping.items() if f not in FIELDS}
        if bad:
            raise ValidationError.one(
                "--map",
                ", ".join(f"{h}={f}" for h, f in bad.items()),
                _("unknown field; the fields are: {fields}").format(fields=", ".join(FIELDS)),
            )
    if membership is not None and membership not in ("standing", "member", "none"):
        raise ValidationError.one("--membership", membership, "standing, member or none")
    if on_duplicate is OnDuplicate.ask and decide is None:
        raise RosterError(_("--on-duplicate ask needs someone to ask"))
    # The import makes hundreds of thousands of small objects and keeps most of them to
    # the end: the cyclic garbage collector would walk them all again and again (a
    # fifth of the time at 100,000 rows) to find almost nothing.
    with _collector_paused():
        data = read_sheet(path, sheet, limits=unit.config.import_limits)
        planner = _Planner(
            unit,
            data,
            file=str(path),
            mapping=mapping,
            membership=membership,
            on_duplicate=on_duplicate,
            decide=decide,
            dry_run=dry_run,
            progress=progress,
            policy=unknowns,
            keep_partial=keep_partial,
        )
        new_targets, db_targets = planner.plan()
        report = planner.report
        report.outcomes.sort(key=lambda o: o.row)
        report.errors.sort(key=lambda e: e.row)
        if not dry_run:
            _write(unit, new_targets, db_targets, progress)
            write_links(unit, planner, planner.stored_names)
    if dry_run:
        return report
    created = {t.first_row: t.person_id for t in new_targets}
    first_row_of = {o.row: o for o in report.outcomes}
    for o in report.outcomes:
        if o.person_id is None and o.action == "create":
            o.person_id = created.get(o.row)
        elif o.person_id is None and o.duplicate_of and o.action in ("duplicate", "skip"):
            m = re.search(r"(\d+)$", o.duplicate_of)
            if m and int(m.group(1)) in first_row_of:
                o.person_id = first_row_of[int(m.group(1))].person_id
    return report


@contextmanager
def _collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _write(
    unit: Unit,
    new_targets: list[_Target],
    db_targets: dict[uuid.UUID, _Target],
    progress: Progress | None,
) -> None:
    """Write the plan: new people in bulk, changed people one by one (only real changes)."""
    rows = [_create_fields(t.state) for t in new_targets]

    def written(done: int, total: int) -> None:
        if progress:
            progress("write", done, total)

    with contacts.bulk_writing(unit):
        ids = contacts.bulk_create_people(unit, rows, progress=written)
        for target, pid in zip(new_targets, ids, strict=True):
            target.person_id = pid
        for target in db_targets.values():
            changes = _fields_for_service(target.state, target.base)
            if changes:
                assert target.person_id is not None
                contacts.update_person(unit, target.person_id, **changes)
        unit.session.flush()
