"""Choosing who takes part: people and accounts, found by Chinese, pinyin or initials.

Type a few letters (``zs``, ``zhang``, ``张``); the best matches appear below; ↑/↓ move,
Enter adds the highlighted one. Backspace in the empty box takes the last one off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from crm_tui.common import report, shorten
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from crm_core import pinyin
from crm_core.i18n import N_, _
from crm_core.services import accounts, contacts

SUGGESTIONS = 6


@dataclass(frozen=True)
class Chosen:
    """One participant chosen: a person or an account."""

    kind: str  # "person" | "account"
    id: str
    name: str


class _PickerInput(Input):
    """The picker's text box: Backspace in an empty box removes the last participant."""

    class RemoveLast(Message):
        """Backspace was pressed in the empty box."""

    def action_delete_left(self) -> None:
        if not self.value:
            self.post_message(self.RemoveLast())
            return
        super().action_delete_left()


class ParticipantPicker(Vertical):
    """People and accounts taking part, chosen with pinyin completion."""

    DEFAULT_CSS = """
    ParticipantPicker { height: auto; }
    ParticipantPicker #chosen { height: auto; color: $text; }
    ParticipantPicker OptionList { height: auto; max-height: 8; display: none; }
    ParticipantPicker OptionList.-open { display: block; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "suggestion(1)", N_("Next suggestion"), id="picker.next", show=False),
        Binding("up", "suggestion(-1)", N_("Previous suggestion"), id="picker.prev", show=False),
    ]

    class Changed(Message):
        """Someone was added or taken off (a form keeps its draft on it)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chosen: list[Chosen] = []
        self._accounts: list[tuple[Chosen, str, str]] = []  # (who, pinyin, initials)
        self._timer: Timer | None = None
        self._generation = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="chosen")
        yield _PickerInput(
            placeholder=_("Type a name, pinyin or initials; Enter adds"),
            id="participant-input",
            compact=True,
        )
        yield OptionList(id="suggestions")

    def on_mount(self) -> None:
        self._render_chosen()
        try:
            with self.app.unit() as unit:  # type: ignore[attr-defined]
                for a in accounts.list_accounts(unit):
                    py, initials = pinyin.name_pinyin(a.display_name)
                    self._accounts.append(
                        (Chosen("account", str(a.id), a.display_name), py, initials)
                    )
        except Exception as exc:
            report(self.app, exc)

    # -- the chosen ------------------------------------------------------------

    def add(self, who: Chosen) -> None:
        """Add a participant (once)."""
        if all((c.kind, c.id) != (who.kind, who.id) for c in self.chosen):
            self.chosen.append(who)
            self.post_message(self.Changed())
        self._render_chosen()

    def _render_chosen(self) -> None:
        text = Text()
        if not self.chosen:
            text.append(_("(nobody yet)"), "dim")
        for i, c in enumerate(self.chosen):
            if i:
                text.append("  ")
            style = "bold" if c.kind == "person" else "bold italic"
            text.append(c.name, style)
            if c.kind == "account":
                text.append(" " + _("(account)"), "dim")
        self.query_one("#chosen", Static).update(text)

    @on(_PickerInput.RemoveLast)
    def _remove_last(self) -> None:
        if self.chosen:
            self.chosen.pop()
            self._render_chosen()
            self.post_message(self.Changed())

    def people(self) -> list[str]:
        """Ids of the people chosen."""
        return [c.id for c in self.chosen if c.kind == "person"]

    def account_ids(self) -> list[str]:
        """Ids of the accounts chosen."""
        return [c.id for c in self.chosen if c.kind == "account"]

    # -- suggestions -------------------------------------------------------------

    @on(Input.Changed, "#participant-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        if not event.value.strip():
            self._show([])
            return
        self._timer = self.set_timer(0.08, self._suggest)

    def _suggest(self) -> None:
        query = self.query_one("#participant-input", Input).value.strip()
        self._generation += 1
        generation = self._generation
        lowered = query.lower()
        found_accounts = [
            who
            for who, py, initials in self._accounts
            if lowered
            and (
                query in who.name
                or py.startswith(lowered.replace(" ", ""))
                or initials.startswith(lowered)
            )
        ][:3]
        app = self.app

        def job() -> None:
            try:
                with app.unit() as unit:  # type: ignore[attr-defined]
                    page = contacts.search_people(unit, query, limit=SUGGESTIONS)
                    people = [
                        (
                            Chosen("person", str(p.id), p.name),
                            " ".join(filter(None, (p.employer, p.title))),
                        )
                        for p in page.items
                    ]
            except Exception as exc:
                app.call_from_thread(report, app, exc)
                return
            if generation == self._generation:
                app.call_from_thread(self._show, people + [(a, None) for a in found_accounts])

        self.run_worker(job, thread=True, exclusive=True, group="suggest", exit_on_error=False)

    def _show(self, found: list[tuple[Chosen, Any]]) -> None:
        options = self.query_one("#suggestions", OptionList)
        options.clear_options()
        self._found = [who for who, _detail in found]
        for who, detail in found:
            line = Text(who.name, "bold")
            if who.kind == "account":
                line.append("  " + _("(account)"), "dim")
            elif detail:
                line.append("  " + shorten(detail, 30), "dim")
            options.add_option(Option(line))
        options.set_class(bool(found), "-open")
        if found:
            options.highlighted = 0

    def action_suggestion(self, step: int) -> None:
        """Move the highlight in the suggestions."""
        options = self.query_one("#suggestions", OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    @on(Input.Submitted, "#participant-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one("#suggestions", OptionList)
        found = getattr(self, "_found", [])
        if options.has_class("-open") and found:
            self._pick(found[options.highlighted or 0])

    @on(OptionList.OptionSelected, "#suggestions")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        found = getattr(self, "_found", [])
        if 0 <= event.option_index < len(found):
            self._pick(found[event.option_index])

    def _pick(self, who: Chosen) -> None:
        self.add(who)
        box = self.query_one("#participant-input", Input)
        box.value = ""
        self._show([])
        box.focus()
