"""Whole projects as REFI-QDA .qdpx: export a qualcode project, import one from any tool.

Mapping (details and reasons in docs/exchange.md):

=====================  ===================================================================
qualcode               REFI-QDA
=====================  ===================================================================
document               TextSource, text in ``sources/<guid>.txt`` (UTF-8, ``\\n``)
speaker turns          in the text: each turn with a speaker starts ``标签：``; labels and
                       roles also in the variable ``qualcode:speakers`` (JSON) so that an
                       import can take the labels out of the text again
codebook codes         CodeBook/Codes (see qdc.py)
coding                 PlainTextSelection (one per distinct span) / Coding / CodeRef;
                       accepted codings, plus proposals with ``include_proposed``
coder                  User (name = coder)
case                   Case with a SourceRef per document
document attribute     Variable (Text) + VariableValue on the TextSource
memo                   Note, referenced from its code, source, selection, coding or project
absent coding          Coding of the code with a NoteRef to the one Note named
                       ``缺失 / absent (qualcode)`` (REFI-QDA has no absent flag): NVivo and
                       ATLAS.ti show the note on the coding; qualcode's import reads it back
                       as a coding marked absent (the note is not imported as a memo)
=====================  ===================================================================
"""
from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
import zipfile
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import func, insert, select

from qualcode.autocode.run import sync_codes
from qualcode.codebook.model import Codebook
from qualcode.errors import ExchangeError
from qualcode.exchange.guid import Guids, normalize_guid, project_namespace
from qualcode.exchange.offsets import CODE_POINTS, SourcePositions, nfc_edits, rebuild
from qualcode.exchange.qdc import (
    NS_PROJECT,
    ORIGIN,
    ExportReport,
    ImportReport,
    check_schema,
    code_nodes,
    codebook_from_refi,
    kid,
    kid_text,
    kids,
    local,
    new_root,
    read_code_elements,
    save_codebook,
    write_atomic,
    write_code_elements,
    xml_bytes,
    xml_text,
)
from qualcode.exchange.safety import MAX_MEMBER_BYTES, SafeArchive, check_entry_name, parse_xml
from qualcode.ingest import writer
from qualcode.ingest.model import IMPORTED, PreparedDocument, PreparedPassage
from qualcode.ingest.normalize import suspect_mojibake
from qualcode.ingest.readers import MAX_DOCUMENT_CHARS
from qualcode.ingest.writer import case_id
from qualcode.store import schema as t, utcnow
from qualcode.text.script import detect_script
from qualcode.text.segment import pack_tokens, split_sentences
from qualcode.vocabulary import SPEAKER_ROLES

SPEAKERS_VARIABLE = "qualcode:speakers"
LABEL_SEP = "："  # full-width colon, as Chinese transcripts write it
IMPORTED_CODER = "imported"
ABSENT_NOTE_NAME = "缺失 / absent (qualcode)"  # the Note whose NoteRef marks a coding as negative evidence
ABSENT_NOTE_TEXT = ("缺失 / absent: codings referring to this note are negative evidence — the passage says the "
                    "mechanism of the code is missing or exists only on paper (「有些支部就是挂个牌子」). They are "
                    "not occurrences of the code. (qualcode; REFI-QDA has no absent flag)")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_ROLES = SPEAKER_ROLES


# ============================================================================ export


@dataclass
class _Doc:
    id: int
    name: str
    text: str
    case: str | None
    imported_at: str
    attributes: dict[str, str] = field(default_factory=dict)
    speakers: dict[int, tuple[str, str | None]] = field(default_factory=dict)  # speaker id → (label, role)
    passages: dict[int, tuple[int, int, int | None]] = field(default_factory=dict)  # seq → (start, end, speaker id)


class _Labelled:
    """The exported text of a document: each turn with a speaker prefixed by ``标签：``."""

    def __init__(self, doc: _Doc):
        inserts = sorted((start, f"{doc.speakers[sid][0]}{LABEL_SEP}")
                         for start, _end, sid in doc.passages.values() if sid in doc.speakers)
        self.points = [p for p, _ in inserts]
        self.cumulative = [0]
        parts, done = [], 0
        for pos, label in inserts:
            parts += [doc.text[done:pos], label]
            done = pos
            self.cumulative.append(self.cumulative[-1] + len(label))
        parts.append(doc.text[done:])
        self.text = "".join(parts)

    def start(self, pos: int) -> int:  # a span starting at a turn starts after its label
        return pos + self.cumulative[bisect_right(self.points, pos)]

    def end(self, pos: int) -> int:  # a span ending at a turn start ends before the next label
        return pos + self.cumulative[bisect_left(self.points, pos)]


def _datetime(value: str | None) -> str | None:
    return value if value and _DATETIME.match(value) else None


