"""Pinyin keys and text normalisation for people's names.

Every person written gets two derived search keys, ``name_pinyin`` ("zhangsan") and
``name_initials`` ("zs"), so that a user can find 张三 by typing either. This module
computes them and normalises the text they are computed from.

pypinyin alone reads a name as ordinary text: 单雄信 comes out as "danxiongxin" and
曾国藩 as "cengguofan". A surname has its own reading, so the first character(s) of a
name are looked up in a surname table first (compound surnames such as 欧阳 or 尉迟
before single ones, longest match wins); only the given name goes through pypinyin,
which then uses phrase context inside the given name (张长江 -> "changjiang").

All functions are pure. The per-string pypinyin work is memoised: writing 100,000
demo people costs well under a second (about 4 us a name).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

__all__ = ["name_pinyin", "normalize_name", "normalize_text", "query_is_pinyin"]

# ---------------------------------------------------------------------------------------
# Surname tables
# ---------------------------------------------------------------------------------------

# Compound surnames (复姓), read as a whole; syllables separated by spaces so the
# initials can take one letter per character (欧阳 -> "oy"). Traditional forms are
# listed too, for members from Hong Kong, Macao and Taiwan.
_COMPOUND_SURNAMES: Final[dict[str, str]] = {
    "欧阳": "ou yang",
    "司马": "si ma",
    "诸葛": "zhu ge",
    "上官": "shang guan",
    "东方": "dong fang",
    "皇甫": "huang fu",
    "尉迟": "yu chi",
    "公孙": "gong sun",
    "慕容": "mu rong",
    "长孙": "zhang sun",
    "宇文": "yu wen",
    "司徒": "si tu",
    "夏侯": "xia hou",
    "令狐": "ling hu",
    "轩辕": "xuan yuan",
    "澹台": "tan tai",
    "端木": "duan mu",
    "申屠": "shen tu",
    "太史": "tai shi",
    "西门": "xi men",
    "南宫": "nan gong",
    "万俟": "mo qi",
    "闻人": "wen ren",
    "赫连": "he lian",
    "呼延": "hu yan",
    "独孤": "du gu",
    "钟离": "zhong li",
    "百里": "bai li",
    "东郭": "dong guo",
    "第五": "di wu",
    "司空": "si kong",
    "司寇": "si kou",
    "鲜于": "xian yu",
    "淳于": "chun yu",
    "濮阳": "pu yang",
    "公冶": "gong ye",
    "公羊": "gong yang",
    "公西": "gong xi",
    "公良": "gong liang",
    "仲孙": "zhong sun",
    "叔孙": "shu sun",
    "左丘": "zuo qiu",
    "梁丘": "liang qiu",
    "闾丘": "lv qiu",
    "羊舌": "yang she",
    "巫马": "wu ma",
    "漆雕": "qi diao",
    "宰父": "zai fu",
    "谷梁": "gu liang",
    "亓官": "qi guan",
    "颛孙": "zhuan sun",
    "东门": "dong men",
    "乐正": "yue zheng",
    "拓跋": "tuo ba",
    "完颜": "wan yan",
    "纳兰": "na lan",
    "爱新觉罗": "ai xin jue luo",
    "叶赫那拉": "ye he na la",
    # Traditional forms.
    "歐陽": "ou yang",
    "司馬": "si ma",
    "諸葛": "zhu ge",
    "東方": "dong fang",
    "尉遲": "yu chi",
    "公孫": "gong sun",
    "長孫": "zhang sun",
    "軒轅": "xuan yuan",
    "澹臺": "tan tai",
    "萬俟": "mo qi",
    "聞人": "wen ren",
    "赫連": "he lian",
    "獨孤": "du gu",
    "鍾離": "zhong li",
    "東郭": "dong guo",
    "西門": "xi men",
    "南宮": "nan gong",
    "鮮于": "xian yu",
    "濮陽": "pu yang",
    "東門": "dong men",
    "樂正": "yue zheng",
    "納蘭": "na lan",
    "愛新覺羅": "ai xin jue luo",
}

# Single surnames whose surname reading is not (or not reliably) pypinyin's default
# reading of the character alone. Only well-attested readings are listed; 尉 alone
# stays "wei" (it is "yu" only inside 尉迟), and doubtful ones are left out.
_SINGLE_SURNAMES: Final[dict[str, str]] = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "区": "ou",
    "查": "zha",
    "盖": "ge",
    "缪": "miao",
    "覃": "qin",
    "召": "shao",
    "繁": "po",
    "种": "chong",
    "秘": "bi",
    "乐": "yue",
    "员": "yun",
    "华": "hua",
    "任": "ren",
    "那": "na",
    "翟": "zhai",
    "瞿": "qu",
    "冼": "xian",
    "洗": "xian",
    "隗": "wei",
    "谌": "chen",
    "句": "gou",
    "长": "chang",
    "折": "she",
    "逄": "pang",
    "牟": "mou",
    "宓": "mi",
    "卜": "bu",
    "石": "shi",
    "柏": "bai",
    "薄": "bo",
    "重": "chong",
    "藏": "zang",
    "沈": "shen",
    "褚": "chu",
    "祭": "zhai",
    "应": "ying",
    "相": "xiang",
    "殷": "yin",
    "能": "nai",
    "车": "che",
    "宿": "su",
    "都": "du",
    "阿": "a",
    "阚": "kan",
    "佴": "nai",
    "乜": "nie",
    "粘": "nian",
    "贾": "jia",
    "陆": "lu",
    "叶": "ye",
    "盛": "sheng",
    "曲": "qu",
    "燕": "yan",
    "宁": "ning",
    # Traditional forms.
    "單": "shan",
    "區": "ou",
    "蓋": "ge",
    "繆": "miao",
    "種": "chong",
    "樂": "yue",
    "員": "yun",
    "華": "hua",
    "諶": "chen",
    "長": "chang",
    "應": "ying",
    "車": "che",
    "闞": "kan",
    "賈": "jia",
    "陸": "lu",
    "葉": "ye",
    "寧": "ning",
}

# One table keyed by the surname's characters; values are the syllables.
_SURNAMES: Final[dict[str, tuple[str, ...]]] = {
    **{k: (v,) for k, v in _SINGLE_SURNAMES.items()},
    **{k: tuple(v.split()) for k, v in _COMPOUND_SURNAMES.items()},
}
# Surname lengths to try, longest first (4 for 爱新觉罗, 2 for 欧阳, 1 for 单).
_SURNAME_LENGTHS: Final[tuple[int, ...]] = tuple(sorted({len(k) for k in _SURNAMES}, reverse=True))

# ---------------------------------------------------------------------------------------
# Character classes
# ---------------------------------------------------------------------------------------

# CJK ideographs: 〇, Extension A, the URO, compatibility ideographs and the
# supplementary ideographic planes (Extensions B to I, plane 3).
_HAN_CLASS: Final[str] = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_HAN_RE: Final[re.Pattern[str]] = re.compile(f"[{_HAN_CLASS}]")
# A name splits into runs of ideographs and runs of (folded) ASCII letters; everything
# else (digits, punctuation, the middle dot, spaces, other scripts) only separates them.
_TOKEN_RE: Final[re.Pattern[str]] = re.compile(f"([{_HAN_CLASS}]+)|([A-Za-z]+)")

# Characters that are invisible but not whitespace, often pasted in from web pages.
_INVISIBLE: Final[dict[int, None]] = {0x200B: None, 0x2060: None, 0xFEFF: None}

# Look-alikes of the middle dot "·" (U+00B7) that separates the parts of a
# transliterated name (阿依古丽·买买提); normalize_name makes them all U+00B7.
_MIDDLE_DOT: Final[str] = "\u00b7"
_DOT_VARIANTS: Final[dict[int, str]] = {
    cp: _MIDDLE_DOT for cp in (0x2022, 0x2027, 0x2219, 0x22C5, 0x30FB, 0xFF65)
}
# An ASCII full stop between two ideographs is a mistyped middle dot.
_HAN_DOT_RE: Final[re.Pattern[str]] = re.compile(f"(?<=[{_HAN_CLASS}])\\.(?=[{_HAN_CLASS}])")

# Size of the memo of pypinyin results (per ideograph run, mostly given names).
_CACHE_SIZE: Final[int] = 1 << 15


# ---------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------


def normalize_text(s: str) -> str:
    """Normalise free text for storage and comparison.

    NFKC folds full-width forms to half-width ("ＡＢＣ１" -> "ABC1") and compatibility
    ideographs to their unified form; zero-width spaces and BOMs are removed; leading
    and trailing whitespace is stripped and every internal run of whitespace (including
    the ideographic space U+3000, tabs and newlines) becomes one ASCII space.
    """
    text = unicodedata.normalize("NFKC", s).translate(_INVISIBLE)
    return " ".join(text.split())


def _keeps_space(left: str, right: str) -> bool:
    # A space next to an ideograph or a middle dot goes ("张 三" -> "张三", "李 Mary" ->
    # "李Mary"); between anything else it stays ("Mary Jane", "J. Smith").
    return not (
        left == _MIDDLE_DOT
        or right == _MIDDLE_DOT
        or _HAN_RE.match(left) is not None
        or _HAN_RE.match(right) is not None
    )


def normalize_name(s: str) -> str:
    """Normalise a person's name as typed or imported.

    On top of :func:`normalize_text`, every space next to an ideograph is removed
    ("张  三" and "　张　三　" -> "张三"), while other spaces stay
    ("Mary  Jane" -> "Mary Jane", "J. Smith"). Middle-dot look-alikes (・ • ‧ and a "." between two
    ideographs) become "·", and spaces around the dot are removed
    ("阿依古丽 ・ 买买提" -> "阿依古丽·买买提").
    """
    text = normalize_text(s).translate(_DOT_VARIANTS)
    if " " in text:
        parts = text.split(" ")
        pieces = [parts[0]]
        for part in parts[1:]:
            if _keeps_space(pieces[-1][-1], part[0]):
                pieces.append(" ")
            pieces.append(part)
        text = "".join(pieces)
    if "." in text:
        text = _HAN_DOT_RE.sub(_MIDDLE_DOT, text)
    return text


def query_is_pinyin(q: str) -> bool:
    """Tell whether a search query is pinyin or initials rather than a name.

    True when, after :func:`normalize_text` (so full-width "ＺＳ" counts) and stripping,
    the query is non-empty and made only of ASCII letters: "zs", "ZhangSan" and
    "lv" are; "张三", "zhang san" (internal space), "lü", "138" and "" are not.
    """
    text = normalize_text(q)
    return text.isascii() and text.isalpha()


# ---------------------------------------------------------------------------------------
# Pinyin
# ---------------------------------------------------------------------------------------


@lru_cache(maxsize=_CACHE_SIZE)
def _han_syllables(run: str) -> tuple[str, ...]:
    # pypinyin with phrase context; characters it has no reading for are dropped
    # (errors="ignore"). NORMAL style without v_to_u spells ü as "v" (吕 -> "lv").
    # Imported here: loading pypinyin's dictionaries takes a quarter of a second, which
    # every command that never derives a pinyin (a search, a listing) should not pay.
    from pypinyin import Style, lazy_pinyin  # type: ignore[import-untyped, unused-ignore]

    syllables = lazy_pinyin(run, style=Style.NORMAL, errors="ignore", v_to_u=False)
    # Keep plain ASCII letters only, whatever a future dictionary might return.
    return tuple(clean for clean in (_ascii_letters(str(syl)) for syl in syllables) if clean)


def _ascii_letters(text: str) -> str:
    # Lowercase ASCII letters of text: accents are stripped ("José" -> "jose"),
    # ü becomes v to match pinyin spelling, everything else is dropped.
    text = text.lower()
    if text.isascii():
        return text if text.isalpha() else "".join(c for c in text if "a" <= c <= "z")
    text = unicodedata.normalize("NFKD", text.replace("ü", "v"))
    return "".join(c for c in text if "a" <= c <= "z")


def _split_surname(run: str) -> tuple[tuple[str, ...], str]:
    # Syllables of the surname at the start of an ideograph run, and the rest of the
    # run (the given name). The longest surname in the table wins; a first character
    # not in the table is read alone, so it never joins a phrase with the given name.
    for length in _SURNAME_LENGTHS:
        if length <= len(run):
            syllables = _SURNAMES.get(run[:length])
            if syllables is not None:
                return syllables, run[length:]
    return _han_syllables(run[0]), run[1:]


def _fold_latin(text: str) -> str:
    # Strip accents from Latin letters so that "José" is found by [A-Za-z]+ as "Jose".
    # Ideographs are unaffected by NFKD after NFKC.
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_pinyin(name: str) -> tuple[str, str]:
    """Return (full, initials) for a Chinese personal name, lowercase ASCII, no spaces/tones.

    e.g. "张三" -> ("zhangsan", "zs"); "单雄信" -> ("shanxiongxin", "sxx");
    "欧阳修" -> ("ouyangxiu", "oyx"); "吕布" -> ("lvbu", "lb").

    The name is first passed through :func:`normalize_name`. The first characters are
    read from the surname table when they are in it (compound surnames first, one
    initial per character: 欧阳 -> "oy"); the given name is read by pypinyin with phrase
    context. Ideographs pypinyin has no reading for are dropped, Latin letters are kept
    lowercased (one initial per Latin word: "Mary张" -> ("maryzhang", "mz")), and digits,
    punctuation and the middle dot "·" only separate parts.
    """
    text = _fold_latin(normalize_name(name))
    syllables: list[str] = []  # one entry per token; its first letter is the initial
    first = True
    for match in _TOKEN_RE.finditer(text):
        han, latin = match.group(1), match.group(2)
        if han:
            if first:
                surname, han = _split_surname(han)
                syllables.extend(surname)
            if han:
                syllables.extend(_han_syllables(han))
        else:
            # A run of Latin letters is one token ("Mary" -> initial "m").
            syllables.append(latin.lower())
        first = False
    return "".join(syllables), "".join(syl[0] for syl in syllables)


def phrase_pinyin(text: str) -> tuple[str, str]:
    """Return (full, initials) for any short phrase (a tag, a label), as
    :func:`name_pinyin` does for names but reading every ideograph as a word, not the
    first one as a surname: "重点" -> ("zhongdian", "zd"); "书法" -> ("shufa", "sf")."""
    text = _fold_latin(normalize_text(text))
    syllables: list[str] = []
    for match in _TOKEN_RE.finditer(text):
        han, latin = match.group(1), match.group(2)
        syllables.extend(_han_syllables(han) if han else [latin.lower()])
    return "".join(syllables), "".join(syl[0] for syl in syllables)
