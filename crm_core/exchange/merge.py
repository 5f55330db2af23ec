"""``tongxin exchange import``: a county's bundle merged into this database, three-way.

For each row of the bundle, against this database's row of the same UUID and the base
(``exchange_row``: the version and content hash of that row in the last bundle of the
same installation):

- no such row here: it is **added** (with the bundle's UUID);
- the same content here: nothing to do (**unchanged**);
- changed there only (the bundle's content is not the base, ours is): **updated**;
- changed here only: ours is kept (**kept_ours**);
- changed on both sides: a **conflict**, listed field by field and left alone, unless
  ``prefer`` is "theirs" (the bundle's row wins) or "ours" (ours stays, and the bundle's
  row becomes the base, so it is not offered again).

Without a base (the first bundle of an installation that shares rows with this one, e.g.
a copy of the same database) the versions decide: the higher one is the changed side,
equal versions with different content are a conflict.

Accounts are named by username and matched to this database's accounts; a participant,
owner or author that has no account here is left out (an assignment whose keeper has
none is skipped, with a reason). People this import adds that the duplicate rules
(:func:`crm_core.services.duplicates.find_duplicates`) pair with a person already here
are **merge candidates**, never merged automatically. Everything is one transaction;
``dry_run`` reports the same and writes nothing.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlmodel import col

from crm_core import authz, clock
from crm_core.errors import ValidationError
from crm_core.exchange import rows as rowsmod
from crm_core.exchange.bundle import Bundle, BundleRefused, read_bundle, signing_key
from crm_core.exchange.export import installation_id
from crm_core.exchange_models import ExchangePeer, ExchangeRow
from crm_core.i18n import N_, _
from crm_core.models import (
    Account,
    FollowUpStatus,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Person,
    Rsvp,
)
from crm_core.services import contacts, duplicates
from crm_core.unit import Unit

Prefer = Literal["theirs", "ours"] | None
DATETIMES = {"start_at", "end_at"}
DATES = {"due_on", "answered_on", "closed_on", "start_on", "end_on", "snoozed_until"}


@dataclass
class Conflict:
    """A row changed on both sides: the fields that differ (ours, theirs), and how it
    was settled ("theirs", "ours", or None: left alone)."""

    entity: str
    id: str
    fields: list[dict[str, Any]]
    resolution: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The JSON form (docs/cli-json.md)."""
        return {
            "entity": self.entity,
            "id": self.id,
            "fields": self.fields,
            "resolution": self.resolution,
        }


@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    peer: str
    region: str
    bundle: str
    dry_run: bool
    added: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    kept_ours: Counter[str] = field(default_factory=Counter)
    conflicts: list[Conflict] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    merge_candidates: list[dict[str, Any]] = field(default_factory=list)
    confidential_refused: int = 0

    @property
    def conflicts_remaining(self) -> int:
        """How many conflicts were left alone (``prefer`` not given)."""
        return sum(1 for c in self.conflicts if c.resolution is None)

    def as_json(self) -> dict[str, Any]:
        """The JSON form (docs/cli-json.md): every entity counted, zeros included."""

        def counts(c: Counter[str]) -> dict[str, int]:
            return {e: c[e] for e in rowsmod.ENTITIES}

        return {
            "peer": self.peer,
            "region": self.region,
            "bundle": self.bundle,
            "dry_run": self.dry_run,
            "added": counts(self.added),
            "updated": counts(self.updated),
            "unchanged": counts(self.unchanged),
            "kept_ours": counts(self.kept_ours),
            "conflicts": [c.as_json() for c in self.conflicts],
            "conflicts_remaining": self.conflicts_remaining,
            "merge_candidates": self.merge_candidates,
            "skipped": self.skipped,
            "confidential_refused": self.confidential_refused,
        }


def _bad(row: dict[str, Any], name: str, value: Any) -> ValidationError:
    return ValidationError.one(
        f"{row['entity']} {row['id']}: {name}", value, N_("is not a valid value in a bundle")
    )


def _value(row: dict[str, Any], name: str, value: Any) -> Any:
    """A JSON value as the column takes it (times, dates)."""
    if value is None:
        return None
    try:
        if name in DATETIMES:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError(value)
            return parsed
        if name in DATES:
            return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _bad(row, name, value) from None
    return value


