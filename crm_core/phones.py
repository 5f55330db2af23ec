"""Phone numbers of the whole world, as people type them, stored one way.

Reading, checking and formatting are Google's libphonenumber rules (the ``phonenumbers``
package), not rules of our own: mainland mobiles and landlines with their area codes,
Hong Kong (+852), Macao (+853), Taiwan (+886) and every other country.

- **Input**: spaces, dashes, brackets, dots, full-width digits and ``＋`` are fine; a
  number without ``+`` or ``00`` is read as a mainland number (:data:`DEFAULT_REGION`);
  an extension may follow as ``转 8001``, ``分机 8001``, ``ext 8001``, ``x8001``, ``,8001``
  or (after an area-coded landline) ``-8001``.
- **Stored form**: E.164 (``+8613812345678``, ``+85291234567``), with an extension
  written as in RFC 3966: ``+8651487654321;ext=8001``. A value in another form in the
  database is one a migration could not read (``0008``); it is shown as it is.
- **Shown**: mainland numbers in the national format mainland users read
  (``138 1234 5678``, ``0514 8765 4321``), every other number in the international
  format (``+852 9123 4567``), since a mainland user dials them with their country code.
- **Search**: :func:`search_digits` is what ``person.phone_digits`` holds (the digits
  as shown, and for a number abroad also with its country code), so any run of digits
  a user remembers finds the person.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from crm_core.i18n import N_, _

DEFAULT_REGION = "CN"  # a number typed without + or 00 is a mainland number
_CN_CODE = 86

_SEPARATORS = re.compile(r"[\s\-–—()（）.·/]+")
# Chinese words for "extension" (转, 分机, 内线/內線) become the "ext" phonenumbers reads.
_EXT_WORDS = re.compile(r"\s*(?:转|轉|分机|分機|内线|內線|内|ext\.?|x)\s*(?=\d+\s*$)", re.I)
# 0514-87654321-8001: an area-coded landline whose extension follows a dash.
_DASH_EXT = re.compile(r"^(0\d{2,3})[\s\-–—]*(\d{7,8})[\s]*[\-–—]\s*(\d{1,6})$")
_STORED_MOBILE_CN = re.compile(r"^\+861[3-9]\d{9}$")  # the common case, without a parse
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
# A mainland mobile as typed (spaces, dashes, +86 / 0086): read without a parse when its
# digits match phonenumbers' own metadata for a mainland mobile (so the result is the
# one the parse gives); anything else takes the parse.
_TYPED_MOBILE_CN = re.compile(r"^(?:\+86|0086)?(1[3-9]\d{9})$")


def _cn_patterns() -> tuple[str, str]:
    meta = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    assert meta is not None and meta.general_desc is not None and meta.mobile is not None
    general, mobile = meta.general_desc.national_number_pattern, meta.mobile.national_number_pattern
    assert general is not None and mobile is not None
    return general, mobile


_CN_GENERAL, _CN_MOBILE = (re.compile(p) for p in _cn_patterns())


class PhoneError(ValueError):
    """Why a value is not a phone number: ``template`` is a msgid (``N_``) formatted with
    ``params``; ``str()`` is the English message, the template lets it be translated."""

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params) if params else template)

    def translated(self) -> str:
        """The reason in the current language."""
        return _(self.template).format(**self.params) if self.params else _(self.template)


def _prepared(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip()
    m = _DASH_EXT.match(text)
    if m:
        return f"{m.group(1)}{m.group(2)} ext {m.group(3)}"
    return _EXT_WORDS.sub(" ext ", text)


def _reason(text: str, region: str) -> PhoneError:
    """Why ``text`` (not a valid number) is refused, in a user's words."""
    main = re.split(r"ext|[;,]", text, maxsplit=1)[0]
    bare = _SEPARATORS.sub("", main)
    if not re.fullmatch(r"\+?\d+", bare):
        return PhoneError(N_("contains characters that are not digits"))
    if bare.startswith("+") or bare.startswith("00"):
        try:
            number = phonenumbers.parse(text, region)
        except NumberParseException:
            number = None
        if number is None or phonenumbers.region_code_for_country_code(
            number.country_code or 0
        ) in ("", phonenumbers.UNKNOWN_REGION):
            return PhoneError(N_("the country calling code after + is not one in use"))
        if number.country_code != _CN_CODE:
            return PhoneError(
                N_("not a valid number for +{code} ({count} digits after it)"),
                code=number.country_code,
                count=len(str(number.national_number)),
            )
        bare = str(number.national_number)
    elif bare.startswith("86") and len(bare) == 13:
        bare = bare[2:]
    if region == DEFAULT_REGION:
        if bare.startswith("1"):
            return PhoneError(
                N_("a mobile number has 11 digits, this has {count}"), count=len(bare)
            )
        if len(bare) in (7, 8) and not bare.startswith("0"):
            return PhoneError(N_("a landline needs its area code, e.g. 0514-{digits}"), digits=bare)
        return PhoneError(N_("not a mainland phone number ({count} digits)"), count=len(bare))
    return PhoneError(N_("not a phone number ({count} digits)"), count=len(bare))


