"""Phone numbers as people type them: spaces, dashes, +86, full-width digits."""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-–—()（）.·/]+")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")


def normalize_phone(raw: str) -> str:
    """Digits of a mainland phone number: ``+86 138-1234-5678`` → ``13812345678``,
    ``(0514) 8733 1234`` → ``051487331234``. Raises ValueError saying why a value is not
    a phone number."""
    text = unicodedata.normalize("NFKC", raw).strip()
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not digits.isdigit():
        raise ValueError("contains characters that are not digits")
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits
    if digits.startswith("1"):
        raise ValueError(f"a mobile number has 11 digits, this has {len(digits)}")
    if len(digits) in (7, 8):
        return digits  # a local number without area code
    raise ValueError(f"not a mainland phone number ({len(digits)} digits)")


def is_mobile(digits: str) -> bool:
    """True for a normalised mainland mobile number."""
    return bool(_MOBILE.match(digits))
