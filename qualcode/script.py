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


def fold(text: str) -> str:
    """Simplified form of ``text`` with exactly the same length (character by character)."""
    return text.translate(_fold_table())


def traditional_share(text: str) -> float:
    """Share of CJK characters in ``text`` that only exist in traditional script."""
    table = _fold_table()
    cjk = traditional = 0
    for ch in text:
        if "\u4e00" <= ch <= "\u9fff":
            cjk += 1
            if ord(ch) in table:
                traditional += 1
    return traditional / cjk if cjk else 0.0


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
