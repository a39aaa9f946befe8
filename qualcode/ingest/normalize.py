"""Line-level cleaning shared by every reader, plus mojibake and date helpers."""
from __future__ import annotations

import os
import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from functools import lru_cache
from itertools import chain

from qualcode.data import data_path
from qualcode.text.script import fold

# Invisible format characters that survive copy-paste from Word, WPS and web pages.
# U+200D (zero-width joiner) is handled separately: it is part of emoji sequences.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e"
        "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
    None,
)
_SPACES = {ord(c): " " for c in "\u00a0\u2007\u202f"}
_ZWJ_OUTSIDE_EMOJI = re.compile(r"(?<![\U0001F000-\U0001FAFF\u2600-\u27bf\ufe0f])\u200d")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Any character the first four steps of clean_line change. Most lines have none, and one
# regex search is much cheaper than two str.translate calls (a dict lookup per character).
_NEEDS_CLEANING = re.compile(
    "[" + re.escape("".join(map(chr, (*_INVISIBLE, *_SPACES)))) + "\u200d\x00-\x08\x0b-\x1f\x7f-\x9f]"
)

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
# One pinyin syllable: optional initial, a vowel group, optional -n/-ng/-r, optional tone digit.
_SYLLABLE = (
    rf"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    rf"[aeiouüv{_TONE_VOWELS}]+(?:ng|n|r)?[1-5]?"
)
_PINYIN_ANNOTATION = re.compile(
    rf"(?<=[{_CJK}])\s?[(（]\s*({_SYLLABLE}(?:[\s'’]+{_SYLLABLE})*)\s*[)）]"
)


def _is_toned_pinyin(group: str) -> bool:
    # Only strip real annotations: plain Latin such as "(PPT)" or "(ok)" carries no tone.
    return any(ch in _TONE_VOWELS for ch in group) or bool(re.search(r"[a-zü][1-5]\b", group))


def _strip_pinyin(match: re.Match[str]) -> str:
    return "" if _is_toned_pinyin(match.group(1)) else match.group(0)


def clean_line(s: str) -> str:
    """NFC, drop invisible characters and pinyin annotations, NBSP to space, rstrip."""
    if _NEEDS_CLEANING.search(s):
        s = s.translate(_INVISIBLE).translate(_SPACES)
        s = _ZWJ_OUTSIDE_EMOJI.sub("", s)
        s = _CONTROL.sub("", s)
    # After removing invisibles: a dropped U+200B can bring a letter and its accent together.
    s = unicodedata.normalize("NFC", s)
    if "(" in s or "（" in s:
        # Repeat so that stacked annotations, 领(lǐng)(ling3), all go.
        for _ in range(3):
            stripped = _PINYIN_ANNOTATION.sub(_strip_pinyin, s)
            if stripped == s:
                break
            s = stripped
    return s.rstrip()


def clean_lines(lines: list[str]) -> list[str]:
    """``[clean_line(line) for line in lines]``, with one check of the whole text: when no
    character needs cleaning and the text is NFC (then so is every line: no character
    composes across the newline that joins them), a line without a parenthesis only loses
    its trailing spaces."""
    text = "\n".join(lines)  # _NEEDS_CLEANING never matches a newline
    if _NEEDS_CLEANING.search(text) or not unicodedata.is_normalized("NFC", text):
        return [clean_line(line) for line in lines]
    return [clean_line(line) if "(" in line or "（" in line else line.rstrip() for line in lines]


# --- character plausibility ---------------------------------------------------------

# Conversational particles and written Cantonese that the jieba dictionary under-represents.
_PARTICLES = "嗯啊哦呃喔欸诶哎唉嘛呗咧啦哇呀吧呢吗么噢哈咱啥俺咋嗐" "佢哋唔嘅咗喺冇啲嘢咁噉嚟睇揾乜啱嗰啩喎啰咩噃畀攞嘥"


_COMMON_CJK = data_path("common_cjk.txt")