class _Context:
    """What resolving a bundle's references needs: this database's accounts by
    username, and the people and interactions that exist here or come in the bundle."""

    def __init__(self, unit: Unit, bundle: Bundle, refused: set[str]) -> None:
        self.accounts = {
            name: i
            for i, name in unit.session.execute(select(col(Account.id), col(Account.username)))
        }
        incoming: dict[str, set[str]] = {e: set() for e in rowsmod.ENTITIES}
        for row in bundle.rows:
            if row["id"] not in refused:
                incoming.setdefault(row["entity"], set()).add(row["id"])
        self.incoming = incoming
        wanted_people: set[str] = set()
        wanted_work: set[str] = set()
        for row in bundle.rows:
            f = row["fields"]
            if row["entity"] == "interaction":
                wanted_people |= {p.get("person") for p in f.get("participants", [])} - {None}
            elif row["entity"] == "follow_up":
                wanted_people |= {f.get("person")} - {None}
                wanted_work |= {f.get("interaction")} - {None}
            elif row["entity"] == "assignment":
                wanted_people.add(f.get("contact"))
        self.people = incoming["person"] | _existing(unit, Person, wanted_people)
        self.work = incoming["interaction"] | _existing(unit, Interaction, wanted_work)

    def account(self, name: str | None) -> str | None:
        return name if name in self.accounts else None


def _existing(unit: Unit, model: Any, ids: set[Any]) -> set[str]:
    found: set[str] = set()
    wanted = []
    for i in ids:
        try:
            wanted.append(uuid.UUID(str(i)))
        except ValueError:
            continue
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found |= {str(i) for i in unit.session.scalars(select(model.id).where(model.id.in_(chunk)))}
    return found


