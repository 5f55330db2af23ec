"""Translations: Simplified Chinese by default, English on request.

Source strings (msgids) are English; the Chinese catalog is
``crm_core/locale/zh_CN/LC_MESSAGES/tongxin.po`` (compiled to ``.mo`` with Babel:
``pybabel compile -D tongxin -d crm_core/locale``). Mark strings with ``_()`` where they
are shown, or ``N_()`` where they are defined earlier than shown (help texts).
"""

from __future__ import annotations

import gettext
from pathlib import Path

DOMAIN = "tongxin"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"zh": "zh_CN", "en": "en"}

_current = "zh"
_translation: gettext.NullTranslations = gettext.NullTranslations()


def set_language(lang: str) -> None:
    """Switch the program's language: "zh" (简体中文, the default) or "en"."""
    global _current, _translation
    lang = "en" if lang.lower().startswith("en") else "zh"
    _current = lang
    if lang == "en":
        _translation = gettext.NullTranslations()
    else:
        _translation = gettext.translation(
            DOMAIN, localedir=LOCALE_DIR, languages=[LANGUAGES[lang]], fallback=True
        )


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