@lru_cache(maxsize=1)
def common_cjk_chars() -> frozenset[str]:
    """Simplified characters common in modern Chinese (``derive_common_cjk_chars``).

    Shipped as a file because deriving them from jieba's 5 MB dictionary costs 0.4 s in
    every process that checks a text; a test checks the file against the derivation.
    """
    return frozenset(_COMMON_CJK.read_text(encoding="utf-8").strip())


def derive_common_cjk_chars() -> frozenset[str]:
    """Simplified characters common in modern Chinese, from jieba's bundled dictionary.

    A character counts as common when many dictionary words contain it, or when it is
    a frequent one-character word. Frequency alone is not enough: the dictionary
    carries a few high-frequency mojibake entries (鍦, 繖). Write the result to
    ``qualcode/data/common_cjk.txt`` with ``write_common_cjk_chars()``.
    """
    import jieba

    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    with open(path, encoding="utf-8") as fh:
        content = fh.read()
    # Lines are "word freq tag". The words come from one regex scan and are folded in one
    # call (a word has no newline), without a Python object per line.
    words = re.findall(r"(?m)^([^ \n]*) ", content)
    words_with = Counter(chain.from_iterable(map(set, fold("\n".join(words)).split("\n"))))
    single_freq = {fold(word): int(freq) for word, freq in re.findall(r"(?m)^([^ \n]) ([^ \n]*) ", content)}
    common = {
        ch
        for ch, n in words_with.items()
        if n >= 20 or (n >= 2 and single_freq.get(ch, 0) >= 1000)
    }
    common.update(_PARTICLES)
    return frozenset(ch for ch in common if "\u4e00" <= ch <= "\u9fff")


def write_common_cjk_chars() -> None:
    """Write ``derive_common_cjk_chars()`` to the shipped file (after a jieba dictionary change)."""
    _COMMON_CJK.parent.mkdir(exist_ok=True)
    _COMMON_CJK.write_text("".join(sorted(derive_common_cjk_chars())) + "\n", encoding="utf-8")


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


_CJK_CHAR = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")  # is_cjk as a regex


@lru_cache(maxsize=1)
def _rare_cjk_char() -> re.Pattern[str]:
    """A regex for the BMP CJK characters (is_cjk) outside common_cjk_chars()."""
    common = common_cjk_chars()
    rare = [c for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF)) for c in range(lo, hi + 1) if chr(c) not in common]
    ranges: list[list[int]] = []  # consecutive code points as one range, so the class stays small
    for c in rare:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return re.compile("[" + "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges) + "]")


def rare_cjk_share(text: str, folded: str | None = None) -> tuple[float, int]:
    """(share of BMP CJK characters outside the common set, number of CJK characters).

    ``folded`` is ``fold(text)`` when the caller has it already. The characters are counted
    by regex substitution (in C) rather than by a Python loop over them.
    """
    folded = fold(text) if folded is None else folded
    n = _CJK_CHAR.subn("", folded)[1]
    if not n:
        return 0.0, 0
    return _rare_cjk_char().subn("", folded)[1] / n, n


# --- mojibake ------------------------------------------------------------------------

_GARBAGE_RUNS = ("锟斤拷", "烫烫烫", "屯屯屯")
# UTF-8 read as Latin-1/cp1252: a lead byte (Â..ï) followed by a continuation byte.
_CP1252_CONT = "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc" \
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
_LATIN1_MOJIBAKE = re.compile(rf"[\u00c2-\u00ef][{_CP1252_CONT}]")
# Bopomofo, private-use and half-width katakana appear in GBK readings of UTF-8 bytes.
_ODD_IN_CJK = re.compile(r"[\u3100-\u312f\ue000-\uf8ff\uff61-\uff9f]")


def suspect_mojibake(text: str, folded: str | None = None) -> str | None:
    """A short reason when ``text`` looks like the result of a wrong decode, else None.

    ``folded`` is ``fold(text)`` when the caller has it already.
    """
    if "\ufffd" in text:
        return "contains U+FFFD replacement characters"
    for run in _GARBAGE_RUNS:
        if run in text:
            return f"contains '{run}' (bytes lost in an earlier wrong decode)"
    if len(_LATIN1_MOJIBAKE.findall(text)) >= 2:
        return "Latin-1 mojibake such as 'Ã©' or 'â€œ' (UTF-8 read as Latin-1?)"
    return _rare_reason(text, folded, None)


