"""Textual's own words in the user's language: the command palette's prompt and keys,
the drop-down's "esc Dismiss menu", the system commands (theme, quit, screenshot …).

Textual writes them in English in its classes. The bindings of its widgets are copied
from the class into each instance when the instance is made, so the class's are
replaced by translated copies whenever the language is set (the English originals are
kept, so switching back works); the rest is given by the app (crm_tui.app)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual.command import CommandPalette
from textual.widgets._select import SelectOverlay

from crm_core.i18n import N_, _

if TYPE_CHECKING:
    from textual.binding import BindingsMap
    from textual.dom import DOMNode

# Textual's texts, as it writes them, and their msgids in our catalogue: every binding of
# CLASSES (shown in the footer, or hidden but listed by Textual's keys panel).
# tests/test_private_apis.py fails when a Textual upgrade adds one not here.
WORDS: dict[str, str] = {
    # CommandPalette
    "Exit the command palette": N_("Exit the command palette"),
    "Focus Next": N_("Focus Next"),
    "Focus Previous": N_("Focus Previous"),
    "Copy selected text": N_("Copy selected text"),
    "Go to bottom": N_("Go to bottom"),
    "Go to top": N_("Go to top"),
    "Next command": N_("Next command"),
    "Next page": N_("Next page"),
    "Previous page": N_("Previous page"),
    "Previous command": N_("Previous command"),
    # SelectOverlay (an OptionList); "First"/"Last" are other words in our catalogue
    "Dismiss menu": N_("Dismiss menu"),
    "Up": N_("Up"),
    "Down": N_("Down"),
    "Scroll Left": N_("Scroll Left"),
    "Scroll Right": N_("Scroll Right"),
    "First": N_("First option"),
    "Last": N_("Last option"),
    "Page Up": N_("Page Up"),
    "Page Down": N_("Page Down"),
    "Page Left": N_("Page Left"),
    "Page Right": N_("Page Right"),
    "Select": N_("Select"),
}
PALETTE_PLACEHOLDER = N_("Search for commands…")
THEMES_PLACEHOLDER = N_("Search for themes…")

# The Textual classes whose bindings a user can see (in the footer).
CLASSES: tuple[type[DOMNode], ...] = (CommandPalette, SelectOverlay)
_ORIGINAL: dict[type[DOMNode], BindingsMap] = {}


def _said(text: str) -> str:
    """Textual's ``text`` in the current language (as Textual wrote it in English)."""
    msgid = WORDS.get(text, text)
    said = _(msgid) if text else ""
    return text if said == msgid else said


def english_bindings(cls: type[DOMNode]) -> BindingsMap | None:
    """The bindings of Textual's class ``cls`` as Textual wrote them (untranslated),
    whatever language was set before."""
    return _ORIGINAL.get(cls, cls._merged_bindings)


def translate_textual() -> None:
    """Give Textual's widgets made from now on their keys' descriptions in the
    current language."""
    for cls in CLASSES:
        merged = cls._merged_bindings
        if merged is None:
            continue
        original = _ORIGINAL.setdefault(cls, merged.copy())
        fresh = original.copy()
        for key, bindings in fresh.key_to_bindings.items():
            fresh.key_to_bindings[key] = [
                replace(b, description=_said(b.description)) for b in bindings
            ]
        cls._merged_bindings = fresh
