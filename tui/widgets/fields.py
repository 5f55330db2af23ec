"""How a form's fields look: a short label that fits its column, the rest of the label
as the field's placeholder, and fields that can be seen when empty.

A kind's field is described by its plugin as, e.g., "场合（如所随视察调研）": in the
16-cell label column that wrapped over two lines and the empty field beside it, a
compact input with no placeholder on a background barely different from the screen's,
could not be seen at all (issue 14). Now the label is "场合" and "如所随视察调研" is
written in the field until something is typed.
"""

from __future__ import annotations

import re

from crm_core.i18n import _

# A trailing explanation: "场合（如所随视察调研）", "Occasion (e.g. the trip …)".
_EXPLAINED = re.compile(r"^(?P<label>.+?)\s*[（(](?P<hint>[^（）()]+)[）)]\s*$")
LABEL_CELLS = 14  # what the label column (16 cells, 1 of padding) shows without cutting

# Styles shared by the forms (a screen's CSS, so it outranks the app's general rules).
FORM_CSS = """
.form-label {
    text-wrap: nowrap;
    text-overflow: ellipsis;
    color: $text;
}
.form-row Input, .form-row TextArea {
    background: $panel;
}
.form-row Input:focus, .form-row TextArea:focus {
    background: $primary 25%;
}
.form-row Input > .input--placeholder, .form-row TextArea > .text-area--placeholder {
    color: $text-muted;
    text-style: italic;
}
#form-hint {
    height: 1;
    padding: 0 1;
    color: $text-muted;
    text-wrap: nowrap;
    text-overflow: ellipsis;
}
"""


def cells(text: str) -> int:
    """How many terminal cells ``text`` takes (CJK and full-width forms take two)."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def split_label(text: str) -> tuple[str, str]:
    """A field's label and its placeholder, from the plugin's description: an
    explanation in brackets goes into the field when the whole would not fit the label
    column or when it gives an example ("如…", "e.g. …"). "县（市、区）" is a name and
    fits: it stays whole."""
    found = _EXPLAINED.match(text.strip())
    if not found:
        return text.strip(), ""
    label, hint = found.group("label").strip(), found.group("hint").strip()
    example = hint.startswith(("如", "例如", "e.g.", "eg ", "for example"))
    if example or cells(text.strip()) > LABEL_CELLS:
        return label, hint
    return text.strip(), ""


def placeholder(hint: str, *, required: bool) -> str:
    """What an empty field says: its explanation, or whether it must be filled."""
    if hint:
        return hint
    return _("required") if required else _("optional")