def _gather(project, statuses: tuple[str, ...]):
    d, c = t.documents, t.cases
    docs: dict[int, _Doc] = {}
    with project.store.read() as conn:
        for r in conn.execute(select(d.c.id, d.c.name, d.c.text, d.c.imported_at, c.c.name.label("case"))
                              .select_from(d.outerjoin(c, d.c.case_id == c.c.id)).order_by(d.c.id)):
            docs[r.id] = _Doc(r.id, r.name, r.text, r.case, r.imported_at)
        for doc_id, key, value in conn.execute(select(t.attributes.c.document_id, t.attributes.c.key, t.attributes.c.value)):
            docs[doc_id].attributes[key] = value
        for sid, doc_id, label, role in conn.execute(select(t.speakers.c.id, t.speakers.c.document_id,
                                                            t.speakers.c.label, t.speakers.c.role)):
            docs[doc_id].speakers[sid] = (label, role)
        p = t.passages
        for doc_id, seq, start, end, sid in conn.execute(select(p.c.document_id, p.c.seq, p.c.start, p.c.end, p.c.speaker_id)):
            docs[doc_id].passages[seq] = (start, end, sid)
        k = t.codings
        codings = [dict(r) for r in conn.execute(
            select(k.c.id, k.c.document_id, k.c.start, k.c.end, k.c.code, k.c.coder, k.c.created_at, k.c.absent)
            .where(k.c.status.in_(statuses)).order_by(k.c.document_id, k.c.start, k.c.end, k.c.code, k.c.coder, k.c.id)
        ).mappings()]
        all_codings = {r.id: (r.document_id, r.start, r.end) for r in conn.execute(
            select(k.c.id, k.c.document_id, k.c.start, k.c.end))}
        memos = [dict(r) for r in conn.execute(select(t.memos).order_by(t.memos.c.id)).mappings()]
        case_names = [n for (n,) in conn.execute(select(c.c.name).order_by(c.c.name))]
    return docs, codings, all_codings, memos, case_names


