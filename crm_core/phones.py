"""Phone numbers as people type them: spaces, dashes, +86, full-width digits."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from crm_core.i18n import N_

_SEPARATORS = re.compile(r"[\s\-–—()（）.·/]+")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")


class PhoneError(ValueError):
    """Why a value is not a phone number: ``template`` is a msgid (``N_``) formatted with
    ``params``; ``str()`` is the English message, the template lets it be translated."""

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params) if params else template)


def normalize_phone(raw: str) -> str:
    """Digits of a mainland phone number: ``+86 138-1234-5678`` → ``13812345678``,
    ``(0514) 8733 1234`` → ``051487331234``. Raises ValueError saying why a value is not
    a phone number (a :class:`PhoneError`, a ValueError)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not digits.isdigit():
        raise PhoneError(N_("contains characters that are not digits"))
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits
    if digits.startswith("1"):
        raise PhoneError(N_("a mobile number has 11 digits, this has {count}"), count=len(digits))
    if len(digits) in (7, 8):
        return digits  # a local number without area code
    raise PhoneError(N_("not a mainland phone number ({count} digits)"), count=len(digits))


def is_mobile(digits: str) -> bool:
    """True for a normalised mainland mobile number."""
    return bool(_MOBILE.match(digits))
