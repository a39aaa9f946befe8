"""Coded passages as spaCy ``Doc`` objects: training data for ``spancat`` and ``textcat_multilabel``.

One Doc per unit (a passage, or a sentence of a passage) of each document:

* tokens: the project's own jieba tokens (``passages.tokens``), additionally cut at every
  coding boundary so that each coded span is a whole number of tokens; ``spaces`` are all
  False, so ``doc.text`` is exactly the unit's text (whitespace stays inside tokens or is a
  token of its own);
* ``doc.spans["qualcode"]``: one span per coding (label = code path, ``id_`` = coding id),
  overlaps kept; a coding over several units is clipped to each unit it overlaps;
* ``doc.spans["qualcode_absent"]``: the codings marked absent (negative evidence: the
  passage says the mechanism is missing or only on paper), same labels and ids; they are
  in neither ``doc.spans["qualcode"]`` nor ``doc.cats``, so a model trained on those never
  learns an absence as an occurrence;
* ``doc.cats``: 1.0 for each code whose coding (of presence) covers the whole unit, 0.0 for
  every other code that occurs in the selection (the same labels on every Doc, as textcat
  needs);
* ``doc.user_data``: document_id, document, case, passage (``DOC:SEQ``), sentence (sentence
  units), start/end (the unit's offsets in the document), speaker, role, unit.

Offsets are code points, half-open, over ``documents.text``: a span's document offsets are
``user_data["start"] + span.start_char`` and ``user_data["start"] + span.end_char``.
spaCy is imported only when Docs are built; nothing is downloaded (no models).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from qualcode.errors import ConfigError, not_found
from qualcode.exchange.qdc import write_atomic
from qualcode.store import queries, schema as t
from qualcode.text.segment import token_spans
from qualcode.vocabulary import CODING_UNITS, ORIGINS, STATUSES

SPANS_KEY = "qualcode"
ABSENT_KEY = "qualcode_absent"  # negative evidence: codings marked absent, kept out of SPANS_KEY and cats
UNITS = CODING_UNITS


@dataclass
class SpacyExportReport:
    """What ``export_spacy`` wrote."""

    path: Path
    unit: str
    docs: int = 0
    spans: int = 0
    codings: int = 0  # codings in the selection
    outside: int = 0  # codings that overlap no unit (text outside every passage)
    absent_spans: int = 0  # spans in doc.spans["qualcode_absent"] (codings marked absent)

    def summary(self) -> str:
        line = f"{self.docs} {self.unit} docs with {self.spans} spans from {self.codings} codings"
        if self.absent_spans:
            line += f"; {self.absent_spans} spans of codings marked absent in doc.spans[\"{ABSENT_KEY}\"]"
        if self.outside:
            line += f" ({self.outside} codings lie outside every {self.unit} and are left out)"
        return line


@dataclass
class _Unit:
    start: int
    end: int
    cuts: list[int]  # token boundaries inside (start, end)
    passage: str
    sentence: int | None
    speaker: str
    role: str


def to_spacy(project, unit: str = "passage", *, docs: Iterable[str | int] | None = None, code: str | None = None,
             coder: str | None = None, statuses: Iterable[str] = ("accepted",), origins: Iterable[str] = (),
             vocab=None) -> Iterator:
    """spaCy Docs, one per passage or sentence, for the codings ``export codings`` selects with
    the same filters (``docs`` = ids or names; ``code`` includes its descendants).

    ``statuses`` defaults to accepted codings (manual codings are accepted; ``()``: every
    status). ``vocab``: the vocabulary to build on (default: that of ``spacy.blank("zh")``).
    """
    return _build(project, unit, docs, code, coder, statuses, origins, vocab)[0]


def export_spacy(project, path, unit: str = "passage", *, docs: Iterable[str | int] | None = None,
                 code: str | None = None, coder: str | None = None, statuses: Iterable[str] = ("accepted",),
                 origins: Iterable[str] = ()) -> SpacyExportReport:
    """Write :func:`to_spacy`'s Docs to ``path`` (``.spacy``) as a ``DocBin`` with user data;
    the file appears only when complete."""
    from spacy.tokens import DocBin


    path = Path(path)
    if path.suffix != ".spacy":
        raise ConfigError(f"{path.name}: the file name must end in .spacy",
                          hint="spacy train and spacy debug data read only files ending in .spacy")
    if path.is_dir():
        raise ConfigError(f"{path} is a directory", hint="give a file name ending in .spacy")
    produced, report = _build(project, unit, docs, code, coder, statuses, origins, None)
    bin_ = DocBin(store_user_data=True)
    for doc in produced:
        bin_.add(doc)
        report.docs += 1
        report.spans += len(doc.spans[SPANS_KEY])
        report.absent_spans += len(doc.spans[ABSENT_KEY])
    report.path = path
    try:
        write_atomic(path, bin_.to_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    return report


def _check(values: Iterable[str], allowed: tuple[str, ...], what: str) -> list[str]:
    values = [values] if isinstance(values, str) else list(values or ())
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ConfigError(f"unknown {what} {bad[0]!r}", hint=f"use one of: {', '.join(allowed)}")
    return values


def _build(project, unit, docs, code, coder, statuses, origins, vocab):
    """(generator of Docs, report with the selection's counts): the selection is read and
    checked at once so that bad input fails before any Doc is built."""
    if unit not in UNITS:
        raise ConfigError(f"unknown unit {unit!r}", hint="use passage or sentence")
    statuses = _check(statuses, STATUSES, "status")
    origins = _check(origins, ORIGINS, "origin")
    store = project.store
    doc_ids = sorted({project.document_id(d) for d in docs}) if docs else None
    if code or coder:
        with store.read() as conn:
            used = conn.execute(select(t.codings.c.code, t.codings.c.coder).distinct()).all()
        if code:
            known = {c for c, _ in used}
            if project.codebook_path is not None and project.codebook_path.is_file():
                known |= {c.path for c in project.codebook().codes}
            prefix = code.rstrip("/") + "/"
            if code not in known and not any(k.startswith(prefix) for k in known):
                raise not_found("code", code, sorted(known))
        if coder and coder not in {k for _, k in used}:
            raise not_found("coder", coder, sorted({k for _, k in used}))
    rows = queries.codings(store, doc_ids=doc_ids, code=code, coder=coder, status=statuses, origin=origins)
    labels = sorted({r["code"] for r in rows if not r["absent"]})
    report = SpacyExportReport(path=Path(), unit=unit, codings=len(rows))
    documents, units = _read(store, doc_ids, unit)
    by_doc: dict[str, list[dict]] = {}
    for r in rows:
        by_doc.setdefault(r["document"], []).append(r)
    # a coding inside no unit (e.g. a header line before the first turn) yields no span
    for name, codings in by_doc.items():
        doc_units = units.get(documents[name][0], []) if name in documents else []
        report.outside += sum(1 for r in codings if not any(u.start < r["end"] and r["start"] < u.end
                                                            for u in doc_units))
    return _docs(documents, units, by_doc, labels, unit, vocab), report


def _read(store, doc_ids, unit):
    """{name: (id, text, case)} and {document id: [_Unit]} in document order."""
    d, c, p, s = t.documents, t.cases, t.passages, t.speakers
    documents: dict[str, tuple[int, str, str]] = {}
    units: dict[int, list[_Unit]] = {}
    with store.read() as conn:
        query = (select(d.c.id, d.c.name, d.c.text, c.c.name.label("case"))
                 .select_from(d.outerjoin(c, d.c.case_id == c.c.id)).order_by(d.c.id))
        if doc_ids is not None:
            query = query.where(d.c.id.in_(doc_ids))
        for r in conn.execute(query):
            documents[r.name] = (r.id, r.text, r.case or "")
        sentences: dict[int, list[tuple[int, int]]] = {}
        if unit == "sentence":
            sq = (select(t.sentences.c.passage_id, t.sentences.c.start, t.sentences.c.end)
                  .join(p, p.c.id == t.sentences.c.passage_id).order_by(t.sentences.c.passage_id, t.sentences.c.seq))
            if doc_ids is not None:
                sq = sq.where(p.c.document_id.in_(doc_ids))
            for pid, start, end in conn.execute(sq):
                sentences.setdefault(pid, []).append((start, end))
        pq = (select(p.c.id, p.c.document_id, p.c.seq, p.c.start, p.c.end, p.c.tokens, s.c.label, s.c.role)
              .select_from(p.outerjoin(s, p.c.speaker_id == s.c.id)).order_by(p.c.document_id, p.c.seq))
        if doc_ids is not None:
            pq = pq.where(p.c.document_id.in_(doc_ids))
        for r in conn.execute(pq):
            bounds = [e for _, e in token_spans(r.tokens, r.start)]
            ref = queries.passage_ref(r.document_id, r.seq)
            pieces = (sentences.get(r.id) or [(r.start, r.end)]) if unit == "sentence" else [(r.start, r.end)]
            for i, (lo, hi) in enumerate(pieces, start=1):
                if hi <= lo:
                    continue
                units.setdefault(r.document_id, []).append(_Unit(
                    lo, hi, [b for b in bounds if lo < b < hi], ref, i if unit == "sentence" else None,
                    r.label or "", r.role or ""))
    return documents, units


def _docs(documents, units, by_doc, labels, unit, vocab) -> Iterator:
    import spacy
    from spacy.tokens import Doc, Span

    vocab = vocab if vocab is not None else spacy.blank("zh").vocab
    for name, (doc_id, text, case) in documents.items():
        codings = by_doc.get(name, [])
        for u in units.get(doc_id, []):
            pieces = [(max(r["start"], u.start), min(r["end"], u.end), r) for r in codings
                      if r["start"] < u.end and u.start < r["end"]]
            cuts = sorted({u.start, u.end, *u.cuts, *(x for a, b, _ in pieces for x in (a, b))})
            words = [text[a:b] for a, b in zip(cuts, cuts[1:])]
            index = {x: i for i, x in enumerate(cuts)}
            doc = Doc(vocab, words=words, spaces=[False] * len(words))
            doc.spans[SPANS_KEY] = [Span(doc, index[a], index[b], label=r["code"], span_id=str(r["id"]))
                                    for a, b, r in pieces if not r["absent"]]
            doc.spans[ABSENT_KEY] = [Span(doc, index[a], index[b], label=r["code"], span_id=str(r["id"]))
                                     for a, b, r in pieces if r["absent"]]
            whole = {r["code"] for r in codings if r["start"] <= u.start and u.end <= r["end"] and not r["absent"]}
            doc.cats = {label: 1.0 if label in whole else 0.0 for label in labels}
            doc.user_data.update(document_id=doc_id, document=name, case=case, passage=u.passage, start=u.start,
                                 end=u.end, speaker=u.speaker, role=u.role, unit=unit)
            if u.sentence is not None:
                doc.user_data["sentence"] = u.sentence
            yield doc
