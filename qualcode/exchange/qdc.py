"""Codebooks as REFI-QDA codes: qualcode YAML ⇄ ``<Code>`` trees (.qdc files and inside .qdpx).

A code is written with its label as ``name`` (Chinese if it has one), its definition as
``Description`` and its colour; the hierarchy is the nesting. So that qualcode's ASCII ids
(and hence code paths, which codings refer to) survive a trip through another tool, the
Description ends with one line ``qualcode: {"id": "...", "en": "..."}``; on import that
line is removed again. Codes from other tools get ids derived from their names (ASCII
names) or GUIDs (``c`` + 8 hex digits, stable when the tool re-exports), and keep their
name as label.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from qualcode import __version__, files
from qualcode.codebook.dump import dump
from qualcode.codebook.load import load_codebook
from qualcode.codebook.model import COLOR_RE, ID_RE, Code, Codebook, CodebookError
from qualcode.errors import ExchangeError
from qualcode.exchange.guid import Guids, normalize_guid, project_namespace
from qualcode.exchange.safety import parse_xml
from qualcode.exchange.schemas import schema_problems

NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
NS_PROJECT = "urn:QDA-XML:project:1.0"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = {
    NS_CODEBOOK: "http://schema.qdasoftware.org/versions/Codebook/v1.0/Codebook.xsd",
    NS_PROJECT: "http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd",
}
ORIGIN = f"qualcode {__version__}"
TRAILER = "qualcode: "
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass
class ExportReport:
    path: Path
    counts: dict[str, int] = field(default_factory=dict)
    validated: bool = False  # checked against the shipped REFI-QDA schema before writing

    def summary(self) -> str:
        text = ", ".join(f"{n} {what}" for what, n in self.counts.items())
        return text + " (valid against the REFI-QDA schema)" if self.validated else text


@dataclass
class ImportReport:
    path: Path
    codebook_path: Path | None = None
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)  # document → position unit, when not code points

    def summary(self) -> str:
        return ", ".join(f"{n} {what}" for what, n in self.counts.items())


# ---------------------------------------------------------------------------- helpers


def xml_text(value: str | None) -> str:
    """Text with the characters XML 1.0 cannot carry removed."""
    return _INVALID_XML.sub("", value or "")


def local(el) -> str:
    from lxml import etree

    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def kids(el, name: str) -> list:
    return [c for c in el if local(c) == name]


def kid(el, name: str):
    for c in el:
        if local(c) == name:
            return c
    return None


def kid_text(el, name: str) -> str | None:
    c = kid(el, name)
    return c.text if c is not None and c.text is not None else None


def write_atomic(path: Path, data: bytes) -> None:
    """Write an export through ``qualcode.files``: never over a project file or a device; the
    old file stays until the new one is complete."""
    files.write_bytes(Path(path), data)


def has_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") and ch.isalpha() for ch in text)


# ---------------------------------------------------------------------------- export


@dataclass
class CodeNode:
    path: str
    guid: str
    name: str
    description: str
    color: str | None
    children: list[CodeNode] = field(default_factory=list)


def code_nodes(codebook: Codebook | None, extra_paths: list[str], guids: Guids) -> list[CodeNode]:
    """The code tree to write: the codebook's codes, plus codes only codings use (with parents)."""
    codes: list[Code] = list(codebook.codes) if codebook is not None else []
    known = {c.path for c in codes}
    for path in sorted(set(extra_paths)):
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if sub not in known:
                parent = "/".join(parts[: depth - 1]) or None
                codes.append(Code(path=sub, id=parts[depth - 1], parent=parent, label_zh=None))
                known.add(sub)
    nodes: dict[str, CodeNode] = {}
    roots: list[CodeNode] = []
    for c in codes:
        trailer = {"id": c.id}
        if c.label_en:
            trailer["en"] = c.label_en
        desc = (c.definition or "").strip()
        desc = (desc + "\n\n" if desc else "") + TRAILER + json.dumps(trailer, ensure_ascii=False)
        color = c.color if c.color and COLOR_RE.match(c.color) else None
        node = CodeNode(c.path, guids("code", c.path), c.label_zh or c.label_en or c.id, desc, color)
        nodes[c.path] = node
        (nodes[c.parent].children if c.parent in nodes else roots).append(node)
    return roots


