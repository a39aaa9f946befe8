"""Chinese script handling: simplified/traditional folding and conversion (OpenCC data).

Two different needs:

* ``fold`` maps every character to its simplified form one-for-one, so offsets into the
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


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, int]:
    table: dict[int, int] = {}
    with open(_opencc_dictionary("TSCharacters.txt"), encoding="utf-8") as fh:
        for line in fh:
            src, _, targets = line.rstrip("\n").partition("\t")
            target = targets.split(" ")[0] if targets else ""
            if len(src) == 1 and len(target) == 1 and src != target:
                table[ord(src)] = ord(target)
    return table


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
    chars = "".join(chr(c) for c in sorted(_fold_table()) if 0x4E00 <= c <= 0x9FFF)
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
