"""What the reader page shows: a document's passages cut into segments at every coding and
evidence boundary, so that overlapping codings can be drawn as stacked bars under the text.

Each segment carries its document offset (code points), which is how the page turns a mouse
selection back into ``[start, end)``. Codings are listed beside their passage as chips (one
per coding: label, status, coder), each with a lane, so a coding's bar keeps the same height
across the segments it covers. Offsets are code points, half-open, as everywhere.
"""
from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field

from qualcode.annotate import list_codings, list_memos
from qualcode.errors import QualcodeError
from qualcode.reports.render.html import PALETTE
from qualcode.store import queries
from qualcode.vocabulary import STATUSES

DEFAULT_STATUSES = ("proposed", "accepted")  # rejected codings are shown on request only
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
LANE = 3  # px: height of one coding bar


def code_colors(codebook) -> dict[str, str]:
    """Each code's colour: its own from the codebook, else its nearest ancestor's, else the
    palette (in codebook order), as the HTML report does."""
    if codebook is None:
        return {}
    own = {c.path: c.color for c in codebook.codes if c.color and _HEX.match(c.color)}
    out = {}
    for i, c in enumerate(codebook.codes):
        parts = c.path.split("/")
        chain = ["/".join(parts[: j + 1]) for j in range(len(parts))][::-1]
        out[c.path] = next((own[p] for p in chain if p in own), PALETTE[i % len(PALETTE)])
    return out


def code_entries(codebook) -> list[dict]:
    """The codes for the code picker and filters: path, id, labels, colour, depth."""
    if codebook is None:
        return []
    colors = code_colors(codebook)
    return [{"path": c.path, "id": c.id, "label": c.label_zh or c.id, "label_en": c.label_en or "",
             "color": colors[c.path], "depth": c.depth} for c in codebook.codes]


@dataclass
class Filters:
    code: str = ""
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    coder: str = ""

    @classmethod
    def parse(cls, code: str | None, statuses: list[str], coder: str | None) -> Filters:
        chosen = tuple(s for s in STATUSES if s in statuses) or DEFAULT_STATUSES
        return cls((code or "").strip(), chosen, (coder or "").strip())

    def keep(self, row: dict) -> bool:
        if row["status"] not in self.statuses:
            return False
        if self.coder and row["coder"] != self.coder:
            return False
        return not self.code or row["code"] == self.code or row["code"].startswith(self.code + "/")

    def query(self) -> dict:
        """As URL parameters (what the page sends back with each change)."""
        return {"code": self.code, "status": list(self.statuses), "coder": self.coder}


@dataclass
class Chip:
    id: int
    code: str
    label: str
    color: str
    status: str
    origin: str
    coder: str
    start: int
    end: int
    score: str
    rule: str
    lane: int = 0
    memos: list[dict] = field(default_factory=list)


@dataclass
class Segment:
    start: int
    text: str
    ids: list[int]
    style: str
    evidence: bool


@dataclass
class PassageView:
    seq: int
    ref: str
    speaker: str
    role: str
    timestamp: str
    start: int
    end: int
    lanes: int
    segments: list[Segment]
    chips: list[Chip]
    memos: list[dict]


def evidence_spans(row: dict) -> list[tuple[int, int]]:
    """The document offsets of a coding's evidence terms (what its rule matched)."""
    try:
        terms = json.loads(row["evidence"] or "{}").get("terms", [])
        return [(int(s), int(e)) for _, s, e in terms]
    except (ValueError, TypeError, AttributeError):
        return []


def _lanes(chips: list[Chip]) -> int:
    """Give overlapping chips different lanes (greedy, in reading order); returns the lane count."""
    ends: list[int] = []
    for chip in sorted(chips, key=lambda c: (c.start, -c.end, c.id)):
        for lane, end in enumerate(ends):
            if end <= chip.start:
                chip.lane, ends[lane] = lane, chip.end
                break
        else:
            chip.lane = len(ends)
            ends.append(chip.end)
    return len(ends)


