"""Correct a logged or scheduled interaction: the log form, filled with what it holds,
saved through :func:`crm_core.services.interactions.update_interaction` (audited; a
change someone else saved meanwhile is refused, never overwritten). Its kind stays."""

from __future__ import annotations

from typing import Any

from crm_tui.common import fmt_when
from crm_tui.drafts import Draft
from crm_tui.screens.form import InteractionForm
from textual.widgets import Input, Select

from crm_core.services import interactions
from crm_core.unit import Unit


class EditInteractionForm(InteractionForm):
    """The log form over one interaction (``interaction_id``); ``draft`` reopens a
    correction left unsaved."""

    def __init__(self, interaction_id: str, *, draft: Draft | None = None) -> None:
        super().__init__("log", draft=draft)
        self.mode = self.draft_form = "edit"
        self.interaction_id = interaction_id
        self.version: int | None = None
        self.when_read = ""  # the time as the form showed it: unchanged, it is not sent
        self.read: dict[str, Any] = {}
        if draft is not None:
            self.version = draft.values.get("version")
            self.when_read = str(draft.values.get("when_read") or "")

    async def before_building(self) -> None:
        """Read the interaction (unless a draft holds the correction) and fix its kind."""
        select = self.query_one("#kind", Select)
        if self.draft is None:
            tz = self.app.core.config.tz
            with self.app.unit() as unit:
                i = interactions.get_interaction(unit, self.interaction_id)
                people = interactions.participation(unit, i.id)
                self.version = i.version
                self.when_read = fmt_when(i.start_at, tz, all_day=i.all_day)
                self.values = dict(i.data)
                self.read = {
                    "kind": i.kind,
                    "summary": i.summary or "",
                    "when": self.when_read,
                    "location": i.location or "",
                    "notes": i.notes or "",
                    "participants": [
                        [
                            "person" if p.person_id else "account",
                            str(p.person_id or p.account_id),
                            p.name,
                        ]
                        for p in people
                    ],
                }
            kind = i.kind
        else:
            kind = str(self.draft.values.get("kind") or "")
        if kind in self.app.core.kinds:
            select.value = kind
        select.disabled = True  # a correction keeps the kind

    def fill(self) -> None:
        """What the interaction holds."""
        self._restore(self.read)

    def draft_values(self) -> dict[str, Any]:
        """The form's values, and which interaction and version they correct."""
        return {
            **super().draft_values(),
            "interaction_id": self.interaction_id,
            "version": self.version,
            "when_read": self.when_read,
        }

    def write(self, unit: Unit, args: dict[str, Any]) -> Any:
        """Save the correction: every field as the form holds it, the time only if it
        was changed (a time read back as text is never moved by re-reading it)."""
        changes: dict[str, Any] = {
            "summary": args.get("summary"),
            "notes": args.get("notes"),
            "location": args.get("location"),
            "data": args["data"],
            "people": args["people"],
            "accounts": args["accounts"],
        }
        if self.query_one("#when", Input).value.strip() != self.when_read and "start" in args:
            changes["start"], changes["all_day"] = args["start"], args["all_day"]
        return interactions.update_interaction(
            unit, self.interaction_id, expected_version=self.version, **changes
        )
