"""A dialog to tag a person, completing the tags in use as one types (characters or
pinyin: ``zd`` suggests 重点)."""

from __future__ import annotations

from typing import Any, ClassVar

from crm_tui.screens.base import BaseModal
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.suggester import Suggester
from textual.widgets import Input, Static

from crm_core import pinyin
from crm_core.i18n import N_, _
from crm_core.services import tags


class TagSuggester(Suggester):
    """Suggests the first tag in use that completes what is typed (pinyin too). A
    pinyin match is offered as the whole tag: Textual shows what follows the typed
    text, so the input is replaced by the tag when the suggestion is taken."""

    def __init__(self, known: list[tuple[str, str, str]]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.known = known  # (tag, pinyin, initials), most used first

    async def get_suggestion(self, value: str) -> str | None:
        """The tag ``value`` begins, in characters or in pinyin."""
        text = value.strip()
        if not text:
            return None
        key = text.lower()
        for tag, full, initials in self.known:
            if tag.startswith(text) and tag != text:
                return tag
            if key.isascii() and (full.startswith(key) or initials.startswith(key)):
                return value + "\u2192" + tag  # "zd→重点": taken as 重点 (see TagPrompt)
        return None


class TagPrompt(BaseModal):
    """Ask for a tag; dismisses with the tag typed (or completed), None on Escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", N_("Cancel"), id="tag.cancel"),
    ]

    def __init__(self, known: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.known = known

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(_("Tag (characters or pinyin; → takes the suggestion)"))
            yield Input(id="tag-input", suggester=TagSuggester(self.known))

    def on_mount(self) -> None:
        self.query_one("#tag-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: the tag typed (a taken pinyin suggestion is its tag)."""
        self.dismiss(taken(event.value) or None)

    def on_input_changed(self, event: Input.Changed) -> None:
        """A pinyin suggestion taken (→) becomes the tag itself."""
        if "\u2192" in event.value:
            event.input.value = taken(event.value)
            event.input.cursor_position = len(event.input.value)

    def action_cancel(self) -> None:
        """Close without tagging."""
        self.dismiss(None)


def taken(value: str) -> str:
    """The tag of an input's value: after the arrow of a taken pinyin suggestion."""
    return value.rsplit("\u2192", 1)[-1].strip()


def known_tags(unit: Any) -> list[tuple[str, str, str]]:
    """The tags in use with their pinyin, for :class:`TagSuggester`."""
    return [(t, *pinyin.phrase_pinyin(t)) for t, _n in tags.all_tags(unit)]
