"""The core is the one API of every front end and knows none of them."""

from __future__ import annotations

import subprocess
import sys


def test_crm_core_imports_without_textual_or_typer() -> None:
    code = (
        "import sys\n"
        "import crm_core, crm_core.app, crm_core.services, crm_core.plugins, crm_core.demo\n"
        "from crm_core.services import contacts, interactions, assignments, followups\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'textual', 'typer', 'click', 'crm_tui', 'crm_cli'})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"crm_core pulled in front-end modules: {result.stdout}"


def test_front_ends_do_not_write_sql() -> None:
    # Front ends call services; SQL (sqlalchemy/sqlmodel queries) stays in crm_core.
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    offenders = []
    for path in [*(repo / "cli").rglob("*.py"), *(repo / "tui").rglob("*.py")]:
        text = path.read_text("utf-8")
        for needle in (
            "from sqlalchemy import select",
            "from sqlmodel import select",
            ".execute(",
            "text(",
        ):
            if needle in text:
                offenders.append(f"{path.name}: {needle}")
    assert offenders == []