def write_code_elements(parent, nodes: list[CodeNode], ns: str, note_refs: dict[str, list[str]] | None = None) -> int:
    """Append <Code> elements for ``nodes`` under ``parent``; returns how many were written."""
    from lxml import etree

    n = 0
    for node in nodes:
        attrib = {"guid": node.guid, "name": xml_text(node.name), "isCodable": "true"}
        if node.color:
            attrib["color"] = node.color
        el = etree.SubElement(parent, f"{{{ns}}}Code", attrib)
        etree.SubElement(el, f"{{{ns}}}Description").text = xml_text(node.description)
        for target in (note_refs or {}).get(node.path, []):
            etree.SubElement(el, f"{{{ns}}}NoteRef", targetGUID=target)
        n += 1 + write_code_elements(el, node.children, ns, note_refs)
    return n


def xml_bytes(root) -> bytes:
    from lxml import etree

    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def new_root(tag: str, ns: str, **attrib):
    from lxml import etree

    root = etree.Element(f"{{{ns}}}{tag}", nsmap={None: ns, "xsi": NS_XSI})
    for key, value in attrib.items():
        root.set(key, value)
    root.set(f"{{{NS_XSI}}}schemaLocation", f"{ns} {SCHEMA_LOCATION[ns]}")
    return root


def check_schema(kind: str, xml: bytes) -> None:
    """Raise ExchangeError (nothing written) if ``xml`` does not conform to the REFI-QDA schema."""
    problems = schema_problems(kind, xml)
    if problems:
        raise ExchangeError(f"the export does not conform to the REFI-QDA {kind} schema; nothing written: "
                            + "; ".join(problems[:3]), hint="report it with the codebook and project that caused it")


def export_qdc(project, path, codebook: Path | str | None = None, validate: bool = False) -> ExportReport:
    """Write the project's codebook (or the YAML file ``codebook``) as a REFI-QDA .qdc file;
    ``validate`` checks it against the shipped Codebook schema first."""
    from lxml import etree

    cb = project.codebook(Path(codebook) if codebook else None)
    guids = Guids(project_namespace(project))
    root = new_root("CodeBook", NS_CODEBOOK, origin=ORIGIN)
    codes_el = etree.SubElement(root, f"{{{NS_CODEBOOK}}}Codes")
    n = write_code_elements(codes_el, code_nodes(cb, [], guids), NS_CODEBOOK)
    data = xml_bytes(root)
    if validate:
        check_schema("codebook", data)
    write_atomic(Path(path), data)
    return ExportReport(Path(path), {"codes": n}, validated=validate)


# ---------------------------------------------------------------------------- import


@dataclass
class RefiCode:
    guid: str
    name: str
    description: str | None
    color: str | None
    codable: bool
    children: list[RefiCode] = field(default_factory=list)


MAX_CODE_DEPTH = 32  # codebooks in the wild go 4-6 levels deep; qualcode paths stay readable


def read_code_elements(parent, depth: int = 1) -> list[RefiCode]:
    """<Code> children of ``parent`` (a <Codes> or <Code>), any namespace, missing bits tolerated."""
    if depth > MAX_CODE_DEPTH:
        raise ExchangeError(f"the codes are nested more than {MAX_CODE_DEPTH} levels deep; refusing to read them",
                            hint="flatten the code tree in the QDA program and export again")
    out = []
    for i, el in enumerate(kids(parent, "Code")):
        guid = normalize_guid(el.get("guid")) or f"code-{id(el)}-{i}"
        name = (el.get("name") or "").strip()
        out.append(RefiCode(
            guid=guid, name=name, description=kid_text(el, "Description"), color=(el.get("color") or "").strip() or None,
            codable=(el.get("isCodable") or "true").strip().lower() not in ("false", "0"),
            children=read_code_elements(el, depth + 1),
        ))
    return out


def _slug(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_).strip("-").lower()[:40].strip("-")


def derive_id(name: str, guid: str) -> str:
    """An ASCII id for a foreign code: from an ASCII name, else from its GUID."""
    if name and not has_cjk(name):
        slug = _slug(name)
        if slug and ID_RE.match(slug):
            return slug
    return "c" + hashlib.sha1(guid.lower().encode("utf-8")).hexdigest()[:8]