def _rare_reason(text: str, folded: str | None, odd: int | None) -> str | None:
    share, n = rare_cjk_share(text, folded)
    if n < 3:
        return None
    if odd is None:
        odd = len(_ODD_IN_CJK.findall(text))
    # Short passages need a higher share: one rare surname must not trip the check.
    threshold = 0.75 if n < 8 else 0.5 if n < 20 else 0.3
    if share >= threshold or (odd and (share + odd / n) >= threshold):
        return f"{share:.0%} of Chinese characters are rare (UTF-8 read as GBK?)"
    return None


def suspect_mojibake_spans(text: str, spans: list[tuple[int, int]], folded: str | None = None) -> list[str | None]:
    """``suspect_mojibake(text[start:end])`` for each span (in order, not overlapping).

    A check that finds nothing in the whole text finds nothing in any part of it (for the
    Latin-1 pairs: fewer than two in the whole text means fewer than two in any part). In a
    clean document, nearly every document, that leaves the rare-character share, which can
    only trip in a span with at least one rare character: those are found by one scan of
    the whole text, and only their spans are counted.
    """
    folded = fold(text) if folded is None else folded
    if (
        "\ufffd" in text
        or any(run in text for run in _GARBAGE_RUNS)
        or len(_LATIN1_MOJIBAKE.findall(text)) >= 2
        or _ODD_IN_CJK.search(text)
    ):
        return [suspect_mojibake(text[start:end], folded[start:end]) for start, end in spans]
    reasons: list[str | None] = [None] * len(spans)
    starts = [start for start, _ in spans]
    checked = -1
    for m in _rare_cjk_char().finditer(folded):
        i = bisect_right(starts, m.start()) - 1
        if i > checked and i >= 0 and m.start() < spans[i][1]:
            checked = i
            start, end = spans[i]
            reasons[i] = _rare_reason(text[start:end], folded[start:end], 0)
    return reasons


# --- dates ---------------------------------------------------------------------------

_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _cn_number(s: str) -> str:
    """'二〇二二' -> '2022', '二十一' -> '21'; digits pass through."""
    if s.isdigit():
        return str(int(s))
    if "十" not in s:
        return "".join(str(_CN_DIGITS[c]) for c in s)
    tens, _, ones = s.partition("十")
    return str((_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0))


_N = r"(\d{1,4}|[〇零○Ｏ一二三四五六七八九十]{1,4})"
_DATE_PATTERNS = (
    (re.compile(rf"{_N}\s*年\s*{_N}\s*月\s*{_N}\s*[日号]"), "ymd"),
    (re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"), "ymd"),
    (re.compile(r"(?<!\d)(20\d{2}|19\d{2})(\d{2})(\d{2})(?!\d)"), "ymd"),
    (re.compile(rf"{_N}\s*年\s*{_N}\s*月"), "ym"),
    (re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})(?![-/.\d])"), "ym"),
    (re.compile(rf"{_N}\s*月\s*{_N}\s*[日号]"), "md"),
)


def iso_date(s: str) -> str | None:
    """The first date in ``s`` as 'YYYY-MM-DD', 'YYYY-MM' or 'MM-DD'; None if there is none."""
    for pattern, kind in _DATE_PATTERNS:
        for m in pattern.finditer(s):
            try:
                parts = [int(_cn_number(g)) for g in m.groups()]
            except KeyError:
                continue
            if kind == "ymd":
                y, mo, d = parts
                if 1900 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31:
                    return f"{y:04d}-{mo:02d}-{d:02d}"
            elif kind == "ym":
                y, mo = parts
                if 1900 <= y <= 2100 and 1 <= mo <= 12:
                    return f"{y:04d}-{mo:02d}"
            else:
                mo, d = parts
                if 1 <= mo <= 12 and 1 <= d <= 31:
                    return f"{mo:02d}-{d:02d}"
    return None
