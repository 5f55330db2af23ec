"""Edit a person's profile: name, gender, birth, party, sector, region, employer, title,
phones, e-mail, address, membership, status, categories, special committees, remarks.

Only what was changed is sent to :func:`crm_core.services.contacts.update_person`, with
the version read when the form opened: if someone else saved the person meanwhile, the
save is refused and said so (a notification and a line on the form), never overwritten.
A refused value is shown under the field it names; everything typed stays.
"""

from __future__ import annotations

import re
from contextlib import suppress
from typing import Any, ClassVar

from crm_tui.common import error_text, report, vocab_label
from crm_tui.drafts import Draft
from crm_tui.footer import Footer
from crm_tui.screens.base import BaseScreen, FieldErrors
from crm_tui.screens.drafts import Drafting
from crm_tui.widgets.fields import FORM_CSS
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, TextArea
from textual.widgets.select import InvalidSelectValueError

from crm_core.errors import Conflict, TongxinError, ValidationError
from crm_core.i18n import N_, _, language
from crm_core.person_fields import GENDER_LABELS
from crm_core.phones import display_phone
from crm_core.services import contacts

# The fields of the form, in order: (name, label msgid, widget type). The names are those
# of contacts.PersonFields, so a service error's field finds its row.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("name", N_("Name"), "text"),
    ("gender", N_("Gender"), "select"),
    ("birth", N_("Born"), "text"),
    ("ethnicity", N_("Ethnicity"), "text"),
    ("party", N_("Party"), "select"),
    ("sector", N_("Sector"), "select"),
    ("region", N_("Region"), "select"),
    ("employer", N_("Employer"), "text"),
    ("title", N_("Position"), "text"),
    ("mobile", N_("Mobile"), "text"),
    ("phones", N_("Other phones"), "list"),
    ("email", N_("E-mail"), "text"),
    ("address", N_("Address"), "text"),
    ("membership", N_("Membership"), "select"),
    ("status", N_("Status"), "select"),
    ("categories", N_("Categories"), "list"),
    ("committees", N_("Special committees"), "list"),
    ("notes", N_("Remarks"), "area"),
)
LABELS = {name: label for name, label, _kind in FIELDS}
# People write lists with 、 or commas; phone numbers may also be separated by spaces.
_LIST_SPLIT = re.compile(r"[、,，;；\n]+")
_PHONE_SPLIT = re.compile(r"[、,，;；\s]+")


def _split(name: str, text: str) -> list[str]:
    pattern = _PHONE_SPLIT if name == "phones" else _LIST_SPLIT
    return [part.strip() for part in pattern.split(text) if part.strip()]


