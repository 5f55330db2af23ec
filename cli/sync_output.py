"""What the sync commands print: one report of a CalDAV and of a CardDAV sync, shared by
`sync caldav`, `sync carddav` and `sync all`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm_cli.context import err, out

from crm_core.i18n import N_, _

if TYPE_CHECKING:
    from crm_core.calendar.caldav_sync import SyncReport
    from crm_core.carddav_sync import CarddavReport

_SERVER_SIDE = {"changed": N_("changed"), "deleted": N_("deleted")}


def print_caldav(report: SyncReport) -> None:
    """The sync's counts, then what came from the server, then each conflict."""
    out.print(
        _(
            "CalDAV {url}: {created} new, {updated} updated, {deleted} deleted, {unchanged} same."
        ).format(
            url=report.calendar_url,
            created=report.created,
            updated=report.updated,
            deleted=report.deleted,
            unchanged=report.unchanged,
        ),
        markup=False,
    )
    came_back = [
        (report.rescheduled, N_("Moved on the phone, rescheduled in tongxin: {n}")),
        (report.completed, N_("Ticked off on the phone, follow-ups closed in tongxin: {n}")),
        (report.reopened, N_("Reopened on the phone, follow-ups open again in tongxin: {n}")),
        (report.cancelled, N_("Deleted on the phone, cancelled in tongxin: {n}")),
        (report.imported, N_("Made on the phone, planned in tongxin: {n}")),
        (report.restored, N_("Changed or deleted on the phone but kept by tongxin, put back: {n}")),
    ]
    for uids, text in came_back:
        if uids:
            out.print(_(text).format(n=len(uids)), markup=False)
    for c in report.conflicts:
        err.print(
            _(
                "Conflict: {uid} changed on both sides ({what} on the server); tongxin's kept."
            ).format(uid=c["uid"], what=_(_SERVER_SIDE.get(c["server"], c["server"]))),
            markup=False,
        )
    told = {c["uid"] for c in report.conflicts} | set(report.restored)
    for uid in (u for u in report.overwritten if u not in told):
        err.print(
            _("Warning: {uid} had been changed on the server; overwritten.").format(uid=uid),
            markup=False,
        )


def print_carddav(report: CarddavReport) -> None:
    """A CardDAV sync's counts, proposals and conflicts, as `sync carddav` prints them."""
    out.print(
        _(
            "CardDAV {url}: {created} new, {updated} updated, {deleted} deleted, "
            "{unchanged} same, {proposals} proposals."
        ).format(
            url=report.book_url,
            created=report.created,
            updated=report.updated,
            deleted=report.deleted,
            unchanged=report.unchanged,
            proposals=len(report.proposals),
        ),
        markup=False,
    )
    if report.proposals:
        out.print(
            _("Numbers changed on the phone: see `tongxin contacts proposals`."), markup=False
        )
    if report.restored:
        out.print(
            _("Cards deleted on the phone, put back: {n}").format(n=len(report.restored)),
            markup=False,
        )
    for uid in report.conflicts:
        out.print(
            _(
                "Conflict: {uid} changed in tongxin and its numbers on the phone; "
                "the phone's card is kept until the proposal is accepted."
            ).format(uid=uid),
            markup=False,
        )
