"""Sentences and tokens, with code-point offsets.

Tokenisation runs jieba (in Python, or jieba-rs through rjieba: the project's ``segmenter``
setting, docs/segmentation.md) on the script-folded text (``script.fold``), so
traditional-script passages are segmented with jieba's simplified dictionary and token
offsets still refer to the original characters. Tokens are stored as an array of lengths per passage; later steps
rebuild boundaries from it and never re-segment.
"""
from __future__ import annotations

import hashlib
import logging
import re
import warnings
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable
from itertools import accumulate
from pathlib import Path

from qualcode.errors import ConfigError
from qualcode.text.script import fold
from qualcode.vocabulary import SEGMENTERS, SegmenterKind

# A sentence ends after terminal punctuation (and any closing quotes/brackets after it), or
# at a line break inside a passage.
_SENTENCE_END = re.compile(r"[。！？!?；;…]+[”’」』）)\]》]*|\n+")

DEFAULT_TERMS = (
    # Domain words that jieba's general dictionary splits; kept whole in every project.
    "互助站", "网格党支部", "网格员", "网格长", "单元长", "楼组长", "楼道党小组", "小区党支部",
    "社区大党委", "街道大工委", "双报到", "在职党员", "离退休党员", "共建单位", "驻区单位",
    "兼职委员", "业委会", "物业公司", "居委会", "协商议事", "议事会", "联席会", "党员责任区",
    "亮身份", "能人库", "堡垒指数", "网格建党", "党建引领", "枢纽型组织", "领头雁", "志愿者",
)


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Half-open sentence spans tiling ``text[start:end]`` exactly (no gaps, no overlaps)."""
    end = len(text) if end is None else end
    spans = []
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
        if m.end() > pos:
            spans.append((pos, m.end()))
            pos = m.end()
    if pos < end:
        spans.append((pos, end))
    return spans


def passage_sentences(text: str, spans: Iterable[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """``split_sentences(text[start:end])`` for each passage ``(start, end)`` of ``text``: its
    sentences relative to the passage, found without copying the passage out of the text
    (the pattern has no anchors or lookarounds, so searching ``text`` between ``start`` and
    ``end`` finds exactly what searching the copy would)."""
    finditer = _SENTENCE_END.finditer
    out = []
    for start, end in spans:
        sentences = []
        pos = start
        for m in finditer(text, start, end):
            stop = m.end()
            if stop > pos:
                sentences.append((pos - start, stop - start))
                pos = stop
        if pos < end:
            sentences.append((pos - start, end - start))
        out.append(sentences)
    return out


def pack_tokens(lengths: Iterable[int]) -> bytes:
    return array("I", lengths).tobytes()


def unpack_tokens(blob: bytes) -> array:
    tokens = array("I")
    tokens.frombytes(blob)
    return tokens


def token_spans(blob: bytes, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each stored token, shifted by ``offset``."""
    spans = []
    pos = offset
    for n in unpack_tokens(blob):
        spans.append((pos, pos + n))
        pos += n
    return spans


def _user_freq(suggested: int) -> int:
    """The frequency a user word is added with: high enough to stay whole (both implementations)."""
    return max(suggested, 1000)


def _jieba_tokenizer(words: list[str]):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    for w in words:
        tk.add_word(w, freq=_user_freq(tk.suggest_freq(w)))
    return tk, lambda text: tk.cut(text, HMM=True)


def _rjieba_tokenizer(words: list[str]):
    try:
        import rjieba
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise ConfigError("segmenter = \"jieba-rs\" needs the rjieba package, which is not installed",
                          hint="pip install rjieba, or set segmenter = \"jieba\" in qualcode.toml") from None
    tk = rjieba.Jieba()
    for w in words:  # rjieba has no load_userdict: one add_word per word, as jieba does
        tk.add_word(w, _user_freq(tk.suggest_freq(w)), None)
    return tk, lambda text: tk.cut(text, True)


