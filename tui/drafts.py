"""Drafts of the forms, so that nothing typed is lost.

While a log / schedule form or a person's edit form holds changes, what it holds is
written to a draft file after every change; saving or discarding the form removes it.
A form that never got that far (the app crashed, the terminal was closed, a function
key jumped away) leaves its draft, and the next start offers it back
(:mod:`crm_tui.screens.drafts`).

Drafts are JSON (never pickle: a file is data, not code to run) in the user's data
folder (``platformdirs.user_data_dir``/drafts). They hold personal data (names,
notes), so the folder is made 0700 and each file 0600 from its first byte, and is
replaced whole (:mod:`crm_core.private_files`). Each names the database it belongs to
(a hash of its address, password left out), so the demo database's drafts are not
offered on the office's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from crm_core.app import Tongxin
from crm_core.config import APP_NAME
from crm_core.private_files import make_private_dirs, write_private_text

log = logging.getLogger("tongxin.tui")

FORMAT = 1  # the version of a draft file's layout
FORMS = ("log", "schedule", "edit", "person_edit")


def drafts_folder() -> Path:
    """Where drafts are kept: the user's data folder for tongxin, ``drafts``."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / "drafts"


def database_key(core: Tongxin) -> str:
    """A short name for the database ``core`` uses (its address hashed, no password)."""
    url = core.engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


@dataclass
class Draft:
    """One unsaved form: which (``form``: "log", "schedule", "edit" — a correction —
    or "person_edit"), what it
    held (``values``, the form's own layout), a line saying what it is about, when it
    was last written (UTC), and its id (its file's name)."""

    form: str
    values: dict[str, Any]
    about: str = ""
    written_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


class DraftStore:
    """The drafts of one database, in ``folder`` (default :func:`drafts_folder`)."""

    def __init__(self, core: Tongxin, folder: Path | None = None) -> None:
        self.folder = folder or drafts_folder()
        self.database = database_key(core)

    def _path(self, draft_id: str) -> Path:
        return self.folder / f"{self.database}-{draft_id}.json"

    def write(self, draft: Draft) -> Path:
        """Write ``draft`` (replacing the earlier version of it), private to the user."""
        draft.written_at = datetime.now(UTC)
        body = {
            "format": FORMAT,
            "database": self.database,
            "form": draft.form,
            "about": draft.about,
            "written_at": draft.written_at.isoformat(),
            "values": draft.values,
        }
        make_private_dirs(self.folder)
        return write_private_text(
            self._path(draft.id), json.dumps(body, ensure_ascii=False, indent=1)
        )

    def discard(self, draft_id: str) -> None:
        """Remove a draft (saved or thrown away); nothing if there is none."""
        self._path(draft_id).unlink(missing_ok=True)

    def pending(self) -> list[Draft]:
        """This database's drafts, the newest first. A file that cannot be read as a
        draft is left where it is and skipped (logged), never run or half-used."""
        out: list[Draft] = []
        if not self.folder.is_dir():
            return out
        for path in self.folder.glob(f"{self.database}-*.json"):
            try:
                body = json.loads(path.read_text("utf-8"))
                if body.get("format") != FORMAT or body.get("form") not in FORMS:
                    raise ValueError("not a tongxin draft of a known form")
                if not isinstance(body.get("values"), dict):
                    raise ValueError("a draft's values must be a table")
                out.append(
                    Draft(
                        str(body["form"]),
                        body["values"],
                        str(body.get("about") or ""),
                        datetime.fromisoformat(str(body["written_at"])),
                        path.stem.removeprefix(f"{self.database}-"),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("skipped the draft %s: %s", path, exc)
        out.sort(key=lambda d: d.written_at, reverse=True)
        return out
