"""County → city exchange: signed bundles of a region's people and their work.

A county installation writes a bundle (:func:`export_bundle`): a zip of
``manifest.json`` and ``rows.jsonl`` (people, interactions with their participants,
follow-ups, assignments, each with its UUID, version and times), signed with
HMAC-SHA256 under a key both offices share. The city reads it (:func:`import_bundle`)
in one transaction, three-way against what it last saw from that installation
(``exchange_row``): new rows are added, rows changed only there are updated, rows
changed on both sides are conflicts (listed field by field, left alone unless a side is
chosen), and the people it adds that the duplicate rules pair with the city's own are
merge candidates. Deletions are not carried.
"""

from __future__ import annotations

from crm_core.exchange.bundle import FORMAT_VERSION, Bundle, BundleRefused, read_bundle
from crm_core.exchange.export import ExportSummary, export_bundle
from crm_core.exchange.merge import Conflict, ImportReport, import_bundle

__all__ = [
    "FORMAT_VERSION",
    "Bundle",
    "BundleRefused",
    "Conflict",
    "ExportSummary",
    "ImportReport",
    "export_bundle",
    "import_bundle",
    "read_bundle",
]