@lru_cache(maxsize=4096)
def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """A typed phone number in the form tongxin stores: E.164, with an extension as
    ``;ext=``: ``138-1234-5678`` → ``+8613812345678``, ``+852 9123 4567`` →
    ``+85291234567``, ``(0514) 8765-4321 转 8001`` → ``+8651487654321;ext=8001``.
    A number without ``+``/``00`` is read as a number of ``region`` (mainland China by
    default). Raises :class:`PhoneError` (a ValueError) saying why a value is not a
    phone number."""
    if region == DEFAULT_REGION:
        fast = _TYPED_MOBILE_CN.match(_SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)))
        if fast and _CN_MOBILE.fullmatch(fast[1]) and _CN_GENERAL.fullmatch(fast[1]):
            return f"+86{fast[1]}"
    text = _prepared(raw)
    if not text:
        raise PhoneError(N_("contains characters that are not digits"))
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        raise _reason(text, region) from None
    if not phonenumbers.is_valid_number(number):
        raise _reason(text, region)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return f"{e164};ext={number.extension}" if number.extension else e164


def is_stored(number: str) -> bool:
    """True when ``number`` is already in the stored form (what :func:`normalize_phone`
    gives), so a bulk import may skip reading it again."""
    if _STORED_MOBILE_CN.match(number):
        return True
    try:
        return normalize_phone(number) == number
    except PhoneError:
        return False


def _parsed(number: str) -> phonenumbers.PhoneNumber | None:
    """A stored number parsed again, or None for a value that is not in the stored form."""
    if not number.startswith("+"):
        return None
    try:
        return phonenumbers.parse(number, None)
    except NumberParseException:
        return None


def is_mobile(number: str) -> bool:
    """True for a stored (E.164) mobile number of any country: ``+8613812345678``,
    ``+85291234567``; False for a landline and for a value not in the stored form."""
    if _STORED_MOBILE_CN.match(number):
        return True
    parsed = _parsed(number)
    return (
        parsed is not None
        and not parsed.extension
        and phonenumbers.is_valid_number(parsed)
        and phonenumbers.number_type(parsed) in _MOBILE_TYPES
    )


def display_phone(number: str) -> str:
    """A stored number as a user reads it: mainland numbers in the national format
    (``138 1234 5678``, ``0514 8765 4321``), others in the international one
    (``+852 9123 4567``); an extension after 转 (ext.). A value not in the stored form
    is shown as it is."""
    shown, ext = _shown(number)
    return _("{number} ext. {ext}").format(number=shown, ext=ext) if ext else shown


@lru_cache(maxsize=4096)
def _shown(number: str) -> tuple[str, str | None]:
    # The formatted number and its extension (a list of thousands shows each once).
    parsed = _parsed(number)
    if parsed is None:
        return number, None
    ext = parsed.extension
    parsed.extension = None
    form = (
        PhoneNumberFormat.NATIONAL
        if parsed.country_code == _CN_CODE
        else PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, form), ext


def search_key(number: str) -> str:
    """The digits a stored number is searched by: those of its display form for a
    mainland number (``13812345678``, ``051487654321``), with the country code for a
    number abroad (``85291234567``); a value not in the stored form: its digits."""
    if _STORED_MOBILE_CN.match(number):  # its national form: the 11 digits
        return number[3:]
    parsed = _parsed(number)
    if parsed is None:
        return re.sub(r"\D", "", number)
    parsed.extension = None
    if parsed.country_code == _CN_CODE:
        return re.sub(r"\D", "", phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL))
    return f"{parsed.country_code}{phonenumbers.national_significant_number(parsed)}"


def search_digits(numbers: Iterable[str | None]) -> str:
    """What ``person.phone_digits`` holds for these stored numbers: for each, the digits
    of its national form, and for a number abroad also the country code and number
    (``+85291234567`` → ``91234567 85291234567``), so a substring search by any run of
    digits a user remembers finds it."""
    out: list[str] = []
    for number in numbers:
        if not number:
            continue
        if _STORED_MOBILE_CN.match(number):
            if number[3:] not in out:
                out.append(number[3:])
            continue
        parsed = _parsed(number)
        keys = [search_key(number)]
        if parsed is not None and parsed.country_code != _CN_CODE:
            national = re.sub(
                r"\D",
                "",
                phonenumbers.format_number(
                    phonenumbers.PhoneNumber(
                        country_code=parsed.country_code, national_number=parsed.national_number
                    ),
                    PhoneNumberFormat.NATIONAL,
                ),
            )
            keys.insert(0, national)
        for key in keys:
            if key and key not in out:
                out.append(key)
    return " ".join(out)


def vcard_tel(number: str) -> str:
    """A stored number as a vCard ``TEL`` value: the E.164 ``+`` form, an extension
    after a comma (the pause phones' diallers wait before dialling it)."""
    return number.replace(";ext=", ",", 1) if number.startswith("+") else number


__all__ = [
    "DEFAULT_REGION",
    "PhoneError",
    "display_phone",
    "is_mobile",
    "is_stored",
    "normalize_phone",
    "search_digits",
    "search_key",
    "vcard_tel",
]