def _style(chips: list[Chip]) -> str:
    # one outer shadow per coding, the lowest lane nearest the text; proposals half-transparent
    shadows = [f"0 {(c.lane + 1) * LANE}px 0 0 {c.color}{'' if c.status == 'accepted' else '66'}"
               for c in sorted(chips, key=lambda c: c.lane)]
    return "box-shadow:" + ",".join(shadows) if shadows else ""


def passage_view(p: dict, text: str, chips: list[Chip], evidence: list[tuple[int, int]],
                 memos: list[dict]) -> PassageView:
    """One passage cut at every boundary of its chips and evidence terms (clipped to it)."""
    lo, hi = p["start"], p["end"]
    lanes = _lanes(chips)
    cuts = {lo, hi}
    for c in chips:
        cuts.update(x for x in (c.start, c.end) if lo < x < hi)
    for s, e in evidence:
        cuts.update(x for x in (s, e) if lo < x < hi)
    points = sorted(cuts)
    segments = []
    for a, b in zip(points, points[1:]):
        over = [c for c in chips if c.start < b and c.end > a or (c.start == c.end == a)]
        ev = any(s < b and e > a for s, e in evidence)
        segments.append(Segment(a, text[a:b], [c.id for c in over], _style(over), ev))
    seq = int(p["passage"].rsplit(":", 1)[1])
    return PassageView(seq, p["passage"], p["speaker"], p["role"], p["timestamp"], lo, hi, lanes, segments,
                       sorted(chips, key=lambda c: (c.start, c.end, c.code, c.id)), memos)


def reader_view(project, doc_id: int, filters: Filters, codebook=None, span: tuple[int, int] | None = None,
                viewer: str | None = None) -> dict:
    """Everything the reader draws for ``doc_id`` (only the passages overlapping ``span`` if
    given), as ``viewer`` may see it: on the documents of their open blind assignments, not
    the other coders' work (``annotate.list_codings(viewer=…)``)."""
    info = queries.document_detail(project.store, doc_id)
    with project.store.read() as conn:
        text = queries.document_text(conn, doc_id)
    colors = code_colors(codebook)
    labels = {c.path: c.label_zh or c.id for c in codebook.codes} if codebook is not None else {}
    rows = [r for r in list_codings(project, doc=str(doc_id), viewer=viewer) if filters.keep(r)]
    memos = list_memos(project)
    coding_memos: dict[str, list[dict]] = {}
    passage_memos: dict[str, list[dict]] = {}
    for m in memos:
        if m["target_type"] == "coding":
            coding_memos.setdefault(m["target"], []).append(m)
        elif m["target_type"] == "passage":
            passage_memos.setdefault(m["target"], []).append(m)
    passages = info.pop("passages")
    if span is not None:
        passages = [p for p in passages if p["start"] < max(span[1], span[0] + 1) and p["end"] > span[0]]
    starts = [p["start"] for p in passages]
    per: list[list[Chip]] = [[] for _ in passages]
    ev: list[list[tuple[int, int]]] = [[] for _ in passages]
    for r in rows:
        chip = Chip(r["id"], r["code"], labels.get(r["code"], r["code"]), colors.get(r["code"], "#999999"),
                    r["status"], r["origin"], r["coder"], r["start"], r["end"], str(r["score"] or ""),
                    r["rule"] or "", memos=coding_memos.get(str(r["id"]), []))
        first = max(bisect.bisect_right(starts, r["start"]) - 1, 0)
        for i in range(first, len(passages)):
            p = passages[i]
            if p["start"] >= max(r["end"], r["start"] + 1):
                break
            if p["end"] > r["start"]:
                per[i].append(chip)
                ev[i].extend(evidence_spans(r))
    views = [passage_view(p, text, per[i], ev[i], passage_memos.get(p["passage"], [])) for i, p in enumerate(passages)]
    return {"doc": info, "passages": views, "filters": filters, "colors": colors}


def document_id(project, ref: str) -> int:
    """A document id from the URL; an unknown one is a QualcodeError (shown as 404)."""
    if not ref.isdigit():
        raise QualcodeError(f"no document {ref!r}")
    return project.document_id(ref)
