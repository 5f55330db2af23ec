"""Log done work or schedule planned work, of any registered kind.

The kind's own fields are built from its schema (``KindSpec.fields()``); a list field takes
one value per line; a field with choices (``KindSpec.choices``, e.g. from the plugin's
config table) is a drop-down, or a list to tick for a list field. Times are typed as people
say them (``今天 15:00``, ``明天上午``, ``2026-12-01 9:30``, ``12/1``). A refused save shows
each error under the field it names, and keeps everything typed.
"""

from __future__ import annotations

from typing import Any, ClassVar

from crm_tui.common import error_text, fmt_when, report, two_part, weekday
from crm_tui.drafts import Draft
from crm_tui.footer import Footer
from crm_tui.screens.base import BaseScreen, FieldErrors
from crm_tui.screens.drafts import Drafting
from crm_tui.widgets.fields import FORM_CSS, placeholder, split_label
from crm_tui.widgets.participants import Chosen, ParticipantPicker
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    Select,
    SelectionList,
    Static,
    TextArea,
)

from crm_core import clock
from crm_core.errors import FieldError, TongxinError, ValidationError
from crm_core.i18n import N_, _, language
from crm_core.kinds import KindSpec
from crm_core.services import contacts, followups, interactions
from crm_core.timeparse import TimeParseError, parse_when

CORE_FIELDS = ("kind", "summary", "when", "participants", "location", "notes")


def field_of(error: FieldError) -> str:
    """The form field a service error names (``data.concerns.0`` → ``data.concerns``)."""
    name = error.field
    if name.startswith("data."):
        return "data." + name.split(".")[1]
    if name in ("start", "end", "all_day"):
        return "when"
    if name in ("people", "accounts") or name.startswith("participants"):
        return "participants"
    if name in CORE_FIELDS:
        return name
    return "general"


