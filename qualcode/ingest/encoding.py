"""Decode transcript bytes: UTF-8, UTF-16, GB18030 and Big5, with a Chinese plausibility check.

Generic detectors guess badly on short Chinese texts (a GB2312 sentence is usually valid
Big5 too), so decoding is strict and ordered: BOM, UTF-8, then GB18030 and Big5 compared
by how many of the decoded characters are common Chinese characters. charset-normalizer
only breaks ties.
"""
from __future__ import annotations

import codecs
from collections import Counter

from qualcode.errors import InputFileError
from qualcode.ingest.normalize import common_cjk_chars, is_cjk
from qualcode.text.script import fold

UNDECODABLE_HINT = "pass --encoding with the file's encoding, e.g. --encoding gb18030"

# (magic bytes, what the file is, hint)
_MAGIC = (
    (b"%PDF", "this is a PDF, not a text transcript", "export it to .docx or .txt"),
    (b"PK\x03\x04", "this is a zip archive (a renamed .docx or .xlsx?), not a text transcript",
     "give the file its real extension"),
    (b"\xd0\xcf\x11\xe0", "this is an old Office file (.doc/.xls), not a text transcript",
     "save it as .docx or .txt"),
    (b"{\\rtf", "this is an RTF document, not a plain-text transcript", "save it as .docx or .txt"),
    (b"\x89PNG", "this is an image, not a text transcript", "remove it from the folder"),
    (b"\xff\xd8\xff", "this is an image, not a text transcript", "remove it from the folder"),
    (b"GIF8", "this is an image, not a text transcript", "remove it from the folder"),
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Punctuation and symbols that real Chinese text is full of and mis-decodes rarely produce.
_CONTROL_BYTES = bytes((0, *range(1, 9), *range(14, 27), *range(28, 32)))
_CJK_PUNCT = set("“”‘’…—–·•　、。，．！？：；（）《》〈〉「」『』【】〔〕～￥％＋－＝×÷")


def _plausibility(text: str) -> float:
    """Share of non-ASCII characters that are common Chinese characters or punctuation."""
    common = common_cjk_chars()
    good = total = 0
    # Each distinct character is judged once: a transcript has a few thousand characters
    # but only several hundred different ones.
    for ch, n in Counter(text).items():
        if ch < "\x80" or ch >= "\U0001f000":  # ASCII and emoji say nothing either way
            continue
        total += n
        if ch in _CJK_PUNCT or "\uff01" <= ch <= "\uff5e":
            good += n
        elif is_cjk(ch) and fold(ch) in common:
            good += n
    return good / total if total else 1.0


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _binary_error(path: str, what: str = "binary data, not a text transcript") -> InputFileError:
    return InputFileError(
        f"{path}: {what}",
        hint="check that this is the transcript; text must be UTF-8, GB18030, Big5 or UTF-16",
    )


def _looks_like_text(text: str) -> bool:
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\n\r\x0c")
    return controls <= len(text) * 0.01 and _plausibility(text) >= 0.6


def _bomless_utf16(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without a BOM: whichever byte order gives Chinese-looking text."""
    if len(data) % 2 or len(data) < 4:
        return None
    found = []
    for codec in ("utf-16-le", "utf-16-be"):
        text = _strict(data, codec)
        if text is not None and _looks_like_text(text):
            found.append((_plausibility(text), codec, text))
    if not found:
        return None
    _, codec, text = max(found)
    return text, codec


def _charset_normalizer_guess(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return best.encoding if best is not None else None


def _decode_forced(data: bytes, path: str, forced: str) -> tuple[str, str]:
    try:
        name = codecs.lookup(forced).name
    except LookupError:
        raise InputFileError(
            f"{path}: unknown encoding '{forced}'",
            hint="use a codec name such as utf-8, gb18030, big5 or utf-16",
        ) from None
    try:
        return data.decode(name), name
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: not valid {forced} (undecodable bytes at offset {exc.start})",
            hint="omit --encoding to detect the encoding, or pass the right one",
        ) from None


def decode(data: bytes, path: str, forced: str | None = None) -> tuple[str, str]:
    """Decode a text file's bytes; returns (text, encoding name).

    Raises InputFileError for binary data, PDFs, a failing forced encoding and bytes
    that are none of UTF-8, UTF-16, GB18030 and Big5.
    """
    for magic, what, hint in _MAGIC:
        if data.startswith(magic):
            raise InputFileError(f"{path}: {what}", hint=hint)
    if forced:
        return _decode_forced(data, path, forced)

    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = _strict(data, codec)
            if text is None:
                raise InputFileError(
                    f"{path}: starts with a {codec} byte-order mark but is not valid {codec}",
                    hint=UNDECODABLE_HINT,
                )
            return text, codec

    # NUL and control bytes never occur in UTF-8/GB18030/Big5 text; they do in UTF-16.
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if b"\x00" in data or controls > len(data) // 100:
        found = _bomless_utf16(data)
        if found:
            return found
        raise _binary_error(path)

    text = _strict(data, "utf-8")
    if text is not None:
        return text, "utf-8"

    candidates = []
    for codec in ("gb18030", "big5"):
        text = _strict(data, codec)
        if text is not None:
            candidates.append((_plausibility(text), codec, text))
    if len(candidates) == 2 and abs(candidates[0][0] - candidates[1][0]) < 0.05:
        guess = (_charset_normalizer_guess(data) or "").lower()
        prefer = "big5" if guess in ("big5", "cp950", "big5hkscs") else "gb18030"
        candidates.sort(key=lambda c: c[1] != prefer)
    else:
        candidates.sort(key=lambda c: -c[0])
    if candidates and candidates[0][0] >= 0.5:
        _, codec, text = candidates[0]
        return text, codec
    # UTF-16 made only of Chinese characters has no NUL bytes to give it away.
    found = _bomless_utf16(data)
    if found and len(found[0]) >= 6 and _plausibility(found[0]) >= 0.8:
        return found
    raise InputFileError(
        f"{path}: cannot decode text (not UTF-8, GB18030, Big5 or UTF-16)", hint=UNDECODABLE_HINT
    )

