"""Translations: Simplified Chinese by default, English on request.

Source strings (msgids) are English; the Chinese catalog is
``crm_core/locale/zh_CN/LC_MESSAGES/tongxin.po`` (compiled to ``.mo`` with Babel:
``pybabel compile -D tongxin -d crm_core/locale``). Mark strings with ``_()`` where they
are shown, or ``N_()`` where they are defined earlier than shown (help texts).
"""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

DOMAIN = "tongxin"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"zh": "zh_CN", "en": "en"}

_current = "zh"
_translation: gettext.NullTranslations = gettext.NullTranslations()
# The plugins' own catalogs: gettext domain (the plugin's name) → its locale directory.
_catalogs: dict[str, Path] = {}


class PoTranslations(gettext.NullTranslations):
    """A catalog read straight from a ``.po`` file, so that a plugin may ship its
    translations as the text file it edits, without a compile step (a ``.mo`` beside it
    is preferred when present). Plural forms and contexts are not read."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.catalog = read_po(path)
        self.next: gettext.NullTranslations | None = None

    def add_fallback(self, fallback: gettext.NullTranslations) -> None:
        """Consult ``fallback`` for what this catalog does not translate."""
        if self.next is None:
            self.next = fallback
        else:
            self.next.add_fallback(fallback)

    def gettext(self, message: str) -> str:
        """``message`` translated, or passed on to the fallback catalog."""
        found = self.catalog.get(message)
        if found:
            return found
        return self.next.gettext(message) if self.next is not None else message


def read_po(path: Path) -> dict[str, str]:
    """The translated entries of a ``.po`` file: msgid → msgstr (fuzzy and empty ones
    left out)."""
    out: dict[str, str] = {}
    entry: dict[str, str] | None = None
    key: str | None = None
    fuzzy = False

    def keep(done: dict[str, str] | None) -> None:
        if done and done.get("msgid") and done.get("msgstr") and not done.get("fuzzy"):
            out[done["msgid"]] = done["msgstr"]

    for raw in path.read_text("utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#"):
            fuzzy = fuzzy or (line.startswith("#,") and "fuzzy" in line)
        elif line.startswith("msgid "):
            keep(entry)
            entry = {"msgid": ast.literal_eval(line[6:]), "fuzzy": "1" if fuzzy else ""}
            key, fuzzy = "msgid", False
        elif line.startswith("msgstr ") and entry is not None:
            entry["msgstr"], key = ast.literal_eval(line[7:]), "msgstr"
        elif line.startswith('"') and entry is not None and key is not None:
            entry[key] += ast.literal_eval(line)
        elif line:
            key = None  # msgctxt, msgid_plural, msgstr[n]: not read
    keep(entry)
    return out


def _catalog(domain: str, localedir: Path, locale: str) -> gettext.NullTranslations | None:
    mo = localedir / locale / "LC_MESSAGES" / f"{domain}.mo"
    po = mo.with_suffix(".po")
    if mo.is_file():
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    if po.is_file():
        return PoTranslations(po)
    return None


def add_catalog(domain: str, localedir: Path) -> None:
    """Use a plugin's own catalog too: ``localedir/zh_CN/LC_MESSAGES/DOMAIN.mo`` (or
    ``.po``). The plugin host calls this for every plugin whose package has a
    ``locale`` directory, with the plugin's name as ``domain``. A msgid the core's
    catalog does not translate is looked up in the plugins' catalogs, in the order they
    were added, so a plugin's messages (``ValidationError.one(..., N_("..."))``, its
    ``_()`` calls) are shown in the user's language like the core's."""
    _catalogs[domain] = Path(localedir)
    set_language(_current)


def set_language(lang: str) -> None:
    """Switch the program's language: "zh" (简体中文, the default) or "en"."""
    global _current, _translation
    lang = "en" if lang.lower().startswith("en") else "zh"
    _current = lang
    if lang == "en":
        _translation = gettext.NullTranslations()
        return
    # A new object, not gettext.translation()'s: that one is cached by file, and the
    # chain of fallbacks below must not grow on it each time the language is set.
    core = _catalog(DOMAIN, LOCALE_DIR, LANGUAGES[lang]) or gettext.NullTranslations()
    for domain, localedir in _catalogs.items():
        extra = _catalog(domain, localedir, LANGUAGES[lang])
        if extra is not None:
            core.add_fallback(extra)
    _translation = core


def language() -> str:
    """The current language code: "zh" or "en"."""
    return _current


def _(message: str) -> str:
    """``message`` in the current language."""
    return _translation.gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it now (see ``_``)."""
    return message


set_language("zh")


# Words that reach the screen through a variable (a status code): marked here so the
# catalog has them.
STATUS_WORDS = (
    N_("ok"),
    N_("error"),
    N_("disabled"),
    N_("failing"),
    N_("planned"),
    N_("done"),
    N_("cancelled"),
    N_("open"),
    N_("in_progress"),
    N_("answered"),
    N_("closed"),
)
