"""The plugin status file: each plugin's outstanding failures and the kinds it provides,
kept across runs.

``tongxin plugins`` must still show yesterday's crash of a calendar hook when today's
command never called that hook, so a failure is written to a small JSON file (private,
0600) in the user's data folder, beside the embedded database: not in the database, so
that it needs no migration and works before any database is opened. A failure stays
until the same hook of the same plugin runs cleanly again.

The file also remembers which kind codes each plugin registered when it last loaded
cleanly: when the plugin later fails to load, a record of one of its kinds can say which
plugin is missing instead of "unknown kind".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from crm_core.config import APP_NAME
from crm_core.private_files import write_private_text

STATUS_FILE_NAME = "plugin-status.json"
FORMAT_VERSION = 1

log = logging.getLogger("tongxin.plugins")


def default_status_path() -> Path:
    """Where the status file is kept: ``plugin-status.json`` in the platformdirs user
    data folder (the folder of the embedded database)."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / STATUS_FILE_NAME


@dataclass(frozen=True)
class Failure:
    """One outstanding failure of a plugin: the hook that raised (``load`` when the
    plugin could not be imported), the error, when, and whether the plugin lost a part
    of itself (``fatal``: it failed to load or a ``register_*`` hook raised)."""

    hook: str
    error: str
    at: datetime
    fatal: bool = False

    @property
    def text(self) -> str:
        """The error as the plugins list shows it (the hook first, but for a load)."""
        return self.error if self.hook == "load" else f"{self.hook}: {self.error}"

    def as_json(self) -> dict[str, Any]:
        """The form kept in the status file."""
        return {
            "hook": self.hook,
            "error": self.error,
            "at": self.at.isoformat(),
            "fatal": self.fatal,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Failure:
        """The failure kept as ``data`` (see :meth:`as_json`)."""
        at = datetime.fromisoformat(str(data["at"]))
        return cls(
            str(data["hook"]),
            str(data["error"]),
            at if at.tzinfo else at.replace(tzinfo=UTC),
            bool(data.get("fatal", False)),
        )


@dataclass
class PluginRecord:
    """What the status file keeps about one plugin."""

    failures: dict[str, Failure] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The form kept in the status file."""
        return {
            "failures": [f.as_json() for f in self.failures.values()],
            "kinds": sorted(self.kinds),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PluginRecord:
        """The record kept as ``data`` (see :meth:`as_json`)."""
        failures = [Failure.from_json(f) for f in data.get("failures", [])]
        return cls({f.hook: f for f in failures}, [str(k) for k in data.get("kinds", [])])


class StatusStore:
    """The status file at ``path``, read and written whole.

    Each change re-reads the file and replaces only its own plugin's entry, so the
    reminder service and a command run at the same moment do not undo each other's
    records (the last writer of one plugin's entry wins). The file is replaced
    atomically and is private from its first byte. A damaged file is ignored (with a
    log line): the status of plugins must never stop the program.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, PluginRecord]:
        """Every plugin's record, by name (empty when there is no readable file)."""
        try:
            raw = json.loads(self.path.read_text("utf-8"))
            return {
                str(name): PluginRecord.from_json(rec)
                for name, rec in dict(raw.get("plugins", {})).items()
            }
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("plugin status file %s ignored: %s", self.path, exc)
            return {}

    def save(self, name: str, record: PluginRecord | None) -> None:
        """Keep ``record`` as plugin ``name``'s entry (None or an empty record: drop it)."""
        records = self.load()
        if record is None or (not record.failures and not record.kinds):
            if name not in records:
                return
            records.pop(name)
        else:
            records[name] = record
        data = {
            "version": FORMAT_VERSION,
            "plugins": {n: r.as_json() for n, r in sorted(records.items())},
        }
        try:
            write_private_text(self.path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        except OSError as exc:
            log.warning("plugin status file %s not written: %s", self.path, exc)
