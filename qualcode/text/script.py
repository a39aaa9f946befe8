"""Chinese script handling: simplified/traditional folding and conversion (OpenCC data).

Two different needs:

* ``fold`` maps every character to its simplified form one-for-one (every one-to-one
  character mapping of OpenCC's tables, both directions: 著/着, 於/于, 裡/裏/里), so offsets into the
  folded text are offsets into the original. Matching (jieba, codebook rules) runs on
  folded text, which makes it script-insensitive without moving any offset.
* ``convert`` is OpenCC's full phrase-level conversion, used once at import time when the
  researcher asks for ``--script simplified|traditional``; it may change the length, which
  is fine because offsets are always taken over the stored (converted) text.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

SCRIPTS = ("keep", "simplified", "traditional")


def _opencc_dictionary(name: str) -> Path:
    import opencc

    return Path(opencc.__file__).parent / "dictionary" / name


def _dictionary_entries(name: str):
    """(source, targets) of an OpenCC dictionary file, one line each."""
    with open(_opencc_dictionary(name), encoding="utf-8") as fh:
        for line in fh:
            src, _, targets = line.rstrip("\n").partition("\t")
            yield src, [t for t in targets.split(" ") if t]


def _single(src: str, targets: list[str]) -> str | None:
    """The one character ``src`` maps to besides itself, or None (a phrase, several, none)."""
    others = [t for t in targets if t != src]
    return others[0] if len(src) == 1 and len(others) == 1 and len(others[0]) == 1 else None


@lru_cache(maxsize=1)
def _traditional_table() -> dict[int, int]:
    """Traditional-only characters to their first simplified form (``traditional_share``)."""
    table: dict[int, int] = {}
    for src, targets in _dictionary_entries("TSCharacters.txt"):
        target = targets[0] if targets else ""
        if len(src) == 1 and len(target) == 1 and src != target:
            table[ord(src)] = ord(target)
    return table


@lru_cache(maxsize=1)
def fold_pairs() -> dict[str, str]:
    """Every one-to-one character mapping of OpenCC's dictionaries, as character → folded form.

    In order of precedence: simplified → traditional (STCharacters, read backwards: 着 → 著
    makes 著 fold to 着; a traditional character several simplified ones map to folds to the
    one TSCharacters names first), traditional → simplified (TSCharacters: 於 → 于 於 makes 於
    fold to 于), then the Taiwan and Hong Kong variant tables both ways (裡 → 裏 → 里). An entry
    counts when it names exactly one character other than its source. Chains are followed to
    their end, so every character of a class folds to the same one.
    """
    ts_first = {src: targets[0] for src, targets in _dictionary_entries("TSCharacters.txt") if targets}
    preimages: dict[str, list[str]] = {}
    for src, targets in _dictionary_entries("STCharacters.txt"):
        target = _single(src, targets)
        if target:
            preimages.setdefault(target, []).append(src)
    table: dict[str, str] = {}
    for target, sources in preimages.items():
        table[target] = ts_first[target] if ts_first.get(target) in sources else sources[0]
    for src, targets in _dictionary_entries("TSCharacters.txt"):
        target = _single(src, targets)
        if target:
            table.setdefault(src, target)
    for name in ("TWVariantsRev.txt", "HKVariantsRev.txt", "TWVariants.txt", "HKVariants.txt"):
        for src, targets in _dictionary_entries(name):
            target = _single(src, targets)
            if not target:
                continue
            for a, b in ((src, target), (target, src)):
                if a not in table and table.get(b) != a:
                    table[a] = b
                    break
    # A standard simplified form (a first target of TSCharacters that is not itself converted)
    # never folds away: 么 stays 么 (not 幺), 覆 stays 覆, so 什么 and 覆盖 keep their words
    # for jieba, and most texts keep fold's no-op fast path.
    simplified = {targets[0] for _, targets in _dictionary_entries("TSCharacters.txt") if targets}
    simplified -= {src for src, first in ts_first.items() if first != src}
    folded = {}
    for ch in table:
        if ch in simplified:
            continue
        path = [ch]
        while path[-1] in table and path[-1] not in simplified and table[path[-1]] not in path:
            path.append(table[path[-1]])
        end = path[-1]
        if end in table and end not in simplified:  # a cycle: its smallest character stands for it
            end = min(path[path.index(table[end]):])
        if end != ch:
            folded[ch] = end
    return folded


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, int]:
    return {ord(a): ord(b) for a, b in fold_pairs().items()}


@lru_cache(maxsize=1)
def _maybe_foldable() -> re.Pattern[str]:
    """Matches every character ``fold`` changes (and any non-BMP character, see below).

    Most texts have none, and one regex search runs in C at a small cost per character,
    where ``str.translate`` makes a dict lookup per character. The non-BMP characters of
    the table are covered by one range: listed one by one, the regex would test each of
    them against every character of the text.
    """
    bmp = "".join(re.escape(chr(c)) for c in sorted(_fold_table()) if c <= 0xFFFF)
    return re.compile(f"[{bmp}\U00010000-\U0010FFFF]")


def fold(text: str) -> str:
    """Simplified form of ``text`` with exactly the same length (character by character)."""
    return text.translate(_fold_table()) if _maybe_foldable().search(text) else text


_CJK_RUN = re.compile("[\u4e00-\u9fff]+")


@lru_cache(maxsize=1)
def _traditional_run() -> re.Pattern[str]:
    """Runs of the traditional-only characters counted by ``traditional_share``."""
    chars = "".join(chr(c) for c in sorted(_traditional_table()) if 0x4E00 <= c <= 0x9FFF)
    return re.compile(f"[{chars}]+")


def traditional_share(text: str) -> float:
    """Share of CJK characters in ``text`` that only exist in traditional script."""
    # Counted as runs found by regex (in C), not character by character in Python.
    cjk = sum(map(len, _CJK_RUN.findall(text)))
    if not cjk:
        return 0.0
    return sum(map(len, _traditional_run().findall(text))) / cjk


def detect_script(text: str) -> str:
    """'traditional' when a noticeable share of characters is traditional-only, else 'simplified'."""
    return "traditional" if traditional_share(text) > 0.05 else "simplified"


@lru_cache(maxsize=2)
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def convert(text: str, script: str) -> str:
    """Convert to ``script`` ('simplified' or 'traditional'); 'keep' returns the text as is."""
    if script == "keep":
        return text
    if script == "simplified":
        return _converter("t2s").convert(text)
    if script == "traditional":
        return _converter("s2t").convert(text)
    raise ValueError(f"unknown script {script!r}; expected one of {', '.join(SCRIPTS)}")