def export_qdpx(project, path, include_proposed: bool = False, validate: bool = False) -> ExportReport:
    """Write the whole project as a REFI-QDA .qdpx; ``validate`` checks project.qde against the
    shipped Project schema before anything is written."""
    from lxml import etree

    statuses = ("accepted", "proposed") if include_proposed else ("accepted",)
    docs, codings, all_codings, memos, case_names = _gather(project, statuses)
    codebook = project.codebook() if project.codebook_path is not None else None
    guids = Guids(project_namespace(project))

    def E(parent: etree._Element, tag: str, **attrib: str) -> etree._Element:
        return etree.SubElement(parent, f"{{{NS_PROJECT}}}{tag}", attrib)

    labelled = {doc_id: _Labelled(doc) for doc_id, doc in docs.items()}
    coders = sorted({r["coder"] for r in codings} | {m["coder"] for m in memos})
    user = {name: guids("user", name) for name in coders}

    # Selections: one per distinct span (codings on it, and memos on that passage or coding).
    selections: dict[int, dict[tuple[int, int], dict]] = {doc_id: {} for doc_id in docs}

    def selection(doc_id: int, start: int, end: int) -> dict:
        return selections[doc_id].setdefault((start, end), {"codings": [], "notes": []})

    coding_guid: dict[int, str] = {}
    coding_notes: dict[int, list[str]] = {}
    absent_note = guids("note", ABSENT_NOTE_NAME) if any(r["absent"] for r in codings) else None
    seen: dict[tuple, int] = {}
    for r in codings:
        doc = docs[r["document_id"]]
        key = (doc.name, r["start"], r["end"], r["code"], r["coder"])
        seen[key] = seen.get(key, 0) + 1
        coding_guid[r["id"]] = guids("coding", *key, seen[key])
        selection(doc.id, r["start"], r["end"])["codings"].append(r)

    # Memos → Notes and who refers to them.
    code_notes: dict[str, list[str]] = {}
    doc_notes: dict[int, list[str]] = {}
    project_notes: list[str] = []
    extra_codes = [r["code"] for r in codings]
    notes = []
    for m in memos:
        target_type, target = m["target_type"], str(m["target"])
        stable = target
        attached = False
        if target_type == "code" and target:
            code_notes.setdefault(target, [])
            extra_codes.append(target)
        elif target_type == "doc" and target.isdigit() and int(target) in docs:
            stable = docs[int(target)].name
        elif target_type == "passage":
            ref, _, seq = target.rpartition(":")
            if ref.isdigit() and int(ref) in docs and seq.isdigit() and int(seq) in docs[int(ref)].passages:
                stable = f"{docs[int(ref)].name}:{seq}"
        elif target_type == "coding" and target.isdigit() and int(target) in all_codings:
            doc_id, s, e = all_codings[int(target)]
            stable = f"{docs[doc_id].name}:{s}:{e}:{target}"
        note_id = guids("memo", target_type, stable, m["coder"], m["created_at"], m["text"])
        notes.append((note_id, m))
        if target_type == "code" and target:
            code_notes[target].append(note_id)
            attached = True
        elif target_type == "doc" and target.isdigit() and int(target) in docs:
            doc_notes.setdefault(int(target), []).append(note_id)
            attached = True
        elif target_type == "passage" and stable != target:
            ref, _, seq = target.rpartition(":")
            start, end, _sid = docs[int(ref)].passages[int(seq)]
            selection(int(ref), start, end)["notes"].append(note_id)
            attached = True
        elif target_type == "coding" and target.isdigit():
            if int(target) in coding_guid:
                coding_notes.setdefault(int(target), []).append(note_id)
                attached = True
            elif int(target) in all_codings:  # a memo on a coding that is not exported: keep it on its span
                doc_id, s, e = all_codings[int(target)]
                selection(doc_id, s, e)["notes"].append(note_id)
                attached = True
        if not attached:
            project_notes.append(note_id)

    root = new_root("Project", NS_PROJECT, name=xml_text(project.name), origin=ORIGIN)
    if coders:
        users_el = E(root, "Users")
        for name in coders:
            E(users_el, "User", guid=user[name], name=xml_text(name))
    nodes = code_nodes(codebook, extra_codes, guids)
    n_codes = 0
    if nodes:
        n_codes = write_code_elements(E(E(root, "CodeBook"), "Codes"), nodes, NS_PROJECT, code_notes)
    keys = sorted({k for doc in docs.values() for k in doc.attributes})
    has_speakers = any(doc.speakers for doc in docs.values())
    variables = {k: guids("variable", k) for k in keys + ([SPEAKERS_VARIABLE] if has_speakers else [])}
    if variables:
        vars_el = E(root, "Variables")
        for name, guid in variables.items():
            var = E(vars_el, "Variable", guid=guid, name=xml_text(name), typeOfVariable="Text")
            if name == SPEAKERS_VARIABLE:
                E(var, "Description").text = ("qualcode: speaker labels and roles of this document (JSON); "
                                              "each turn in the text starts with its label and a full-width colon")
    cases_used = sorted({doc.case for doc in docs.values() if doc.case} | set(case_names))
    if cases_used:
        cases_el = E(root, "Cases")
        for name in cases_used:
            case_el = E(cases_el, "Case", guid=guids("case", name), name=xml_text(name))
            for doc in docs.values():
                if doc.case == name:
                    E(case_el, "SourceRef", targetGUID=guids("doc", doc.name))
    files: dict[str, bytes] = {}
    n_codings = 0
    if docs:
        sources_el = E(root, "Sources")
        for doc in docs.values():
            doc_guid = guids("doc", doc.name)
            lab = labelled[doc.id]
            attrib = {"guid": doc_guid, "name": xml_text(doc.name), "plainTextPath": f"internal://{doc_guid}.txt"}
            if _datetime(doc.imported_at):
                attrib["creationDateTime"] = doc.imported_at
            src = E(sources_el, "TextSource", **attrib)
            files[f"sources/{doc_guid}.txt"] = lab.text.encode("utf-8")
            for (start, end), sel in sorted(selections[doc.id].items()):
                s, e = lab.start(start), max(lab.start(start), lab.end(end))
                sel_attrib = {"guid": guids("selection", doc.name, start, end), "name": xml_text(_snippet(lab.text[s:e])),
                              "startPosition": str(s), "endPosition": str(e)}
                if sel["codings"]:
                    first = sel["codings"][0]
                    sel_attrib["creatingUser"] = user[first["coder"]]
                    if _datetime(first["created_at"]):
                        sel_attrib["creationDateTime"] = first["created_at"]
                sel_el = E(src, "PlainTextSelection", **sel_attrib)
                for r in sel["codings"]:
                    c_attrib = {"guid": coding_guid[r["id"]], "creatingUser": user[r["coder"]]}
                    if _datetime(r["created_at"]):
                        c_attrib["creationDateTime"] = r["created_at"]
                    coding_el = E(sel_el, "Coding", **c_attrib)
                    E(coding_el, "CodeRef", targetGUID=guids("code", r["code"]))
                    if r["absent"] and absent_note is not None:
                        E(coding_el, "NoteRef", targetGUID=absent_note)
                    for note_id in coding_notes.get(r["id"], []):
                        E(coding_el, "NoteRef", targetGUID=note_id)
                    n_codings += 1
                for note_id in sel["notes"]:
                    E(sel_el, "NoteRef", targetGUID=note_id)
            for note_id in doc_notes.get(doc.id, []):
                E(src, "NoteRef", targetGUID=note_id)
            values = sorted(doc.attributes.items())
            if doc.speakers:
                speakers = {label: role for label, role in sorted(doc.speakers.values())}
                values.append((SPEAKERS_VARIABLE, json.dumps(speakers, ensure_ascii=False, sort_keys=True)))
            for key, value in values:
                vv = E(src, "VariableValue")
                E(vv, "VariableRef", targetGUID=variables[key])
                E(vv, "TextValue").text = xml_text(value)
    if notes:
        notes_el = E(root, "Notes")
        for note_id, m in notes:
            attrib = {"guid": note_id, "name": xml_text(_snippet(m["text"], 40)), "creatingUser": user[m["coder"]]}
            if _datetime(m["created_at"]):
                attrib["creationDateTime"] = m["created_at"]
            note_el = E(notes_el, "Note", **attrib)
            E(note_el, "PlainTextContent").text = xml_text(m["text"])
    for note_id in project_notes:
        E(root, "NoteRef", targetGUID=note_id)
    if absent_note is not None:  # after Notes' memos, so the memos keep their places
        notes_el = kid(root, "Notes")
        if notes_el is None:
            notes_el = etree.Element(f"{{{NS_PROJECT}}}Notes")
            refs = kids(root, "NoteRef")
            (refs[0].addprevious if refs else root.append)(notes_el)
        note_el = E(notes_el, "Note", guid=absent_note, name=ABSENT_NOTE_NAME)
        E(note_el, "PlainTextContent").text = ABSENT_NOTE_TEXT

    qde = xml_bytes(root)
    if validate:
        check_schema("project", qde)
    _write_zip(Path(path), qde, files)
    return ExportReport(Path(path), {
        "documents": len(docs), "codes": n_codes, "codings": n_codings, "cases": len(cases_used),
        "variables": len(variables), "memos": len(notes), "coders": len(coders),
    }, validated=validate)


