"""Command-line options several commands share, declared once so they read the same
everywhere (and are translated once)."""

from __future__ import annotations

from typing import Annotated

import typer

from crm_core.i18n import N_

JsonOpt = Annotated[
    bool, typer.Option("--json", help=N_("Print JSON (stable format, see docs/cli-json.md)."))
]

# The people filters of `contacts search` and the exports: a code or its label.
CategoryOpt = Annotated[str | None, typer.Option(help=N_("Only this category (code or label)."))]
SectorOpt = Annotated[str | None, typer.Option(help=N_("Only this sector (code or label)."))]
PartyOpt = Annotated[str | None, typer.Option(help=N_("Only this party (code or label)."))]
CommitteeOpt = Annotated[str | None, typer.Option(help=N_("Only this special committee."))]
RegionOpt = Annotated[str | None, typer.Option(help=N_("Only this county or district."))]