def read_dictionary(path: Path) -> list[str]:
    """Words from a jieba-style user dictionary (``word [freq] [tag]`` per line, # comments)."""
    if not path.exists():
        return []
    words = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.append(line.split()[0])
    return words


class Segmenter:
    """A jieba tokenizer with the project's user words (codebook terms, dictionary.txt).

    ``kind`` is the implementation (``SegmenterKind``): ``jieba`` (Python) or ``jieba-rs``
    (the same algorithm and dictionary in Rust, through ``rjieba``). Both get the same user
    words with the same frequency, and both yield tokens tiling the text exactly, so token
    offsets are code points, half-open, whichever runs. ``version`` names what the tokens
    depend on (the words, and the implementation unless it is ``jieba``, so that projects
    segmented before the setting existed keep their version): documents whose stored
    version differs are re-segmented by the next autocode.
    """

    def __init__(self, words: Iterable[str] = (), kind: str = SegmenterKind.JIEBA):
        if kind not in SEGMENTERS:
            raise ConfigError(f"unknown segmenter {kind!r}", hint=f"choose one of {', '.join(SEGMENTERS)}")
        self.kind = SegmenterKind(kind)
        self.words = sorted({fold(w) for w in (*DEFAULT_TERMS, *words) if w and w.strip()})
        key = "\n".join(self.words)
        if self.kind != SegmenterKind.JIEBA:
            key = f"segmenter={self.kind}\n{key}"
        self.version = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        self._tokenizer = None
        self._cut: Callable[[str], Iterable[str]] | None = None

    @property
    def tokenizer(self):
        """The underlying tokenizer (``jieba.Tokenizer`` or ``rjieba.Jieba``), built on first use."""
        if self._tokenizer is None:
            if self.kind == SegmenterKind.JIEBA_RS:
                self._tokenizer, self._cut = _rjieba_tokenizer(self.words)
            else:
                self._tokenizer, self._cut = _jieba_tokenizer(self.words)
        return self._tokenizer

    def token_lengths(self, text: str) -> list[int]:
        """Lengths of jieba tokens covering ``text`` exactly (whitespace becomes tokens too)."""
        return self.folded_token_lengths(fold(text))

    def folded_token_lengths(self, folded: str) -> list[int]:
        """``token_lengths`` of text that is already ``fold``-ed (import folds a document once)."""
        if self._cut is None:
            self.tokenizer  # noqa: B018 - builds the tokenizer and self._cut
        assert self._cut is not None
        return list(map(len, self._cut(folded)))

    def passage_tokens(self, folded: str, spans: list[tuple[int, int]]) -> list[bytes]:
        """Packed tokens of each passage ``folded[start:end]`` of a folded document.

        The same as ``pack_tokens(self.folded_token_lengths(folded[start:end]))`` per passage,
        with one jieba call for the whole document (fewer calls, about 4 % faster). That is
        exact when passages are separated by characters jieba never joins to a word, such as
        the newline between import's passages: jieba segments runs of word characters on
        their own and yields every other character as a token by itself. So the document's
        tokens must end at every passage end and start at every passage start; where they
        do not, the passage is cut on its own.
        """
        lengths = self.folded_token_lengths(folded)
        ends = list(accumulate(lengths))  # ends[k] is where token k ends
        packed = pack_tokens(lengths)  # a passage's tokens are a slice of the document's bytes
        size = array("I").itemsize
        blobs = []
        for start, end in spans:
            first = bisect_left(ends, start) + 1 if start else 0  # the token starting at start
            last = bisect_left(ends, end, first)  # the token ending at end
            if (start and (first > len(ends) or ends[first - 1] != start)) or last == len(ends) or ends[last] != end:
                blobs.append(pack_tokens(self.folded_token_lengths(folded[start:end])))
            else:
                blobs.append(packed[first * size : (last + 1) * size])
        return blobs