def _snippet(text: str, limit: int = 80) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def _write_zip(path: Path, qde: bytes, files: dict[str, bytes]) -> None:
    """A byte-identical archive for identical content: fixed times, fixed order."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in [("project.qde", qde)] + sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    write_atomic(path, buf.getvalue())


# ============================================================================ import


@dataclass
class _Coding:
    doc: int  # index into plan.docs
    start: int
    end: int
    code: str
    coder: str
    created: str
    notes: list[str] = field(default_factory=list)
    absent: bool = False  # negative evidence: a NoteRef to the note named ABSENT_NOTE_NAME


@dataclass
class _ImportDoc:
    name: str
    text: str
    passages: list[tuple[int, int, str | None, int]]  # start, end, speaker, line
    speakers: dict[str, str | None]
    case: str | None
    attributes: dict[str, str]
    source_path: str


@dataclass
class _Memo:
    kind: str  # code | doc | selection | coding | project
    target: Any  # by kind: code path, document index, (document index, start, end, codings), _Coding, None
    coder: str
    created: str
    text: str


@dataclass
class _Plan:
    codebook: Codebook | None = None
    docs: list[_ImportDoc] = field(default_factory=list)
    codings: list[_Coding] = field(default_factory=list)
    memos: list[_Memo] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)


def _by_guid(table: dict[str, str], value: str | None) -> str | None:
    """``table``'s entry for the GUID ``value`` (an attribute that may be absent)."""
    g = normalize_guid(value)
    return table.get(g) if g is not None else None


def _decode(data: bytes, what: str, warnings: list[str]) -> str:
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
        warnings.append(f"{what}: not UTF-8; read as GB18030")
        return text
    except UnicodeDecodeError:
        warnings.append(f"{what}: not UTF-8; undecodable bytes replaced")
        return data.decode("utf-8", errors="replace")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _clean(text: str) -> str:
    """Names, values and memo texts without control characters (tabs and line breaks stay)."""
    return _CONTROL.sub("", text)


def _source_ref(ref: str) -> tuple[str, str]:
    """(scheme, path) of internal://X, relative:///X, absolute:///X, file:///X or a bare path."""
    m = re.match(r"^([A-Za-z]+)://(.*)$", ref.strip())
    if not m:
        return "", ref.strip()
    return m.group(1).lower(), m.group(2).lstrip("/")