class InteractionForm(Drafting, FieldErrors, BaseScreen):
    """The log / schedule form. It keeps a draft while it holds changes (Esc asks
    before throwing them away); ``draft`` reopens one."""

    CSS = FORM_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), id="form.save", priority=True),
        Binding("escape", "cancel", N_("Cancel"), id="form.cancel"),
    ]

    def __init__(
        self,
        mode: str = "log",
        *,
        person_id: str | None = None,
        kind: str | None = None,
        draft: Draft | None = None,
    ) -> None:
        super().__init__()
        self.mode = draft.form if draft is not None else mode  # "log" | "schedule"
        self.draft_form = self.mode
        self.person_id = person_id
        self.kind = kind
        self._built_kind: str | None = "-"
        self.values: dict[str, Any] = {}  # kind fields typed, kept across kind changes
        self.saved: Any = None
        if draft is not None:
            self.draft = draft
            self.kind = str(draft.values.get("kind") or "") or None
            data = draft.values.get("data")
            self.values = dict(data) if isinstance(data, dict) else {}

    # -- building ----------------------------------------------------------------

    def _kinds(self) -> list[KindSpec]:
        return list(self.app.core.kinds.values())

    def _default_kind(self) -> str | None:
        kinds = self.app.core.kinds
        wanted = self.kind or self.app.last_kind or self.app.core.config.sections.tui.default_kind
        if wanted in kinds:
            return str(wanted)
        return next(iter(kinds), None)

    def compose(self) -> ComposeResult:
        title = {"log": _("Log work done"), "edit": _("Correct work")}.get(
            self.mode, _("Schedule work")
        )
        yield Static(title, classes="screen-title")
        yield Static(
            _("Tab / Shift+Tab: next / previous field · Enter opens a list · Ctrl+S saves"),
            id="form-hint",
        )
        yield Static("", id="error-general", classes="error")
        with VerticalScroll(id="form-body"):
            lang = language()
            options = [(k.label(lang), k.code) for k in self._kinds()]
            default = self._default_kind()
            yield from self._row(
                "kind",
                _("Kind"),
                Select(
                    options,
                    value=default if default is not None else Select.NULL,
                    allow_blank=False,
                    id="kind",
                    compact=True,
                ),
            )
            yield from self._row(
                "summary",
                _("Summary"),
                Input(placeholder=_("One line saying what happened"), id="summary", compact=True),
            )
            placeholder = (
                _("Now if left empty; or 今天 15:00, 昨天上午 …")
                if self.mode == "log"
                else _("e.g. 明天上午, 下周三 9:30, 2026-12-01 9:30, 12/1")
            )
            yield from self._row(
                "when", _("When"), Input(placeholder=placeholder, id="when", compact=True)
            )
            yield Static("", id="when-hint", classes="hint")
            yield from self._row("participants", _("Who"), ParticipantPicker(id="participants"))
            yield from self._row(
                "location", _("Where"), Input(placeholder=_("Place"), id="location", compact=True)
            )
            yield Vertical(id="kind-fields")
            yield from self._row(
                "notes",
                _("Notes"),
                TextArea(
                    id="notes",
                    soft_wrap=True,
                    show_line_numbers=False,
                    placeholder=_("What was said, what to remember (optional)"),
                ),
            )
            with Horizontal(id="form-buttons"):
                yield Button(_("Save (Ctrl+S)"), id="save", variant="primary")
                yield Button(_("Cancel (Esc)"), id="cancel")
        yield Footer(compact=True)

    def _row(self, name: str, label: str, widget: Widget) -> Any:
        with Horizontal(classes="form-row", id=f"row-{name.replace('.', '-')}"):
            yield Label(label, classes="form-label")
            yield widget
        yield Static("", id=f"error-{name.replace('.', '-')}", classes="error")

    async def on_mount(self) -> None:
        await self.before_building()
        await self._build_kind_fields()
        if self.draft is None:
            self.fill()
        else:
            self._restore(self.draft.values)
        self.query_one("#kind", Select).focus()
        self.start_drafting()

    async def before_building(self) -> None:
        """What to do before the kind's fields are built (the edit form reads the
        interaction here)."""

    def fill(self) -> None:
        """A new form's first contents: the person it was opened for, and the user's
        own account as "our side"."""
        if self.draft is None:
            try:
                with self.app.unit() as unit:
                    picker = self.query_one(ParticipantPicker)
                    if self.person_id:
                        person = contacts.get_person(unit, self.person_id)
                        picker.add(Chosen("person", str(person.id), person.name))
                    # "Our side" is the user's own account unless they take it off.
                    if unit.actor is not None:
                        picker.add(Chosen("account", str(unit.actor.id), unit.actor.display_name))
            except Exception as exc:
                report(self.app, exc)

    # -- drafts --------------------------------------------------------------------

    def draft_values(self) -> dict[str, Any]:
        """What the form holds, as JSON (the kind's fields typed for other kinds too)."""
        self._remember_kind_fields()
        spec = self.spec()
        picker = self.query_one(ParticipantPicker)
        return {
            "kind": spec.code if spec else None,
            "summary": self.query_one("#summary", Input).value,
            "when": self.query_one("#when", Input).value,
            "location": self.query_one("#location", Input).value,
            "notes": self.query_one("#notes", TextArea).text,
            "participants": [[c.kind, c.id, c.name] for c in picker.chosen],
            "data": {k: v for k, v in self.values.items() if v not in (None, "", [], False)},
        }

    def draft_about(self) -> str:
        """The kind, the people and the summary."""
        spec = self.spec()
        names = "、".join(c.name for c in self.query_one(ParticipantPicker).chosen)
        summary = self.query_one("#summary", Input).value.strip()
        return " · ".join(x for x in (spec.label(language()) if spec else "", names, summary) if x)

    def _restore(self, values: dict[str, Any]) -> None:
        for name in ("summary", "when", "location"):
            self.query_one(f"#{name}", Input).value = str(values.get(name) or "")
        self.query_one("#notes", TextArea).text = str(values.get("notes") or "")
        picker = self.query_one(ParticipantPicker)
        for entry in values.get("participants") or []:
            if isinstance(entry, list) and len(entry) == 3:
                picker.add(Chosen(str(entry[0]), str(entry[1]), str(entry[2])))

    def spec(self) -> KindSpec | None:
        """The kind chosen now."""
        value = self.query_one("#kind", Select).value
        return self.app.core.kinds.get(str(value)) if value is not Select.NULL else None

    def _field_widgets(self) -> dict[str, Widget]:
        out: dict[str, Widget] = {}
        for w in self.query_one("#kind-fields").query(".kind-field"):
            if w.id:
                out[w.id.removeprefix("data-")] = w
        return out

    def _remember_kind_fields(self) -> None:
        for name, w in self._field_widgets().items():
            self.values[name] = _value_of(w)

    async def _build_kind_fields(self) -> None:
        spec = self.spec()
        code = spec.code if spec else None
        if code == self._built_kind:
            return
        self._built_kind = code
        box = self.query_one("#kind-fields", Vertical)
        self._remember_kind_fields()
        await box.remove_children()
        if spec is None:
            return
        widgets: list[Widget] = []
        vocab = self.app.core.config.vocab
        for f in spec.fields():
            name = f["name"]
            label, hint = split_label(two_part(f["description"]) or name)
            if f["required"]:
                label += " *"
            kept = self.values.get(name)
            w: Widget
            choices = f.get("choices") or []
            terms = vocab.get(f.get("vocabulary") or "")
            if choices and spec.is_list_field(name):
                chosen = kept if isinstance(kept, list) else []
                w = SelectionList[str](*[(c, c, c in chosen) for c in choices], compact=True)
            elif choices or terms is not None:
                # A config vocabulary (县（市、区） from the regions) is shown by label
                # and stored by code, as 所在地 is on the person form.
                options = (
                    [(c, c) for c in choices]
                    if choices
                    else [(t.label(language()), t.code) for t in terms or []]
                )
                w = Select(
                    options,
                    value=kept if kept in {v for _t, v in options} else Select.NULL,
                    allow_blank=True,
                    prompt=_("Choose…"),
                    compact=True,
                )
            elif spec.is_list_field(name):
                w = TextArea(
                    "\n".join(kept) if isinstance(kept, list) else (kept or ""),
                    soft_wrap=True,
                    show_line_numbers=False,
                    placeholder=placeholder(hint, required=f["required"]),
                )
                w.border_subtitle = _("one per line")
            elif "bool" in f["type"].lower():
                w = Checkbox(value=bool(kept), compact=True)
            else:
                w = Input(
                    kept or "",
                    compact=True,
                    placeholder=placeholder(hint, required=f["required"]),
                )
            w.id = f"data-{name}"
            w.add_class("kind-field")
            shown = Label(label, classes="form-label")
            shown.tooltip = two_part(f["description"]) or name  # the whole, if cut
            row = Horizontal(shown, w, classes="form-row")
            widgets += [row, Static("", id=f"error-data-{name}", classes="error")]
        await box.mount_all(widgets)

    @on(Select.Changed, "#kind")
    async def _kind_changed(self) -> None:
        await self._build_kind_fields()

    @on(Input.Changed, "#when")
    def _when_changed(self, event: Input.Changed) -> None:
        hint = self.query_one("#when-hint", Static)
        text = event.value.strip()
        if not text:
            hint.update("")
            return
        try:
            when = self._parse_when(text)
        except TimeParseError:
            hint.update(Text(_("not understood yet"), "dim italic"))
            return
        d = when.start.date()
        hint.update(
            Text(
                f"→ {fmt_when(when.start, self.app.core.config.tz, all_day=when.all_day)} "
                f"{weekday(d)}",
                "green",
            )
        )

    def _parse_when(self, text: str) -> Any:
        return parse_when(text, now=clock.now(), tz=self.app.core.config.tz)

    # -- saving --------------------------------------------------------------------

    def collect(self) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The service arguments from the form, and the errors found before saving."""
        errors: list[tuple[str, str]] = []
        spec = self.spec()
        args: dict[str, Any] = {}
        if spec is None:
            errors.append(("kind", _("choose a kind")))
        else:
            args["kind"] = spec.code
        when_text = self.query_one("#when", Input).value.strip()
        if when_text:
            try:
                when = self._parse_when(when_text)
                args["start"], args["all_day"] = when.start, when.all_day
            except TimeParseError:
                errors.append(
                    ("when", _("cannot read {text!r} as a date and time").format(text=when_text))
                )
        elif self.mode == "schedule":
            errors.append(("when", _("say when, e.g. 明天上午 or 12/1 9:30")))
        picker = self.query_one(ParticipantPicker)
        args["people"], args["accounts"] = picker.people(), picker.account_ids()
        if not args["people"] and not args["accounts"]:
            errors.append(("participants", _("add at least one person")))
        for name in ("summary", "location"):
            value = self.query_one(f"#{name}", Input).value.strip()
            if value:
                args[name] = value
        notes = self.query_one("#notes", TextArea).text.strip()
        if notes:
            args["notes"] = notes
        data: dict[str, Any] = {}
        if spec is not None:
            for name, w in self._field_widgets().items():
                value = _value_of(w)
                if value not in (None, "", []):
                    data[name] = value
        args["data"] = data
        return args, errors

    async def action_save(self) -> None:
        """Save, or show what is wrong beside each field (nothing typed is lost)."""
        self.clear_errors()
        args, errors = self.collect()
        if errors:
            self.show_errors(errors)
            return
        try:
            with self.app.unit() as unit:
                saved = self.write(unit, args)
                raised = len(followups.list_follow_ups(unit, interaction_id=saved.id))
                saved_id = str(saved.id)
        except ValidationError as exc:
            self.show_errors([(field_of(e), _message(e)) for e in exc.errors])
            return
        except TongxinError as exc:
            self.show_errors([("general", error_text(exc))])
            return
        except Exception as exc:
            report(self.app, exc)
            return
        self.app.last_kind = args["kind"]
        self.saved = saved_id
        self.draft_saved()
        message = {"log": _("Logged."), "edit": _("Saved.")}.get(self.mode, _("Scheduled."))
        if raised and self.mode != "edit":
            message += " " + _("{n} follow-up(s) raised.").format(n=raised)
        self.app.notify(message, timeout=3)
        self.dismiss(saved_id)

    def write(self, unit: Any, args: dict[str, Any]) -> Any:
        """Write what the form holds (``args``: the service's arguments)."""
        if self.mode == "log":
            return interactions.log_interaction(unit, **args)
        return interactions.schedule_interaction(unit, **args)

    @on(Button.Pressed, "#save")
    async def _save_pressed(self) -> None:
        await self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()


def _message(error: FieldError) -> str:
    shown = error.field if error.field.startswith("data.") else ""
    return f"{shown + ': ' if shown else ''}{error.text}"


def _value_of(w: Widget) -> Any:
    if isinstance(w, SelectionList):
        return list(w.selected)
    if isinstance(w, Select):
        return None if w.value is Select.NULL else str(w.value)
    if isinstance(w, TextArea):
        return [line.strip() for line in w.text.splitlines() if line.strip()]
    if isinstance(w, Checkbox):
        return w.value
    if isinstance(w, Input):
        return w.value.strip()
    return None