def _split_trailer(description: str | None) -> tuple[str | None, dict]:
    text = (description or "").strip()
    lines = text.splitlines()
    if lines and lines[-1].strip().startswith(TRAILER):
        try:
            data = json.loads(lines[-1].strip()[len(TRAILER):])
        except ValueError:
            data = None
        if isinstance(data, dict):
            text = "\n".join(lines[:-1]).strip()
            return text or None, data
    return text or None, {}


def codebook_from_refi(codes: list[RefiCode], name: str, title: str | None,
                       warnings: list[str]) -> tuple[Codebook, dict[str, str]]:
    """A qualcode Codebook for these REFI codes and the map GUID → code path."""
    out: list[Code] = []
    paths: dict[str, str] = {}

    def walk(items: list[RefiCode], parent: str | None) -> None:
        taken: set[str] = set()
        for rc in items:
            definition, extra = _split_trailer(rc.description)
            cid = extra.get("id") if isinstance(extra.get("id"), str) and ID_RE.match(extra.get("id", "")) else None
            cid = cid or derive_id(rc.name, rc.guid)
            base, n = cid, 2
            while cid in taken:
                cid, n = f"{base}-{n}", n + 1
            taken.add(cid)
            path = f"{parent}/{cid}" if parent else cid
            en = extra.get("en")
            en = en if isinstance(en, str) and en.strip() else None
            # The tool's name is the label (the store needs one even for ASCII names); the
            # English label only comes back from qualcode's own trailer line.
            zh = rc.name or cid
            color = rc.color if rc.color and COLOR_RE.match(rc.color) else None
            if rc.color and color is None:
                warnings.append(f"code {rc.name or cid}: colour {rc.color!r} is not #RRGGBB; dropped")
            out.append(Code(path=path, id=cid, parent=parent, label_zh=zh, label_en=en,
                            definition=definition, color=color))
            if rc.guid in paths:
                warnings.append(f"code {rc.name or cid}: GUID {rc.guid} appears twice; codings use the first")
            else:
                paths[rc.guid] = path
            walk(rc.children, path)

    walk(codes, None)
    cb = Codebook(name=_slug(name).replace("-", "_") or "imported", codes=out, title=title)
    return cb, paths


def save_codebook(project, codebook: Codebook, stem: str) -> Path:
    """Write ``codebook`` to codebooks/<stem>.yaml (a fresh name if taken) and check it loads."""
    folder = project.root / "codebooks"
    folder.mkdir(exist_ok=True)
    stem = _slug(stem) or "imported"
    target = folder / f"{stem}.yaml"
    n = 2
    while target.exists():
        target = folder / f"{stem}-{n}.yaml"
        n += 1
    dump(codebook, target)
    try:
        load_codebook(target)
    except CodebookError as exc:  # a bug on our side: do not leave a broken codebook behind
        target.unlink(missing_ok=True)
        raise ExchangeError(f"the imported codebook does not validate: {'; '.join(exc.problems[:3])}") from None
    return target


def read_qdc(path) -> tuple[Codebook, list[str]]:
    """Parse a .qdc file into a qualcode Codebook (and warnings); nothing is written."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExchangeError(f"{path}: no such file") from None
    except OSError as exc:
        raise ExchangeError(f"{path}: cannot read the file ({exc.strerror})") from None
    root = parse_xml(data, str(path))
    if local(root) != "CodeBook":
        raise ExchangeError(f"{path}: not a REFI-QDA codebook (the root element is <{local(root)}>, not <CodeBook>)")
    codes_el = kid(root, "Codes")
    codes = read_code_elements(codes_el) if codes_el is not None else []
    if not codes:
        raise ExchangeError(f"{path}: the codebook has no codes")
    warnings: list[str] = []
    cb, _ = codebook_from_refi(codes, path.stem, f"Imported from {path.name}", warnings)
    return cb, warnings


def import_qdc(project, path) -> ImportReport:
    """Read a .qdc codebook into codebooks/<name>.yaml and make it the project's codebook."""
    path = Path(path)
    cb, warnings = read_qdc(path)
    target = save_codebook(project, cb, path.stem)
    project.set_setting("codebook", target.relative_to(project.root).as_posix())
    return ImportReport(path, target, {"codes": len(cb.codes)}, warnings)
