"""Reading one cell as people type it: text, birth months, genders, phones, lists,
and the resolver that matches values against the configured vocabularies."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any

from crm_core import clock
from crm_core.config import Term, Vocabulary
from crm_core.formatting import value_text
from crm_core.i18n import _
from crm_core.person_fields import GENDER_WORDS, MEMBERSHIP_ZH
from crm_core.phones import PhoneError, normalize_phone

# What the services accept, and the longer forms rosters also use.
_GENDERS = GENDER_WORDS | {"男性": "male", "女性": "female"}
_MEMBERSHIP = {
    **{zh: code for code, zh in MEMBERSHIP_ZH.items()},  # 常委, 委员, 非委员 (as exported)
    **{code: code for code in MEMBERSHIP_ZH},
    "常务委员": "standing",
    "无": "none",
    "否": "none",
}
_LIST_SPLIT = re.compile(r"[、,，;；/／|｜\s]+")
_PHONE_SPLIT = re.compile(r"[,，;；、\n]+|\s/\s|\s{2,}|或")
_EMPLOYER_SPLIT = re.compile(r"\s*[\s/／|｜,，;；]\s*")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BIRTH = re.compile(
    r"^(\d{4}|\d{2})\s*(?:(?:[.\-/年]|\s)\s*(\d{1,2})\s*月?"
    r"(?:\s*[.\-/]?\s*(\d{1,2})\s*日?)?)?\s*年?$"
)
_BIRTH_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})?$")
# C0 control characters but tab, newline and carriage return (a cell's own line breaks).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MEMBER_SUFFIXES = ("党员", "盟员", "会员", "社员", "成员", "人士")


class CellProblem(ValueError):
    """A cell's value cannot be used; the message says why (translated)."""


class UnknownTerm(CellProblem):
    """Values of a cell that no entry of the vocabulary reads as: a question for the
    user (:mod:`crm_core.roster.unknowns`), not a bad cell."""

    def __init__(self, message: str, items: tuple[str, ...]) -> None:
        super().__init__(message)
        self.items = items


class LeftOut(CellProblem):
    """The cell holds a value whose rows the user chose to leave out."""


def cell_text(value: Any) -> str:
    """A cell as the text the office sees (numbers without a trailing ``.0``; see
    :func:`crm_core.formatting.value_text`, kind ``cell``)."""
    return value_text(value, "cell")