class _Reader:
    """Reads the parts of a .qdpx into a _Plan without touching the project."""

    def __init__(self, archive, path: Path, root):
        self.zf = archive
        self.path = path
        self.root = root
        self.origin = root.get("origin") or ""
        self.plan = _Plan()
        self.users: dict[str, str] = {}
        self.code_paths: dict[str, str] = {}
        self.note_targets: list[tuple[str, object, str | None]] = []  # (kind, target, note guid)
        self.absent_notes: set[str] = set()  # guids of notes named ABSENT_NOTE_NAME

    def warn(self, message: str) -> None:
        self.plan.warnings.append(message)

    def read_file(self, ref: str, what: str) -> bytes | None:
        scheme, rel = _source_ref(ref)
        name = None
        if scheme in ("", "internal", "relative"):
            rel_safe = rel.replace("\\", "/")
            if scheme == "internal":
                name = self.zf.find(f"sources/{rel_safe}") or self.zf.find(rel_safe)
            else:
                name = self.zf.find(rel_safe)
        if name is None and rel:
            name = self.zf.find_basename(PurePosixPath(rel.replace("\\", "/")).name)
        if name is not None:
            return self.zf.read(name)
        if scheme == "relative" and rel:  # next to the .qdpx, never outside its folder
            try:
                check_entry_name(rel, str(self.path))
                base = self.path.resolve().parent
                candidate = (base / rel).resolve()
                if base in candidate.parents and candidate.is_file():
                    if candidate.stat().st_size <= MAX_MEMBER_BYTES:
                        return candidate.read_bytes()
            except (ExchangeError, OSError):
                pass
        self.warn(f"{what}: its text file {ref!r} is not in the archive; skipped")
        return None

    def run(self) -> _Plan:
        root = self.root
        users_el = kid(root, "Users")
        for u in kids(users_el, "User") if users_el is not None else []:
            g = normalize_guid(u.get("guid"))
            if g:
                self.users[g] = _clean(u.get("name") or u.get("id") or g).strip() or g
        self._codebook()
        variables: dict[str, str] = {}
        vars_el = kid(root, "Variables")
        for v in kids(vars_el, "Variable") if vars_el is not None else []:
            g = normalize_guid(v.get("guid"))
            if g and (v.get("name") or "").strip():
                variables[g] = v.get("name").strip()
        self.variables = variables
        notes = self._notes()
        # Cases: membership and case-level variable values.
        source_case: dict[str, str] = {}
        case_values: dict[str, dict[str, str]] = {}
        cases_el = kid(root, "Cases")
        for case in kids(cases_el, "Case") if cases_el is not None else []:
            name = (case.get("name") or "").strip() or normalize_guid(case.get("guid")) or "case"
            if name not in self.plan.cases:
                self.plan.cases.append(name)
            values = self._values(case)
            for ref in kids(case, "SourceRef"):
                g = normalize_guid(ref.get("targetGUID"))
                if g is None:
                    continue  # a reference to nothing
                if g in source_case and source_case[g] != name:
                    self.warn(f"source {g} is in several cases ({source_case[g]}, {name}); qualcode keeps the first")
                    continue
                source_case.setdefault(g, name)
                case_values.setdefault(g, {}).update(values)
        sources_el = kid(root, "Sources")
        skipped = 0
        used_names: set[str] = set()
        for src in list(sources_el) if sources_el is not None else []:
            if local(src) != "TextSource":
                skipped += 1
                continue
            self._source(src, source_case, case_values, used_names)
        if skipped:
            self.warn(f"{skipped} PDF, picture, audio or video sources skipped (qualcode imports text sources)")
        for ref in kids(root, "NoteRef"):
            self.note_targets.append(("project", None, normalize_guid(ref.get("targetGUID"))))
        referenced = {g for _, _, g in self.note_targets}
        for g in notes:
            if g not in referenced:
                self.note_targets.append(("project", None, g))
        for kind, target, g in self.note_targets:
            if kind == "coding" and g in self.absent_notes and isinstance(target, _Coding):
                target.absent = True
            elif g in notes:
                coder, created, text = notes[g]
                self.plan.memos.append(_Memo(kind, target, coder, created, _clean(text)))
        return self.plan

    def _user(self, guid: str | None, fallback: str = IMPORTED_CODER) -> str:
        g = normalize_guid(guid)
        return self.users.get(g, fallback) if g else fallback

    def _codebook(self) -> None:
        cb_el = kid(self.root, "CodeBook")
        codes_el = kid(cb_el, "Codes") if cb_el is not None else None
        if codes_el is None:
            return
        codes = read_code_elements(codes_el)
        if not codes:
            return
        title = f"{self.root.get('name') or self.path.stem} (imported from {self.path.name})"
        self.plan.codebook, self.code_paths = codebook_from_refi(codes, self.path.stem, title, self.plan.warnings)
        for el in codes_el.iter():
            if local(el) == "Code":
                path = _by_guid(self.code_paths, el.get("guid"))
                for ref in kids(el, "NoteRef"):
                    if path:
                        self.note_targets.append(("code", path, normalize_guid(ref.get("targetGUID"))))

    def _notes(self) -> dict[str, tuple[str, str, str]]:
        notes = {}
        notes_el = kid(self.root, "Notes")
        for n in kids(notes_el, "Note") if notes_el is not None else []:
            g = normalize_guid(n.get("guid"))
            text = kid_text(n, "PlainTextContent")
            if text is None and n.get("plainTextPath"):
                data = self.read_file(n.get("plainTextPath"), f"note {n.get('name') or g}")
                text = _decode(data, f"note {g}", self.plan.warnings) if data is not None else None
            text = (text or "").strip() or (kid_text(n, "Description") or "").strip() or (n.get("name") or "").strip()
            if g and (n.get("name") or "").strip() == ABSENT_NOTE_NAME:
                self.absent_notes.add(g)  # marks codings absent, not a memo
            elif g and text:
                notes[g] = (self._user(n.get("creatingUser")), n.get("creationDateTime") or "", text)
        return notes

    def _values(self, el) -> dict[str, str]:
        out = {}
        for vv in kids(el, "VariableValue"):
            ref = kid(vv, "VariableRef")
            name = _by_guid(self.variables, ref.get("targetGUID")) if ref is not None else None
            if name is None:
                continue
            for child in vv:
                if local(child).endswith("Value") and child.text is not None:
                    out[_clean(name)] = _clean(child.text).strip()
        return out

    def _source(self, src, source_case, case_values, used_names: set[str]) -> None:
        guid = normalize_guid(src.get("guid")) or f"source-{len(self.plan.docs)}"
        name = _clean(src.get("name") or "").strip() or guid
        what = f"source {name}"
        raw = kid_text(src, "PlainTextContent")
        if raw is None:
            ref = src.get("plainTextPath")
            if not ref:
                self.warn(f"{what}: no plain text (PlainTextContent or plainTextPath); skipped")
                return
            data = self.read_file(ref, what)
            if data is None:
                return
            raw = _decode(data, what, self.plan.warnings)
        raw = raw.lstrip("\ufeff")
        if len(raw) > MAX_DOCUMENT_CHARS:
            raise ExchangeError(f"{self.path}: {what} has {len(raw):,} characters (limit {MAX_DOCUMENT_CHARS:,} "
                                "for one document); nothing was imported", hint="split the source in its QDA program")
        if not raw.strip():
            self.warn(f"{what}: the text is empty; skipped")
            return
        positions = SourcePositions(raw)
        selections = []
        for sel in kids(src, "PlainTextSelection"):
            try:
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            except (TypeError, ValueError):
                self.warn(f"{what}: selection {sel.get('guid')} has no valid positions; skipped")
                continue
            if start >= end:  # reversed or empty: no text to code, and no guessing what was meant
                self.warn(f"{what}: selection {sel.get('guid')} has start {start} "
                          f"{'after' if start > end else 'equal to'} its end {end}; skipped")
                continue
            selections.append((start, end, sel))
        unit = positions.choose([(s, e, sel.get("name")) for s, e, sel in selections], self.origin)
        values = dict(case_values.get(guid, {}))
        values.update(self._values(src))
        speakers: dict[str, str | None] = {}
        if SPEAKERS_VARIABLE in values:
            try:
                data = json.loads(values.pop(SPEAKERS_VARIABLE))
                speakers = {str(k): (v if v in _ROLES else None) for k, v in data.items()} if isinstance(data, dict) else {}
            except ValueError:
                self.warn(f"{what}: variable {SPEAKERS_VARIABLE} is not JSON; speaker labels stay in the text")
        # Take the speaker labels qualcode put in out of the text again.
        text1 = positions.text
        edits, line_speakers = [], []
        labels = sorted(speakers, key=len, reverse=True)
        line_start = 0
        for line in text1.split("\n"):
            who = next((lab for lab in labels if line.startswith(lab + LABEL_SEP)), None)
            line_speakers.append(who)
            if who is not None:
                edits.append((line_start, line_start + len(who) + len(LABEL_SEP), ""))
            line_start += len(line) + 1
        text2, map2 = rebuild(text1, edits)
        text3, map3 = rebuild(text2, nfc_edits(text2))
        # control characters (NUL …) go, as in text imports: no xlsx, sheet or PostgreSQL copy
        # could hold them
        text3, map_c = rebuild(text3, [(m.start(), m.end(), "") for m in _CONTROL.finditer(text3)])
        passages = []
        pos = 0
        for i, line in enumerate(text3.split("\n")):
            stripped = line.strip()
            if stripped:
                a = pos + (len(line) - len(line.lstrip()))
                passages.append((a, a + len(stripped), line_speakers[i] if i < len(line_speakers) else None, i + 1))
            pos += len(line) + 1

        def final(offset: int) -> int | None:
            p = positions.convert(unit, offset)
            return None if p is None else map_c[map3[map2[p]]]

        doc_index = len(self.plan.docs)
        if unit.kind != CODE_POINTS or (not unit.crlf_as_two and positions.has_cr):
            self.plan.units[name] = unit.describe()
        bad = 0
        for start, end, sel in selections:
            s, e = final(start), final(end)
            if s is None or e is None:
                bad += 1
                continue
            sel_user = sel.get("creatingUser")
            sel_codings = []
            for coding in kids(sel, "Coding"):
                c = self._coding(coding, doc_index, s, e, sel_user, sel.get("creationDateTime"), what)
                if c is not None:
                    sel_codings.append(c)
            for ref in kids(sel, "NoteRef"):
                self.note_targets.append(("selection", (doc_index, s, e, sel_codings), normalize_guid(ref.get("targetGUID"))))
            desc = (kid_text(sel, "Description") or "").strip()
            if desc:  # ATLAS.ti keeps quotation comments here
                desc = _clean(desc)
                self.plan.memos.append(_Memo("selection", (doc_index, s, e, sel_codings), self._user(sel_user),
                                             sel.get("creationDateTime") or "", desc))
        if bad:
            self.warn(f"{what}: {bad} selections lie outside the text ({unit.describe()}); skipped")
        for coding in kids(src, "Coding"):  # the whole source is coded
            self._coding(coding, doc_index, 0, len(text3), src.get("creatingUser"), src.get("creationDateTime"), what)
        for ref in kids(src, "NoteRef"):
            self.note_targets.append(("doc", doc_index, normalize_guid(ref.get("targetGUID"))))
        desc = (kid_text(src, "Description") or "").strip()
        if desc:
            desc = _clean(desc)
            self.plan.memos.append(_Memo("doc", doc_index, self._user(src.get("creatingUser")),
                                         src.get("creationDateTime") or "", desc))
        doc_name = name.replace("/", "_").replace("\\", "_")
        base, n = doc_name, 2
        while doc_name in used_names:
            doc_name, n = f"{base}-{n}", n + 1
        used_names.add(doc_name)
        self.plan.docs.append(_ImportDoc(
            name=doc_name, text=text3, passages=passages,
            speakers={lab: speakers[lab] for lab in speakers if lab in line_speakers},
            case=source_case.get(guid), attributes=values, source_path=f"{self.path}#{name}",
        ))

    def _coding(self, coding, doc_index, s, e, sel_user, sel_created, what) -> _Coding | None:
        ref = kid(coding, "CodeRef")
        code = _by_guid(self.code_paths, ref.get("targetGUID")) if ref is not None else None
        if code is None:
            self.warn(f"{what}: a coding refers to a code that is not in the codebook; skipped")
            return None
        c = _Coding(doc_index, s, e, code, self._user(coding.get("creatingUser") or sel_user),
                    coding.get("creationDateTime") or sel_created or "")
        self.plan.codings.append(c)
        for nref in kids(coding, "NoteRef"):
            self.note_targets.append(("coding", c, normalize_guid(nref.get("targetGUID"))))
        return c


