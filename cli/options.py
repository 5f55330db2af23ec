"""Command-line options several commands share, declared once so they read the same
everywhere (and are translated once)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from crm_core.errors import ValidationError
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

# The period of a report or an export: a day as people say it (crm_core.timeparse).
FromOpt = Annotated[
    str | None, typer.Option("--from", help=N_("From this day (2026-07-01, 上月1日 …)."))
]
ToOpt = Annotated[str | None, typer.Option("--to", help=N_("To this day, included."))]
YearOpt = Annotated[int | None, typer.Option(help=N_("The year (default: this year)."))]
WholeYearOpt = Annotated[int | None, typer.Option(help=N_("A whole year: 2026."))]

# Accounts: whose work, and the county of a county staff account.
KeeperOpt = Annotated[
    str | None, typer.Option("--user", help=N_("Only this keeper (username or name)."))
]
CountyOpt = Annotated[str | None, typer.Option(help=N_("County staff: their county or district."))]

# The local servers (`serve`, `web`); each command gives its own default.
HostOpt = Annotated[str, typer.Option(help=N_("Address to listen on."))]
PortOpt = Annotated[int, typer.Option(help=N_("Port to listen on."))]
PasswordEnvOpt = Annotated[
    str | None,
    typer.Option("--password-env", help=N_("Environment variable holding the password.")),
]

# Writing and changing.
OutputOpt = Annotated[
    Path, typer.Option("-o", "--output", help=N_("The file to write (.xlsx or .csv)."))
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help=N_("Show what would change; change nothing."))
]
LocationOpt = Annotated[str | None, typer.Option(help=N_("Where."))]


def password_from_env(name: str | None) -> str | None:
    """The password in environment variable ``name`` (``--password-env``); None when no
    variable is named; a clear error when the named one is not set."""
    if not name:
        return None
    password = os.environ.get(name)
    if password is None:
        raise ValidationError.one("--password-env", name, N_("this variable is not set"))
    return password