def _resolved(ctx: _Context, row: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The row's fields with references this database cannot hold left out; or None and
    the reason the row is skipped."""
    f = dict(row["fields"])
    entity = row["entity"]
    if entity == "interaction":
        f["created_by"] = ctx.account(f.get("created_by"))
        parts = []
        for p in f.get("participants", []):
            p = {**p, "account": ctx.account(p.get("account"))}
            if p.get("person") is not None and p["person"] not in ctx.people:
                p["person"] = None
            if p["person"] or p["account"]:
                parts.append(p)
        f["participants"] = sorted(parts, key=rowsmod.participant_key)
    elif entity == "follow_up":
        f["owner"] = ctx.account(f.get("owner"))
        if f.get("person") not in ctx.people:
            f["person"] = None
        if f.get("interaction") not in ctx.work:
            f["interaction"] = None
    elif entity == "assignment":
        if f.get("keeper") not in ctx.accounts:
            return None, "keeper_unknown"
        if f.get("contact") not in ctx.people:
            return None, "contact_unknown"
    return f, None


def _check_row(unit: Unit, row: dict[str, Any]) -> uuid.UUID:
    if row["entity"] not in rowsmod.ENTITIES:
        raise _bad(row, "entity", row["entity"])
    try:
        ident = uuid.UUID(str(row["id"]))
    except ValueError:
        raise _bad(row, "id", row["id"]) from None
    if not isinstance(row["version"], int) or row["version"] < 1:
        raise _bad(row, "version", row["version"])
    if not isinstance(row["fields"], dict):
        raise _bad(row, "fields", row["fields"])
    if row["entity"] == "interaction" and row["fields"].get("kind") not in unit.kinds:
        raise _bad(row, "kind", row["fields"].get("kind"))
    return ident


def _peer(unit: Unit, name: str, region: str) -> ExchangePeer:
    peer = unit.session.scalars(
        select(ExchangePeer).where(
            col(ExchangePeer.peer) == name,
            col(ExchangePeer.region) == region,
            col(ExchangePeer.direction) == "import",
        )
    ).first()
    if peer is None:
        peer = ExchangePeer(peer=name, region=region, direction="import")
        unit.session.add(peer)
        unit.session.flush()
    return peer


def import_bundle(
    unit: Unit, path: Path, *, dry_run: bool = False, prefer: Prefer = None
) -> ImportReport:
    """Merge the bundle at ``path`` into this database (module docstring). Only an
    administrator may (PermissionDenied). A bundle that is not signed with the shared
    key, was changed, or has an unknown version is BundleRefused; a bad row a
    ValidationError naming it: either way nothing is written."""
    authz.require_admin(unit, _("import an exchange bundle"))
    bundle = read_bundle(path, signing_key(unit.config))
    name, region = str(bundle.manifest.get("installation")), str(bundle.manifest.get("region"))
    if name == installation_id(unit):
        raise BundleRefused.of(N_("the bundle comes from this installation itself"))
    report = ImportReport(name, region, bundle.digest, dry_run)
    for row in bundle.rows:
        _check_row(unit, row)
    accept = unit.config.sections.exchange.accept_confidential
    refused = {
        r["id"]
        for r in bundle.rows
        if r["entity"] == "interaction" and r["fields"].get("confidential") and not accept
    }
    report.confidential_refused = len(refused)
    savepoint = unit.session.begin_nested() if dry_run else None
    peer = _peer(unit, name, region)
    ctx = _Context(unit, bundle, refused)
    bases = {
        (b.entity, str(b.row_id)): b
        for b in unit.session.scalars(
            select(ExchangeRow).where(col(ExchangeRow.peer_id) == peer.id)
        )
    }
    changed = False
    added_people: set[uuid.UUID] = set()
    order = {e: n for n, e in enumerate(rowsmod.ENTITIES)}
    for row in sorted(bundle.rows, key=lambda r: order[r["entity"]]):
        if row["id"] in refused:
            continue
        fields, reason = _resolved(ctx, row)
        if fields is None:
            report.skipped.append({"entity": row["entity"], "id": row["id"], "reason": str(reason)})
            continue
        outcome = _merge_row(unit, ctx, peer, bases, row, fields, prefer, report)
        changed = changed or outcome != "unchanged"
        if outcome == "added" and row["entity"] == "person":
            added_people.add(uuid.UUID(row["id"]))
    if added_people:
        incoming = {uuid.UUID(i) for i in ctx.incoming["person"]}
        for pair in duplicates.find_duplicates(unit):
            ours = {pair.a, pair.b} - incoming
            if len(ours) == 1 and {pair.a, pair.b} & added_people:
                report.merge_candidates.append(duplicates.pair_json(pair))
    if changed or peer.last_bundle != bundle.digest:
        peer.last_bundle = bundle.digest
        created = bundle.manifest.get("created_at")
        peer.last_created_at = datetime.fromisoformat(created) if created else None
        peer.last_at = clock.now()
    unit.session.flush()
    if savepoint is not None:
        savepoint.rollback()
    return report


def _set_base(
    unit: Unit,
    peer: ExchangePeer,
    bases: dict[tuple[str, str], ExchangeRow],
    row: dict[str, Any],
    digest: str,
) -> None:
    key = (row["entity"], row["id"])
    base = bases.get(key)
    if base is None:
        base = ExchangeRow(
            peer_id=peer.id,
            entity=row["entity"],
            row_id=uuid.UUID(row["id"]),
            version=row["version"],
            content_hash=digest,
        )
        unit.session.add(base)
        bases[key] = base
    elif base.version != row["version"] or base.content_hash != digest:
        base.version, base.content_hash = row["version"], digest


def _merge_row(
    unit: Unit,
    ctx: _Context,
    peer: ExchangePeer,
    bases: dict[tuple[str, str], ExchangeRow],
    row: dict[str, Any],
    fields: dict[str, Any],
    prefer: Prefer,
    report: ImportReport,
) -> str:
    entity = row["entity"]
    model = rowsmod.MODELS[entity]
    local = unit.session.get(model, uuid.UUID(row["id"]))
    theirs = rowsmod.content_hash(fields)
    if local is None:
        _write(unit, ctx, entity, None, row, fields)
        _set_base(unit, peer, bases, row, theirs)
        report.added[entity] += 1
        return "added"
    ours_fields = rowsmod.local_fields(unit, entity, local)
    ours = rowsmod.content_hash(ours_fields)
    base = bases.get((entity, row["id"]))
    if ours == theirs:
        _set_base(unit, peer, bases, row, theirs)
        report.unchanged[entity] += 1
        return "unchanged"
    if base is not None:
        theirs_changed = theirs != base.content_hash and row["version"] >= base.version
        ours_changed = ours != base.content_hash
    else:
        theirs_changed = row["version"] >= local.version
        ours_changed = row["version"] <= local.version
    if not theirs_changed:
        report.unchanged[entity] += 1
        return "unchanged"
    if not ours_changed:
        _write(unit, ctx, entity, local, row, fields, ours_fields)
        _set_base(unit, peer, bases, row, theirs)
        report.updated[entity] += 1
        return "updated"
    differ = [
        {"field": k, "ours": ours_fields.get(k), "theirs": fields.get(k)}
        for k in sorted(set(fields) | set(ours_fields))
        if fields.get(k) != ours_fields.get(k)
    ]
    conflict = Conflict(entity, row["id"], differ, prefer)
    report.conflicts.append(conflict)
    if prefer == "theirs":
        _write(unit, ctx, entity, local, row, fields, ours_fields)
        _set_base(unit, peer, bases, row, theirs)
        report.updated[entity] += 1
        return "updated"
    if prefer == "ours":
        _set_base(unit, peer, bases, row, theirs)
        report.kept_ours[entity] += 1
        return "kept_ours"
    return "unchanged"


def _write(
    unit: Unit,
    ctx: _Context,
    entity: str,
    local: Any,
    row: dict[str, Any],
    fields: dict[str, Any],
    ours: dict[str, Any] | None = None,
) -> None:
    ident = uuid.UUID(row["id"])
    if entity == "person":
        given = {k: v for k, v in fields.items() if k in (*rowsmod.PERSON_FIELDS, "extra")}
        if local is None:
            contacts.create_person(unit, person_id=ident, **given)
        else:
            old = ours or {}
            contacts.update_person(
                unit, ident, **{k: v for k, v in given.items() if old.get(k) != v}
            )
        return
    if local is None:
        local = rowsmod.MODELS[entity](id=ident, **_required(entity, row, fields))
    if entity == "interaction":
        for k in rowsmod.INTERACTION_FIELDS:
            setattr(local, k, _value(row, k, fields.get(k)))
        local.status = _enum(row, "status", InteractionStatus, fields.get("status"))
        local.data = dict(fields.get("data") or {})
        local.created_by_id = ctx.accounts.get(fields.get("created_by") or "")
        unit.session.add(local)
        unit.session.flush()
        _set_participants(unit, ctx, row, local, fields.get("participants", []))
    elif entity == "follow_up":
        for k in rowsmod.FOLLOW_UP_FIELDS:
            setattr(local, k, _value(row, k, fields.get(k)))
        local.status = _enum(row, "status", FollowUpStatus, fields.get("status"))
        local.person_id = uuid.UUID(fields["person"]) if fields.get("person") else None
        local.interaction_id = (
            uuid.UUID(fields["interaction"]) if fields.get("interaction") else None
        )
        local.owner_id = ctx.accounts.get(fields.get("owner") or "")
    else:
        for k in rowsmod.ASSIGNMENT_FIELDS:
            setattr(local, k, _value(row, k, fields.get(k)))
        local.keeper_id = ctx.accounts[fields["keeper"]]
        local.contact_id = uuid.UUID(fields["contact"])
    unit.session.add(local)
    unit.session.flush()


def _required(entity: str, row: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """The columns a new row of ``entity`` cannot be made without."""
    if entity == "interaction":
        return {"kind": fields["kind"], "start_at": _value(row, "start_at", fields.get("start_at"))}
    if entity == "follow_up":
        if not fields.get("title"):
            raise _bad(row, "title", fields.get("title"))
        return {"title": fields["title"]}
    return {
        "keeper_id": uuid.UUID(int=0),
        "contact_id": uuid.UUID(fields["contact"]),
        "start_on": _value(row, "start_on", fields.get("start_on")),
    }


def _enum(row: dict[str, Any], name: str, enum: Any, value: Any) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise _bad(row, name, value) from None


def _set_participants(
    unit: Unit, ctx: _Context, row: dict[str, Any], item: Interaction, wanted: list[dict[str, Any]]
) -> None:
    current = rowsmod.participants_by(unit, [item.id]).get(item.id, [])
    names = {v: k for k, v in ctx.accounts.items()}

    def key_of(p: InteractionParticipant) -> tuple[str, str, str]:
        return (
            str(p.person_id) if p.person_id else "",
            names.get(p.account_id, "") if p.account_id else "",
            p.role,
        )

    have = {key_of(p): p for p in current}
    keep = set()
    for w in wanted:
        key = rowsmod.participant_key(w)
        keep.add(key)
        p = have.get(key)
        if p is None:
            p = InteractionParticipant(
                interaction_id=item.id,
                person_id=uuid.UUID(w["person"]) if w.get("person") else None,
                account_id=ctx.accounts.get(w.get("account") or ""),
                role=w.get("role") or "participant",
            )
        p.rsvp = _enum(row, "rsvp", Rsvp, w["rsvp"]) if w.get("rsvp") else None
        p.attended = w.get("attended")
        unit.session.add(p)
    for key, p in have.items():
        if key not in keep:
            unit.session.delete(p)
    unit.session.flush()