def read_qdpx(path) -> _Plan:
    """Everything to import from a .qdpx, read and checked; nothing is written."""
    path = Path(path)
    with SafeArchive(path) as zf:
        qdes = [n for n in zf.names() if n.lower().endswith(".qde")]
        top = [n for n in qdes if "/" not in n]
        if len(top) > 1:
            top = [n for n in top if n.lower() == "project.qde"] or top
        candidates = top or qdes
        if not candidates:
            raise ExchangeError(f"{path}: no project file (.qde) in the archive; is this a REFI-QDA .qdpx?")
        if len(candidates) > 1:
            raise ExchangeError(f"{path}: several project files ({', '.join(candidates[:4])}); cannot tell which to read")
        root = parse_xml(zf.read(candidates[0]), f"{path}:{candidates[0]}")
        if local(root) != "Project":
            raise ExchangeError(f"{path}: {candidates[0]} is not a REFI-QDA project (root element <{local(root)}>)")
        return _Reader(zf, path, root).run()


def _check_empty(project) -> None:
    with project.store.read() as conn:
        _check_empty_in(conn)


def _check_empty_in(conn) -> None:
    n = conn.execute(select(func.count()).select_from(t.documents)).scalar_one()
    if n:
        raise ExchangeError(
            f"the project already has {n} documents; a .qdpx is imported into a new or empty project",
            hint="create one with 'qualcode init DIR' and run 'qualcode --project DIR import qdpx FILE'",
        )


