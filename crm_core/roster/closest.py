"""The closest existing entries of a vocabulary to a value it does not know.

Offered beside an unknown value of a roster (issue 12), so the user can map it with one
choice. The value and each label or alias of an entry are compared on their *cores*:
NFKC, case, spaces and dashes ignored, and the generic ending (委员会, 区, 界, 人士 …)
dropped, since nearly every entry shares it and it says nothing about which one is
meant. Then, best first:

- the same core (经济委 ~ 经济委员会): 1.0;
- one core inside the other (瘦西湖 ~ 蜀冈-瘦西湖风景名胜区, 文史 ~ 文化文史和学习): 0.9;
- an abbreviation, the shorter core's characters in order in the longer, starting
  alike (经开区 ~ 经济技术开发区, 科技 ~ 科学技术界, 民主建国会 ~ 民建): 0.8 and up;
- the same sound, the pinyin syllables (韩江区 ~ 邗江区): up to 0.85;
- shared characters, each weighted by how rare it is among the vocabulary's labels
  (a 扬 or 州 found in many entries counts little, a 侨 in one counts much).

A merged name (民族宗教和港澳台侨委员会) is also split at 和/与/及/、 and each part
compared: each of the entries it merges then comes first, so the user can map it to both.
Entries scoring under :data:`THRESHOLD` are not offered: no suggestion is better than a
misleading one (智库委员会 shares only 委员会 with the committees).
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Iterable

from crm_core.config import Term

THRESHOLD = 0.5
_GENERIC = re.compile(
    r"(专门委员会|工作委员会|委员会|专委会|委|联合会|人士|界别|界|学社|党|区|县|市|镇|街道)$"
)
_PARTS = re.compile(r"[和与及、/,，;；]+")


def value_key(text: str) -> str:
    """A value as compared: NFKC, case and spaces, dashes and brackets ignored."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\-–—·・()（）]+", "", text)


def core(text: str) -> str:
    """``text``'s key with its generic ending dropped (when something is left)."""
    key = value_key(text)
    stripped = _GENERIC.sub("", key)
    return stripped if len(stripped) >= 1 else key


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _weights(labels: list[list[str]]) -> dict[str, float]:
    """An inverse document frequency per character: terms whose labels hold it."""
    df: dict[str, int] = {}
    for term_labels in labels:
        for ch in set("".join(term_labels)):
            df[ch] = df.get(ch, 0) + 1
    n = len(labels)
    return {ch: math.log((n + 1) / (d + 0.5)) for ch, d in df.items()}


def _shared(a: str, b: str, weight: dict[str, float]) -> float:
    def w(ch: str) -> float:
        return weight.get(ch, math.log(2 * (len(weight) + 1)))

    sa, sb = set(a), set(b)
    total = sum(map(w, sa)) + sum(map(w, sb))
    return 2 * sum(map(w, sa & sb)) / total if total else 0.0


def _heard(a: str, b: str) -> float:
    # Imported on first use (pypinyin's phrase dictionary costs ~0.3 s of every start).
    from pypinyin import lazy_pinyin  # type: ignore[import-untyped, unused-ignore]

    pa, pb = lazy_pinyin(a), lazy_pinyin(b)
    ratio = difflib.SequenceMatcher(None, pa, pb).ratio()
    return 0.85 * ratio if ratio >= 0.75 else 0.0


def score(value: str, label: str, weight: dict[str, float]) -> float:
    """How close the cores ``value`` and ``label`` are, from 0 to 1 (see the module)."""
    if not value or not label:
        return 0.0
    if value == label:
        return 1.0
    short, long = sorted((value, label), key=len)
    if len(short) >= 2 and short in long:
        return 0.9
    if len(short) >= 2 and short[0] == long[0] and _subsequence(short, long):
        return 0.8 + 0.1 * len(short) / len(long)
    return max(_heard(value, label), _shared(value, label, weight))


def suggest(value: str, vocab: Iterable[Term], n: int = 3) -> list[Term]:
    """The entries closest to ``value`` (at most ``n``, best first; none under
    :data:`THRESHOLD`): the same core, one inside the other, an abbreviation, the same
    sound, shared rare characters; each part of a merged name counting on its own."""
    terms = list(vocab)
    labels = [[core(str(x)) for x in (t.zh, *(t.extra.get("aliases") or []))] for t in terms]
    weight = _weights(labels)
    whole = core(value)
    parts = [p for p in (core(p) for p in _PARTS.split(whole)) if len(p) >= 2]
    scored: list[tuple[float, int, Term]] = []
    for i, (term, cores) in enumerate(zip(terms, labels, strict=True)):
        best = 0.0
        for lk in cores:
            best = max(best, score(whole, lk, weight))
            if len(parts) > 1:
                best = max(best, *(0.95 * score(p, lk, weight) for p in parts))
        if best >= THRESHOLD:
            scored.append((best, -i, term))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    return [t for _s, _i, t in scored[:n]]
