"""A person as the vCard 3.0 a phone's address book holds (CardDAV, ``tongxin sync carddav``).

Version 3.0 (RFC 2426) is what iOS and DAVx5 read best. A card holds:

- ``UID`` ``tongxin-person-<id>`` (stable: the same person is always the same card);
- ``FN`` and ``N`` with the Chinese name (surname and given name split as the phone
  shows them), ``X-PHONETIC-LAST-NAME`` / ``X-PHONETIC-FIRST-NAME`` with the pinyin,
  which iOS and Android use to sort and search Chinese names;
- ``ORG`` (employer), ``TITLE``, ``TEL`` (the mobile ``TYPE=CELL``, the others
  ``TYPE=VOICE``), ``EMAIL``, ``ADR`` (work address), ``CATEGORIES`` (the person's
  categories and sector, as labels);
- ``REV`` (when the person last changed), so a phone sees which side is newer.

No ``NOTE``: tongxin's notes on a person are free text the office writes about them
(family, health, what was said): personal data that does not belong on a phone. Nor
birth dates, party or ethnicity.

The card is built from a person the caller already may see (:mod:`crm_core.authz`
decides which people an address book gets); its bytes depend only on the person, so a
person who did not change gives the same bytes and the sync sends nothing.
"""

from __future__ import annotations

import re

from crm_core import pinyin
from crm_core.exporter import fold, split_name
from crm_core.models import Person
from crm_core.phones import normalize_phone, vcard_tel

PRODID = "-//tongxin//CardDAV//ZH"
UID_PREFIX = "tongxin-person-"

_TEL = re.compile(r"\+\d+(?:,\d+)?")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape(text: str) -> str:
    """A vCard text value: backslash, semicolon and comma escaped, every line break
    (a lone CR too) as ``\\n`` (a raw one would start a property of someone's choosing on
    the phone), other control characters dropped."""
    return _CONTROLS.sub(
        "",
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n"),
    )


def card_uid(person_id: object) -> str:
    """The UID of a person's card."""
    return f"{UID_PREFIX}{person_id}"


def person_phones(person: Person) -> list[str]:
    """A person's numbers as tongxin holds them: the mobile first, then the others."""
    return [p for p in [person.mobile, *person.phones] if p]


def _tel(number: str) -> str:
    # The E.164 + form as it is (its comma before an extension is a dialling pause, not
    # text to escape); a value a migration could not read, escaped as text.
    tel = vcard_tel(number)
    return tel if _TEL.fullmatch(tel) else escape(tel)


def vcard(person: Person, categories: list[str] | None = None) -> bytes:
    """The vCard 3.0 of ``person`` (UTF-8, CRLF, folded at 75 octets)."""
    family, given = split_name(person.name)
    full_py = person.name_pinyin
    family_py = pinyin.name_pinyin(family)[0] if family else ""
    given_py = full_py[len(family_py) :] if family_py and full_py.startswith(family_py) else full_py
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"PRODID:{PRODID}",
        f"UID:{card_uid(person.id)}",
        f"FN:{escape(person.name)}",
        f"N:{escape(family)};{escape(given)};;;",
    ]
    if family_py:
        lines.append(f"X-PHONETIC-LAST-NAME:{escape(family_py.capitalize())}")
    if given_py:
        lines.append(f"X-PHONETIC-FIRST-NAME:{escape(given_py.capitalize())}")
    if person.employer:
        lines.append(f"ORG:{escape(person.employer)}")
    if person.title:
        lines.append(f"TITLE:{escape(person.title)}")
    if person.mobile:
        lines.append(f"TEL;TYPE=CELL:{_tel(person.mobile)}")
    for phone in person.phones:
        lines.append(f"TEL;TYPE=VOICE:{_tel(phone)}")
    if person.email:
        lines.append(f"EMAIL;TYPE=INTERNET:{escape(person.email)}")
    if person.address:
        lines.append(f"ADR;TYPE=WORK:;;{escape(person.address)};;;;")
    if categories:
        lines.append("CATEGORIES:" + ",".join(escape(c) for c in categories))
    lines.append(f"REV:{person.updated_at.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    lines.append("END:VCARD")
    return "".join(fold(line) for line in lines).encode("utf-8")


def _unfold(text: str) -> list[str]:
    return re.sub(r"\r?\n[ \t]", "", text).splitlines()


def card_tels(body: bytes) -> list[str]:
    """The phone numbers of a card as a phone left it, normalised as tongxin stores them
    (``+86 138-1234-5678`` → ``+8613812345678``, ``+852 9123 4567`` → ``+85291234567``;
    a number that cannot be read is kept as its digits and ``+``), cell numbers first,
    without repeats."""
    cells: list[str] = []
    others: list[str] = []
    for line in _unfold(body.decode("utf-8", "replace")):
        name, sep, value = line.partition(":")
        if not sep:
            continue
        prop, *params = name.split(";")
        prop = prop.rsplit(".", 1)[-1].upper()  # "item1.TEL" (Apple groups) is TEL
        if prop != "TEL":
            continue
        value = value.strip().replace("\\,", ",").replace("\\;", ";")
        if value.lower().startswith("tel:"):  # vCard 4 URIs
            value = value[4:]
        try:
            number = normalize_phone(value)
        except ValueError:
            number = re.sub(r"[^0-9+]", "", value)
        if not number:
            continue
        kinds = ",".join(params).upper()
        (cells if "CELL" in kinds or "MOBILE" in kinds else others).append(number)
    out: list[str] = []
    for n in cells + others:
        if n not in out:
            out.append(n)
    return out


def card_uid_of(body: bytes) -> str | None:
    """The UID of a card (as the server holds it), or None."""
    for line in _unfold(body.decode("utf-8", "replace")):
        name, sep, value = line.partition(":")
        if sep and name.split(";")[0].upper() == "UID":
            return value.strip()
    return None


__all__ = ["PRODID", "UID_PREFIX", "card_tels", "card_uid", "card_uid_of", "person_phones", "vcard"]