def _prepared(doc: _ImportDoc, segmenter):
    passages = []
    for seq, (start, end, speaker, line) in enumerate(doc.passages, start=1):
        body = doc.text[start:end]
        passages.append(PreparedPassage(
            seq=seq, speaker=speaker, timestamp=None, line=line, start=start, end=end,
            tokens=pack_tokens(segmenter.token_lengths(body)), sentences=split_sentences(body),
            mojibake=suspect_mojibake(body),
        ))
    return PreparedDocument(
        path=doc.source_path, file_name=f"{doc.name}.txt",
        content_hash=hashlib.sha256(doc.text.encode("utf-8")).hexdigest(), text=doc.text, encoding="utf-8",
        style="plain", script=detect_script(doc.text), case=doc.case, attributes=doc.attributes,
        speakers=doc.speakers, passages=passages, warnings=[], notes=[], dict_version=segmenter.version,
    )


def _when(value: str, now: str) -> str:
    return value if _datetime(value) else now


def import_qdpx(project, path) -> ImportReport:
    """Import a .qdpx (from qualcode, NVivo, ATLAS.ti, MAXQDA, QualCoder ...) into an empty project.

    Everything is read and checked before anything is written; if writing fails part-way,
    what was written is removed again, so a bad file leaves the project as it was.
    """
    path = Path(path)
    _check_empty(project)
    plan = read_qdpx(path)
    if not plan.docs and plan.codebook is None:
        raise ExchangeError(f"{path}: nothing to import (no text sources and no codes)")
    segmenter = project.segmenter(plan.codebook)
    prepared = [_prepared(doc, segmenter) for doc in plan.docs]  # the slow part, before any write
    codebook_path = save_codebook(project, plan.codebook, path.stem) if plan.codebook is not None else None
    try:
        # One transaction for the whole project: a failure or a killed process (kill -9,
        # power cut) leaves the project as it was, and the import can simply be run again.
        with project.store.transaction() as conn:
            _check_empty_in(conn)
            doc_ids: list[int] = []
            for doc, ready in zip(plan.docs, prepared):
                result = writer.write_in(conn, project, ready)
                if result.status != IMPORTED:
                    raise ExchangeError(f"{path}: source {doc.name}: {result.message}")
                doc_ids.append(conn.execute(
                    select(t.documents.c.id).where(t.documents.c.name == result.document)).scalar_one())
            counts = _write_rest(conn, project, plan, doc_ids, path)
    except BaseException:
        if codebook_path is not None:
            codebook_path.unlink(missing_ok=True)
        raise
    if codebook_path is not None:
        project.set_setting("codebook", codebook_path.relative_to(project.root).as_posix())
    counts = {"documents": len(doc_ids), "codes": len(plan.codebook.codes) if plan.codebook else 0, **counts}
    return ImportReport(path, codebook_path, counts, plan.warnings, plan.units)


