"""Selection positions: from whatever unit a tool wrote to code points of the stored text.

The standard says code points, counted from 0, end exclusive. In practice (see
docs/methods.md §4.5) NVivo writes UTF-16 code units and counts CRLF as two
characters, MAXQDA also counts CRLF as two, and ATLAS.ti counts CRLF as one. qualcode
stores text with ``\\n`` line ends, NFC, without a BOM, so every imported source gets a
map from its positions to ours.

Which unit a source uses is decided per source from the evidence: candidates that put a
position past the end of the text or inside a surrogate pair are out; among the rest, the
one under which most selection names equal their text (ATLAS.ti and qualcode name each
selection by its text) wins; ties go to what the producing tool is known to do.
"""
from __future__ import annotations

import unicodedata
from array import array
from dataclasses import dataclass

CODE_POINTS = "code points"
UTF16 = "UTF-16 code units"


@dataclass(frozen=True)
class Unit:
    kind: str  # CODE_POINTS | UTF16
    crlf_as_two: bool

    def describe(self) -> str:
        return f"{self.kind}, CRLF counted as {'two' if self.crlf_as_two else 'one'}"


CP2, U16_2, CP1, U16_1 = Unit(CODE_POINTS, True), Unit(UTF16, True), Unit(CODE_POINTS, False), Unit(UTF16, False)


def preference(origin: str | None) -> list[Unit]:
    """Candidate units, the producing tool's habit first."""
    o = (origin or "").lower()
    if "nvivo" in o or "maxqda" in o:
        return [U16_2, CP2, U16_1, CP1]
    if "atlas" in o:
        return [CP1, CP2, U16_1, U16_2]
    return [CP2, CP1, U16_2, U16_1]  # the standard (qualcode, QualCoder, unknown)


def normalize_newlines(raw: str) -> tuple[str, array]:
    """(text with \\n line ends, map from each raw index 0..len(raw) to an index in it)."""
    if "\r" not in raw:
        return raw, array("l", range(len(raw) + 1))
    out: list[str] = []
    pos = array("l")
    j = 0
    n = len(raw)
    for i, ch in enumerate(raw):
        pos.append(j)
        if ch == "\r":
            if i + 1 < n and raw[i + 1] == "\n":
                continue  # the \r of a CRLF stands where its \n will be
            out.append("\n")
        else:
            out.append(ch)
        j += 1
    pos.append(j)
    return "".join(out), pos


def utf16_to_index(text: str) -> array:
    """Map from each UTF-16 offset 0..units to a code point index; -1 inside a surrogate pair."""
    table = array("l")
    for i, ch in enumerate(text):
        table.append(i)
        if ord(ch) > 0xFFFF:
            table.append(-1)
    table.append(len(text))
    return table


class SourcePositions:
    """Position maps for one source text, for each candidate unit."""

    def __init__(self, raw: str):
        self.raw = raw
        self.text, self._raw_to_text = normalize_newlines(raw)
        self.has_astral = any(ord(c) > 0xFFFF for c in raw)
        self.has_cr = "\r" in raw
        self._tables: dict[Unit, array | None] = {}  # None: the identity

    def candidates(self, origin: str | None) -> list[Unit]:
        """Distinct candidates only: without astral characters UTF-16 = code points, etc."""
        seen, out = set(), []
        for unit in preference(origin):
            key = (unit.kind if self.has_astral else CODE_POINTS, unit.crlf_as_two if self.has_cr else True)
            if key not in seen:
                seen.add(key)
                out.append(unit)
        return out

    def _table(self, unit: Unit) -> array | None:
        if unit in self._tables:
            return self._tables[unit]
        if unit == CP2:
            table = self._raw_to_text
        elif unit == CP1:
            table = None  # identity over the normalised text
        elif unit == U16_2:
            u = utf16_to_index(self.raw)
            table = array("l", (self._raw_to_text[i] if i >= 0 else -1 for i in u))
        else:
            table = utf16_to_index(self.text)
        self._tables[unit] = table
        return table

    def convert(self, unit: Unit, offset: int) -> int | None:
        """The code point index in ``self.text`` for ``offset`` in ``unit``; None if impossible."""
        if offset < 0:
            return None
        table = self._table(unit)
        if table is None:
            return offset if offset <= len(self.text) else None
        if offset >= len(table):
            return None
        value = table[offset]
        return value if value >= 0 else None

    def choose(self, selections: list[tuple[int, int, str | None]], origin: str | None) -> Unit:
        """The most plausible unit for these (start, end, name) selections."""
        candidates = self.candidates(origin)
        if len(candidates) == 1 or not selections:
            return candidates[0]
        best, best_key = candidates[0], None
        for rank, unit in enumerate(candidates):
            valid = names = 0
            for start, end, name in selections:
                s, e = self.convert(unit, start), self.convert(unit, end)
                if s is None or e is None:
                    continue
                valid += 1
                if name and _same_text(name, self.text[min(s, e):max(s, e)]):
                    names += 1
            key = (valid, names, -rank)
            if best_key is None or key > best_key:
                best, best_key = unit, key
        return best


def _same_text(name: str, span: str) -> bool:
    """A selection name that is (the start of) its text, ignoring whitespace and a trailing ellipsis."""
    a = "".join(name.split()).rstrip(".…")
    b = "".join(span.split())
    n = min(20, len(a), len(b))
    return n >= 2 and a[:n] == b[:n]


def rebuild(text: str, edits: list[tuple[int, int, str]]) -> tuple[str, array]:
    """Apply sorted, non-overlapping (start, end, replacement) edits.

    Returns the new text and a map from each index 0..len(text) to an index in it; an index
    inside an edited region maps to the start of its replacement.
    """
    if not edits:
        return text, array("l", range(len(text) + 1))
    out: list[str] = []
    pos = array("l")
    done = 0
    j = 0
    for start, end, repl in edits:
        out.append(text[done:start])
        pos.extend(range(j, j + start - done))
        j += start - done
        pos.extend([j] * (end - start))
        out.append(repl)
        j += len(repl)
        done = end
    out.append(text[done:])
    pos.extend(range(j, j + len(text) - done + 1))
    return "".join(out), pos


def nfc_edits(text: str) -> list[tuple[int, int, str]]:
    """Edits that make ``text`` NFC, one per base character with its combining marks."""
    if unicodedata.is_normalized("NFC", text):
        return []
    edits = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        chunk = text[i:j]
        norm = unicodedata.normalize("NFC", chunk)
        if norm != chunk:
            edits.append((i, j, norm))
        i = j
    return edits
