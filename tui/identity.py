"""Who "I" am in the terminal UI.

On a shared server the login decides, as everywhere: the login's own account, or an
administrator's ``--as``. On a one-person install — a SQLite file, used by a login that
has no account of its own (it acts with the database owner's rights) — nobody was
"me": a visit was saved with nobody from the office, and the phone calendar (F8) had
no account. There the UI asks at first start which account is the user's (or creates
it), and remembers the answer in the user's config file as ``[tui] account``; from then
on the app acts as that account (the work logged names it as "our side", F8 is its
calendar).

What is asked and remembered is only ever used when the login has no account of its
own on SQLite: a login with an account is that account, whatever the file says.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crm_core.config import user_config_path
from crm_core.errors import PermissionDenied
from crm_core.private_files import make_private_dirs, write_private_text
from crm_core.services import accounts

if TYPE_CHECKING:
    from crm_core.app import Tongxin
    from crm_core.models import Account

_HEADER = re.compile(r"^\s*\[\s*tui\s*\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[")
_ACCOUNT = re.compile(r"^\s*account\s*=")


def one_person_install(core: Tongxin) -> bool:
    """Whether "me" is for the UI to decide: a SQLite database whose login has no
    account of its own (so it acts with no account at all)."""
    if core.engine.dialect.name != "sqlite":
        return False
    try:
        with core.unit() as unit:
            return unit.actor is None
    except PermissionDenied:  # a login the database refuses is not the one person
        return False


def remembered(core: Tongxin) -> Account | None:
    """The account ``[tui] account`` names, if it exists and is active."""
    name = core.config.sections.tui.account
    if not name:
        return None
    with core.unit() as unit:
        for account in accounts.list_accounts(unit):
            if account.username == name:
                return account
    return None


def config_path(core: Tongxin) -> Path:
    """The user's config file (the one read, or where it is looked for)."""
    return core.config.source or user_config_path()


def remember(core: Tongxin, username: str) -> Path:
    """Write ``[tui] account = username`` into the user's config file, keeping all else
    in it as it was (comments too); the file is re-read to check it still parses and
    says so. Returns the file's path."""
    path = config_path(core)
    text = path.read_text("utf-8") if path.is_file() else ""
    lines = text.splitlines()
    line = f"account = {json.dumps(username, ensure_ascii=False)}"
    start = next((i for i, raw in enumerate(lines) if _HEADER.match(raw)), None)
    if start is None:
        lines += ["", "[tui]", line] if lines else ["[tui]", line]
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[i])), len(lines)
        )
        found = next((i for i in range(start + 1, end) if _ACCOUNT.match(lines[i])), None)
        if found is None:
            lines.insert(start + 1, line)
        else:
            lines[found] = line
    new = "\n".join(lines) + "\n"
    if tomllib.loads(new).get("tui", {}).get("account") != username:
        raise ValueError(f"could not write [tui] account into {path}")
    make_private_dirs(path.parent)
    write_private_text(path, new)
    core.config.sections.tui.account = username
    return path


def settle_identity(app: Any) -> bool:
    """At start: act as the remembered account on a one-person install. Returns
    whether the user should be asked (one-person install, nothing remembered, and a
    front end's app: :meth:`crm_core.app.Tongxin.authenticate` was called — an app made
    in code, in tests or benchmarks, is trusted and never asks)."""
    core = app.core
    if app.actor or not one_person_install(core):
        return False
    account = remembered(core)
    if account is not None:
        app.actor = account.username
        return False
    return bool(core.authenticated)