class PersonEditForm(Drafting, FieldErrors, BaseScreen):
    """The profile of one person, as a form. It keeps a draft while it holds changes
    (Esc asks before throwing them away); ``draft`` reopens one."""

    draft_form = "person_edit"
    CSS = FORM_CSS

    DEFAULT_CSS = """
    PersonEditForm #form-body .form-row {
        margin: 0;
    }
    PersonEditForm #edit-notes {
        height: 3;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", N_("Save"), id="person_edit.save", priority=True),
        Binding("escape", "cancel", N_("Cancel"), id="person_edit.cancel"),
    ]

    def __init__(self, person_id: str, *, draft: Draft | None = None) -> None:
        super().__init__()
        self.person_id = person_id
        self.draft = draft
        self.version: int | None = None  # the version read: the save is refused if it moved
        self.original: dict[str, Any] = {}  # the form's values as read, to send only changes
        self.saved = False

    # -- building ----------------------------------------------------------------

    def _options(self, name: str) -> list[tuple[str, str]]:
        lang = language()
        if name == "gender":
            return [(_(text), code) for code, text in GENDER_LABELS.items()]
        if name == "membership":
            return [
                (_("Standing committee member"), "standing"),
                (_("Member"), "member"),
                (_("Not a member"), "none"),
            ]
        if name == "status":
            return [(_(s), s) for s in ("active", "inactive", "deceased")]
        vocab = self.app.core.config.vocab[
            {"party": "parties", "sector": "sectors", "region": "regions"}[name]
        ]
        return [(t.label(lang), t.code) for t in vocab]

    def compose(self) -> ComposeResult:
        yield Static(_("Edit person"), classes="screen-title", id="person-edit-title")
        yield Static("", id="error-general", classes="error")
        with VerticalScroll(id="form-body"):
            for name, label, kind in FIELDS:
                widget: Widget
                if kind == "select":
                    widget = Select(
                        self._options(name),
                        allow_blank=name not in ("membership", "status"),
                        prompt="—",
                        compact=True,
                    )
                elif kind == "area":
                    widget = TextArea(soft_wrap=True, show_line_numbers=False)
                else:
                    widget = Input(compact=True, placeholder=self._placeholder(name))
                widget.id = f"edit-{name}"
                with Horizontal(classes="form-row", id=f"row-{name}"):
                    yield Label(_(label), classes="form-label")
                    yield widget
                yield Static("", id=f"error-{name}", classes="error")
            with Horizontal(id="form-buttons"):
                yield Button(_("Save (Ctrl+S)"), id="save", variant="primary")
                yield Button(_("Cancel (Esc)"), id="cancel")
        yield Footer(compact=True)

    @staticmethod
    def _placeholder(name: str) -> str:
        return {
            "birth": _("e.g. 1965-03"),
            "mobile": _("138 1234 5678, +852 9123 4567"),
            "phones": _("several: separate with 、"),
            "categories": _("several: separate with 、"),
            "committees": _("several: separate with 、"),
        }.get(name, "")

    def on_mount(self) -> None:
        try:
            with self.app.unit() as unit:
                person = contacts.get_person(unit, self.person_id)
                profile = contacts.person_json(unit, person)
        except Exception as exc:
            report(self.app, exc)
            self.dismiss(None)
            return
        self.fill(profile)
        if self.draft is not None:
            self._restore(self.draft.values)
        self.query_one("#edit-name", Input).focus()
        self.start_drafting()

    # -- drafts --------------------------------------------------------------------

    def draft_values(self) -> dict[str, Any]:
        """What each field holds as typed, and the version the form was read at (a
        draft reopened after someone else saved the person is refused on save, never
        saved over their change)."""
        fields: dict[str, Any] = {}
        for name, _label, _kind in FIELDS:
            widget = self.query_one(f"#edit-{name}")
            if isinstance(widget, Select):
                fields[name] = None if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, TextArea):
                fields[name] = widget.text
            elif isinstance(widget, Input):
                fields[name] = widget.value
        return {"person_id": self.person_id, "version": self.version, "fields": fields}

    def draft_about(self) -> str:
        """The person's name (as it was when the form opened)."""
        return str(self.original.get("name") or "")

    def _restore(self, values: dict[str, Any]) -> None:
        fields = values.get("fields")
        if isinstance(values.get("version"), int):
            self.version = values["version"]
        if not isinstance(fields, dict):
            return
        for name, _label, _kind in FIELDS:
            if name not in fields:
                continue
            value = fields[name]
            widget = self.query_one(f"#edit-{name}")
            if isinstance(widget, Select):
                # A code config no longer offers stays as the form read it.
                with suppress(InvalidSelectValueError):
                    widget.value = Select.NULL if value is None else value
            elif isinstance(widget, TextArea):
                widget.text = str(value or "")
            elif isinstance(widget, Input):
                widget.value = str(value or "")

    def fill(self, profile: dict[str, Any]) -> None:
        """Put ``profile`` (``contacts.person_json``) into the form."""
        core = self.app.core
        vocab = core.config.vocab
        self.version = profile["version"]
        self.query_one("#person-edit-title", Static).update(
            _("Edit person") + f" · {profile['name']}  {profile['pinyin']}"
        )
        lists = {
            "phones": [display_phone(n) for n in profile["phones"]],
            # Shown by label, as people read them; the service takes codes or labels.
            "categories": [vocab_label(core.categories, c) for c in profile["categories"]],
            "committees": [vocab_label(vocab["committees"], c) for c in profile["committees"]],
        }
        for name, _label, kind in FIELDS:
            widget = self.query_one(f"#edit-{name}")
            if kind == "select":
                assert isinstance(widget, Select)
                value = profile.get(name)
                codes = {code for _text, code in self._options(name)}
                if value and value not in codes:  # a code config no longer has: keep it
                    widget.set_options([*self._options(name), (str(value), value)])
                widget.value = value if value else Select.NULL
            elif kind == "area":
                assert isinstance(widget, TextArea)
                widget.text = profile.get(name) or ""
            elif kind == "list":
                assert isinstance(widget, Input)
                widget.value = "、".join(lists[name])
            else:
                assert isinstance(widget, Input)
                value = profile.get(name) or ""
                # A number as users read and type it (the service stores E.164).
                widget.value = display_phone(value) if name == "mobile" and value else value
        self.original = self.values()

    # -- saving --------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """Every field's value as the service takes it (lists split, blanks as None)."""
        out: dict[str, Any] = {}
        for name, _label, kind in FIELDS:
            widget = self.query_one(f"#edit-{name}")
            if isinstance(widget, Select):
                out[name] = None if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, TextArea):
                out[name] = widget.text.strip() or None
            elif kind == "list":
                out[name] = _split(name, widget.value)  # type: ignore[attr-defined]
            else:
                text = widget.value.strip()  # type: ignore[attr-defined]
                out[name] = text or (None if name != "name" else "")
        return out

    def changes(self) -> dict[str, Any]:
        """The fields changed since the form was filled."""
        now = self.values()
        return {k: v for k, v in now.items() if v != self.original.get(k)}

    def error_target(self, field: str) -> str:
        """A service's field (``categories.0``) goes to its field's line."""
        target = field.split(".")[0]
        return target if target in LABELS else "general"

    def error_label(self, target: str) -> str:
        """Errors are named by their field's label (手机：…)."""
        return _(LABELS[target]) if target in LABELS else ""

    def action_save(self) -> None:
        """Save the changes, or say what is wrong beside each field (nothing is lost)."""
        self.clear_errors()
        changed = self.changes()
        if not changed:
            self.app.notify(_("Nothing changed."), timeout=3)
            self.draft_saved()
            self.dismiss(None)
            return
        try:
            with self.app.unit() as unit:
                person = contacts.update_person(
                    unit, self.person_id, expected_version=self.version, **changed
                )
                name = person.name
        except ValidationError as exc:
            self.show_errors([(e.field, e.text) for e in exc.errors])
            return
        except Conflict:
            text = _(
                "Someone else changed this person while you were editing; nothing was "
                "saved. Your changes are still here: note them, close the form (Esc) and "
                "open it again to edit the new version."
            )
            self.show_errors([("general", text)])
            self.app.notify(text, title=_("Not saved"), severity="error", timeout=10)
            return
        except TongxinError as exc:
            self.show_errors([("general", error_text(exc))])
            return
        except Exception as exc:
            report(self.app, exc)
            return
        self.saved = True
        self.draft_saved()
        self.app.notify(_("Saved {name}.").format(name=name), timeout=3)
        self.dismiss(True)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