def _nfkc(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def parse_birth(value: Any, *, today: date | None = None) -> str:
    """A birth year and month as people type it, as ``YYYY-MM`` (or ``YYYY``).

    ``1965.03``, ``1965.3``, ``65.03``, ``1965年3月``, ``1965-3``, ``1965/03``,
    ``1965-03-12``, ``196503``, ``19650312``, full-width digits, an Excel date cell or
    date serial number. Two-digit years are 19xx unless 20xx is at least 20 years ago.
    Raises :class:`CellProblem` saying why a value is not a birth month.
    """
    today = today or clock.now().date()
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 10_000 <= value <= 80_000:
        day = date(1899, 12, 30) + timedelta(days=value)  # an Excel date serial number
        return f"{day.year:04d}-{day.month:02d}"
    text = _nfkc(cell_text(value)).replace(" ", "")
    m = _BIRTH.match(text)
    year_s, month_s = (m.group(1), m.group(2)) if m else (None, None)
    if m is None:
        c = _BIRTH_COMPACT.match(text)
        if c is None:
            raise CellProblem(_("not a birth year and month (like 1965.03 or 1965年3月)"))
        year_s, month_s = c.group(1), c.group(2)
    assert year_s is not None
    year = int(year_s)
    if len(year_s) == 2:
        year += 2000 if 2000 + year <= today.year - 20 else 1900
    if not 1900 <= year <= today.year:
        raise CellProblem(_("year {year} is not a plausible birth year").format(year=year))
    if month_s is None:
        return f"{year:04d}"
    month = int(month_s)
    if not 1 <= month <= 12:
        raise CellProblem(_("month {month} does not exist (1–12)").format(month=month_s))
    return f"{year:04d}-{month:02d}"


def parse_gender(value: str) -> str:
    """``male`` or ``female`` from what people type (男, 女, 男性, M, female …)."""
    key = _nfkc(value).casefold()
    if key in _GENDERS:
        return _GENDERS[key]
    raise CellProblem(_("gender must be 男 or 女"))


def parse_phones(value: str) -> list[str]:
    """The phone numbers in a cell, in the stored form (E.164, :mod:`crm_core.phones`;
    several may be separated by 、,; or 或)."""
    out = []
    for piece in _PHONE_SPLIT.split(unicodedata.normalize("NFKC", value)):
        if piece.strip():
            try:
                out.append(normalize_phone(piece))
            except PhoneError as exc:
                raise CellProblem(_phone_reason(exc)) from None
    return out


def _phone_reason(exc: PhoneError) -> str:
    if exc.template == "contains characters that are not digits":
        return _("not a phone number: it contains characters that are not digits")
    return exc.translated()


def split_list(value: str) -> list[str]:
    """The items of a cell holding several (separated by 、，,;； / or spaces)."""
    return [p for p in _LIST_SPLIT.split(_nfkc(value)) if p]


def split_employer_title(value: str) -> tuple[str, str | None]:
    """``扬州大学 教授`` -> (扬州大学, 教授); without a clear separator (space, slash,
    comma, semicolon) everything is the employer."""
    text = _nfkc(value)
    parts = [p for p in _EMPLOYER_SPLIT.split(text) if p]
    if len(parts) < 2:
        return text, None
    cut = text.rstrip().rfind(parts[-1])
    employer = _EMPLOYER_SPLIT.sub(" ", text[:cut]).strip(" /／|｜,，;；")
    return employer, parts[-1]


class Resolver:
    """Reads a vocabulary label as people type it: the code, the Chinese or English
    label, an alias from config (``aliases = [...]`` on the term), or, failing those, a
    close reading that is reported: a membership suffix dropped (中共党员 -> 中共,
    无党派人士 -> 无党派), 界 ignored (少数民族人士 -> 少数民族界人士), or an abbreviation
    of exactly one label (科技界 -> 科学技术界)."""

    def __init__(self, vocab: Vocabulary, what: str) -> None:
        self.vocab = vocab
        self.what = what
        self.cache: dict[str, tuple[Term, bool]] = {}
        self.terms = list(vocab)
        self.exact: dict[str, Term] = {}
        for t in self.terms:
            for label in (t.code, t.zh, t.en, *(t.extra.get("aliases") or [])):
                self.exact.setdefault(_vkey(str(label)), t)

    def __call__(self, value: str) -> tuple[str, str | None]:
        """(code, the label it was read as when the reading was approximate)."""
        hit = self.cache.get(value)
        if hit is None:
            hit = self._resolve(value)
            self.cache[value] = hit
        term, approx = hit
        return term.code, (term.zh if approx else None)

    def _resolve(self, value: str) -> tuple[Term, bool]:
        term = self.vocab.resolve(value)
        if term is not None:
            return term, False
        key = _vkey(value)
        if key in self.exact:
            return self.exact[key], False
        for suffix in _MEMBER_SUFFIXES:
            if key.endswith(suffix) and key[: -len(suffix)] in self.exact:
                return self.exact[key[: -len(suffix)]], True
        if "界" in key or any("界" in t.zh for t in self.terms):
            bare = key.replace("界", "")
            found = {t.code: t for t in self.terms if _vkey(t.zh).replace("界", "") == bare}
            if len(found) == 1:
                return next(iter(found.values())), True
        if len(key) >= 2:
            found = {
                t.code: t
                for t in self.terms
                if (z := _vkey(t.zh))[0] == key[0] and z[-1] == key[-1] and _subsequence(key, z)
            }
            if len(found) == 1:
                return next(iter(found.values())), True
        shown = "、".join(t.zh for t in self.terms[:12])
        more = "…" if len(self.terms) > 12 else ""
        raise UnknownTerm(
            _("not one of the configured {what}: {labels}{more}").format(
                what=_(self.what), labels=shown, more=more
            ),
            (value,),
        )


def _vkey(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\-–—·・()（）]+", "", text)


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return len(short) < len(long) and all(c in it for c in short)


# -- results -------------------------------------------------------------------------
