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
    # Front ends call services; queries (select/insert/update, text(), execute) stay in
    # crm_core, so every front end gets the same rules.
    import re
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    sql = re.compile(
        r"^\s*from (sqlalchemy|sqlmodel)\b(?!\.exc)"
        r"|\bsession\.(execute|scalars?|exec)\(|\bsa\.text\(",
        re.M,
    )
    offenders = [
        f"{path.relative_to(repo)}: {m.group(0).strip()}"
        for folder in ("cli", "tui")
        for path in (repo / folder).rglob("*.py")
        for m in sql.finditer(path.read_text("utf-8"))
    ]
    assert offenders == []