def _write_rest(conn, project, plan: _Plan, doc_ids: list[int], path: Path) -> dict[str, int]:
    now = utcnow()
    version = plan.codebook.version if plan.codebook is not None else None
    has_decided = "decided_by" in t.codings.c
    for name in plan.cases:
        case_id(conn, name)
    passages: dict[int, list[tuple[int, int, int, int]]] = {}
    for i, doc_id in enumerate(doc_ids):
        p = t.passages
        passages[i] = [tuple(r) for r in conn.execute(
            select(p.c.start, p.c.end, p.c.id, p.c.seq).where(p.c.document_id == doc_id).order_by(p.c.seq))]
    coding_ids: dict[int, int] = {}
    for c in plan.codings:
        pid, unit = None, "span"
        for start, end, passage_id, _seq in passages[c.doc]:
            if start <= c.start and c.end <= end and c.start < end:
                pid = passage_id
                unit = "passage" if (start, end) == (c.start, c.end) else "span"
                break
        when = _when(c.created, now)
        row = dict(document_id=doc_ids[c.doc], passage_id=pid, start=c.start, end=c.end, code=c.code,
                   coder=c.coder, origin="import", status="accepted", unit=unit, codebook_version=version,
                   absent=int(c.absent), created_at=when, updated_at=when)
        if has_decided:
            row.update(decided_by=c.coder, decided_at=when)
        coding_ids[id(c)] = conn.execute(insert(t.codings).values(**row).returning(t.codings.c.id)).scalar_one()
    n_memos = 0
    for m in plan.memos:
        target = _memo_target(m, doc_ids, passages, coding_ids)
        if target is None:
            continue
        conn.execute(insert(t.memos).values(target_type=target[0], target=target[1], coder=m.coder,
                                            text=m.text, created_at=_when(m.created, now)))
        n_memos += 1
    if plan.codebook is not None:
        sync_codes(conn, plan.codebook, plan.codebook.version)
    n_attrs = sum(len(d.attributes) for d in plan.docs)
    conn.execute(insert(t.audit_log).values(
        at=now, coder=project.default_coder, action="import-qdpx", target=str(path),
        detail=json.dumps({"documents": len(doc_ids), "codings": len(plan.codings), "memos": n_memos},
                          ensure_ascii=False),
    ))
    return {"codings": len(plan.codings), "cases": len(plan.cases) or len({d.case for d in plan.docs if d.case}),
            "attributes": n_attrs, "memos": n_memos}


def _memo_target(m: _Memo, doc_ids, passages, coding_ids) -> tuple[str, str] | None:
    if m.kind == "code":
        return "code", str(m.target)
    if m.kind == "doc":
        return "doc", str(doc_ids[m.target])
    if m.kind == "coding":
        return "coding", str(coding_ids[id(m.target)])
    if m.kind == "selection":
        doc, s, e, sel_codings = m.target
        for start, end, _pid, seq in passages[doc]:
            if (start, end) == (s, e):
                return "passage", f"{doc_ids[doc]}:{seq}"
        if sel_codings:
            return "coding", str(coding_ids[id(sel_codings[0])])
        return "doc", str(doc_ids[doc])
    return "project", "project"
