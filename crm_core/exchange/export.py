"""``tongxin exchange export``: the rows of one region a county sends to the city.

Read as the acting account, under its scope (county staff see only their region, and
only what they may read of a confidential talk): the people of the region, the
interactions of the region or with its people, the follow-ups and assignments of its
people. ``since`` keeps only rows changed since then (``"last"``: since this
installation's last export of the region). Confidential interactions travel only with
``[exchange] send_confidential = true``, and only those the account may read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import exists, or_, select
from sqlmodel import col

from crm_core import authz, clock
from crm_core.errors import ValidationError
from crm_core.exchange import rows as rowsmod
from crm_core.exchange.bundle import signing_key, write_bundle
from crm_core.exchange_models import ExchangePeer
from crm_core.i18n import N_
from crm_core.models import (
    Assignment,
    FollowUp,
    Interaction,
    InteractionParticipant,
    Person,
    PersonStatus,
)
from crm_core.services._common import code_of
from crm_core.unit import Unit


@dataclass
class ExportSummary:
    """What a bundle holds: its region, since when, how many rows of each entity, how
    many confidential talks stayed home, and the SHA-256 naming it."""

    path: str
    installation: str
    region: str
    since: str | None
    counts: dict[str, int]
    confidential_withheld: int
    digest: str
    created_at: str

    def as_json(self) -> dict[str, Any]:
        """The JSON form (docs/cli-json.md)."""
        return {
            "path": self.path,
            "installation": self.installation,
            "region": self.region,
            "since": self.since,
            "counts": self.counts,
            "confidential_withheld": self.confidential_withheld,
            "rows_sha256": self.digest,
            "created_at": self.created_at,
        }


def installation_id(unit: Unit) -> str:
    """This installation's name in bundles: ``[exchange] installation_id``, else a UUID
    derived from the database's address (without its password)."""
    configured = unit.config.sections.exchange.installation_id
    if configured:
        return configured
    url = unit.session.get_bind().engine.url
    address = url.render_as_string(hide_password=True) if hasattr(url, "render_as_string") else ""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "tongxin:" + address))


def _since(unit: Unit, since: str | datetime | None, me: str, region: str) -> datetime | None:
    if since is None or isinstance(since, datetime):
        return since
    if since == "last":
        row = _export_record(unit, me, region)
        return row.last_created_at if row else None
    try:
        parsed = datetime.fromisoformat(since)
    except ValueError:
        raise ValidationError.one(
            "since", since, N_("write last, a date (2026-11-01) or a time in ISO 8601")
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=unit.config.tz)
    return parsed


def _export_record(unit: Unit, me: str, region: str) -> ExchangePeer | None:
    return unit.session.scalars(
        select(ExchangePeer).where(
            col(ExchangePeer.peer) == me,
            col(ExchangePeer.region) == region,
            col(ExchangePeer.direction) == "export",
        )
    ).first()


def export_bundle(
    unit: Unit, *, region: str, path: Path, since: str | datetime | None = None
) -> ExportSummary:
    """Write the signed bundle of ``region`` (a code or a label) to ``path``. County
    staff may export only their own region (PermissionDenied otherwise)."""
    code = code_of(unit.config.vocab["regions"], "region", region)
    if code is None:
        raise ValidationError.one("region", region, N_("a region is required"))
    authz.check_move(unit, code, region)  # county staff: their own region only
    key = signing_key(unit.config)
    me = installation_id(unit)
    after = _since(unit, since, me, code)
    now = clock.now()
    changed: list[Any] = [] if after is None else [after]

    def newer(model: Any) -> list[Any]:
        return [col(model.updated_at) >= changed[0]] if changed else []

    in_region = select(col(Person.id)).where(col(Person.region) == code)
    people = list(
        unit.session.scalars(
            select(Person)
            .where(
                col(Person.region) == code,
                col(Person.status) != PersonStatus.merged,
                *authz.person_scope(unit),
                *newer(Person),
            )
            .order_by(col(Person.id))
        )
    )
    with_ours = exists().where(
        col(InteractionParticipant.interaction_id) == col(Interaction.id),
        col(InteractionParticipant.person_id).in_(in_region),
    )
    items = list(
        unit.session.scalars(
            select(Interaction)
            .where(
                or_(col(Interaction.region) == code, with_ours),
                *authz.interaction_scope(unit),
                *newer(Interaction),
            )
            .order_by(col(Interaction.id))
        )
    )
    send = unit.config.sections.exchange.send_confidential
    readable = authz.readable_ids(unit, items) if send else set()
    kept = [i for i in items if not i.confidential or i.id in readable]
    withheld = len(items) - len(kept)
    region_work = select(col(Interaction.id)).where(col(Interaction.region) == code)
    follow_ups = list(
        unit.session.scalars(
            select(FollowUp)
            .where(
                or_(
                    col(FollowUp.person_id).in_(in_region),
                    col(FollowUp.interaction_id).in_(region_work),
                ),
                *authz.follow_up_scope(unit),
                *newer(FollowUp),
            )
            .order_by(col(FollowUp.id))
        )
    )
    assigned = list(
        unit.session.scalars(
            select(Assignment)
            .where(
                col(Assignment.contact_id).in_(in_region),
                *authz.assignment_scope(unit),
                *newer(Assignment),
            )
            .order_by(col(Assignment.id))
        )
    )
    rows = [
        *rowsmod.person_rows(unit, people),
        *rowsmod.interaction_rows(unit, kept),
        *rowsmod.follow_up_rows(unit, follow_ups),
        *rowsmod.assignment_rows(unit, assigned),
    ]
    counts = {e: sum(1 for r in rows if r["entity"] == e) for e in rowsmod.ENTITIES}
    manifest: dict[str, Any] = {
        "installation": me,
        "region": code,
        "created_at": now.isoformat(),
        "since": after.isoformat() if after else None,
        "counts": counts,
        "confidential": sum(1 for i in kept if i.confidential),
        "confidential_withheld": withheld,
        "exported_by": unit.actor_name,
    }
    digest = write_bundle(path, key, manifest, rows)
    record = _export_record(unit, me, code)
    if record is None:
        record = ExchangePeer(peer=me, region=code, direction="export")
        unit.session.add(record)
    record.last_bundle, record.last_created_at, record.last_at = digest, now, now
    unit.session.flush()
    return ExportSummary(
        str(path),
        me,
        code,
        after.isoformat() if after else None,
        counts,
        withheld,
        digest,
        now.isoformat(),
    )
