"""Read one file into a RawSource: docx paragraphs and tables, or decoded text lines."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from qualcode import files
from qualcode.errors import InputFileError
from qualcode.ingest.encoding import decode
from qualcode.ingest.model import RawSource
from qualcode.ingest.normalize import clean_lines

SUPPORTED = (".txt", ".md", ".docx", ".srt", ".vtt")

# Bounds on one transcript, so that a huge or hostile file is refused with a message instead
# of exhausting memory (a two-hour interview is about 30,000 characters).
MAX_FILE_BYTES = 256 * 2**20  # the file on disk (a .docx may carry pictures)
MAX_DOCUMENT_CHARS = 5_000_000  # the text of one document
MAX_LINE_CHARS = 100_000  # one line or paragraph (one passage)
_TOO_BIG_HINT = "split the transcript into smaller files (one interview per file, one turn per line)"

_UNSUPPORTED = {
    ".pdf": "PDF is not supported; export it to .docx or .txt",
    ".doc": "old Word .doc is not supported; save it as .docx",
    ".wps": "WPS .wps is not supported; save it as .docx",
    ".rtf": "RTF is not supported; save it as .docx or .txt",
    ".odt": "OpenDocument .odt is not supported; save it as .docx",
    ".pages": "Pages documents are not supported; export to .docx",
    ".xlsx": "spreadsheet, not a transcript (pass it with --manifest if it lists the interviews)",
    ".xls": "spreadsheet, not a transcript",
    ".csv": "spreadsheet, not a transcript (pass it with --manifest if it lists the interviews)",
}
_MEDIA = {
    ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".heic", ".tif", ".tiff", ".webp",
    ".mp3", ".m4a", ".wav", ".amr", ".aac", ".flac", ".mp4", ".mov", ".avi", ".mkv",
}
_LOCK_HINT = "close the document in Word/WPS, or delete the lock file"


def _is_lock_file(name: str) -> bool:
    return name.startswith("~$") or name.startswith(".~")


def skip_reason(path: Path) -> str | None:
    """Why a file found in a folder walk should be skipped unread, or None to read it."""
    name = path.name
    if _is_lock_file(name):
        return "Word/WPS lock file (left by an open document)"
    if name.startswith("."):
        return "hidden file"
    suffix = path.suffix.lower()
    if suffix in SUPPORTED:
        return None
    if suffix in _UNSUPPORTED:
        return _UNSUPPORTED[suffix]
    if suffix in _MEDIA:
        return f"{suffix} is an image/audio/video file, not a transcript"
    if not suffix:
        return "no file extension; supported: " + ", ".join(SUPPORTED)
    return f"{suffix} is not supported; supported: " + ", ".join(SUPPORTED)


def _split_lines(text: str) -> list[str]:
    # str.splitlines covers \r\n, \r, \n, U+2028/2029, \x0b, \x0c, \x85.
    return clean_lines(text.lstrip("\ufeff").splitlines())


# --- docx -----------------------------------------------------------------------------
#
# Text is read straight from word/document.xml with lxml: python-docx builds a package of
# parts and a proxy object per paragraph and run, which cost ten times the rest of reading a
# .docx. The walk below gives exactly python-docx's text (``Paragraph.text``, ``_Cell.text``,
# ``Table.rows``/``_Row.cells``): it visits the same elements in the same order. Packages
# it does not expect (another main part, vertically merged table cells, which python-docx
# resolves through the rows above) are read through python-docx, which also produces the
# error messages for damaged files.

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_P, _TBL, _SDT, _SDT_CONTENT = _W + "p", _W + "tbl", _W + "sdt", _W + "sdtContent"
_R, _HYPERLINK, _TR, _TC = _W + "r", _W + "hyperlink", _W + "tr", _W + "tc"
_TC_PR, _V_MERGE, _GRID_SPAN = _W + "tcPr", _W + "vMerge", _W + "gridSpan"
_BR, _BR_TYPE = _W + "br", _W + "type"
# Run content with a fixed text equivalent, as python-docx's CT_* __str__ methods give it.
_RUN_CHARS = {_W + "tab": "\t", _W + "ptab": "\t", _W + "cr": "\n", _W + "noBreakHyphen": "-"}
_T = _W + "t"
_MAIN_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_CONTENT_TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}Override"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


class _UnusualDocx(Exception):
    """The fast reader does not handle this package; python-docx reads it instead."""


def _xml_parser():
    from lxml import etree

    # python-docx's parser options, so text nodes come out the same.
    return etree.XMLParser(remove_blank_text=True, resolve_entities=False)


def _run_text(run) -> str:
    parts = []
    for child in run:
        tag = child.tag
        if tag == _T:
            parts.append(child.text or "")
        elif tag == _BR:
            # a line break; page and column breaks have no text
            parts.append("\n" if child.get(_BR_TYPE, "textWrapping") == "textWrapping" else "")
        elif tag in _RUN_CHARS:
            parts.append(_RUN_CHARS[tag])
    return "".join(parts)


def _paragraph_text(p) -> str:
    parts = []
    for child in p:
        if child.tag == _R:
            parts.append(_run_text(child))
        elif child.tag == _HYPERLINK:
            parts.extend(_run_text(run) for run in child if run.tag == _R)
    return "".join(parts)


def _cell_text(tc) -> str:
    """A cell's paragraphs on one line: python-docx's cell.text with its line breaks joined."""
    tc_pr = tc.find(_TC_PR)
    if tc_pr is not None:
        merge = tc_pr.find(_V_MERGE)
        if merge is not None and merge.get(_W + "val", "continue") != "restart":
            raise _UnusualDocx("vertically merged cell")
        span = tc_pr.find(_GRID_SPAN)
        if span is not None and not (span.get(_W + "val", "").isdigit() and int(span.get(_W + "val")) > 0):
            raise _UnusualDocx("odd grid span")
    text = "\n".join(_paragraph_text(p) for p in tc if p.tag == _P)
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _xml_blocks(container, lines: list[str]) -> None:
    """Lines of the paragraphs and tables in ``container``, descending into content controls."""
    for child in container:
        tag = child.tag
        if tag == _P:
            # Soft line breaks (Shift+Enter) become separate lines, like paragraphs.
            lines.extend(_paragraph_text(child).splitlines() or [""])
        elif tag == _TBL:
            for tr in child:
                if tr.tag == _TR:
                    # A cell spanning several grid columns is one w:tc, so it counts once.
                    cells = (_cell_text(tc) for tc in tr if tc.tag == _TC)
                    lines.append("\t".join(text for text in cells if text))
        elif tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                _xml_blocks(content, lines)


def _docx_lines_fast(zf: zipfile.ZipFile) -> list[str]:
    from lxml import etree

    parser = _xml_parser()
    # The main part must be word/document.xml with the Word content type, as python-docx
    # checks; anything else goes the slow way.
    rels = etree.fromstring(zf.read("_rels/.rels"), parser)
    targets = [r.get("Target", "").lstrip("/") for r in rels.iter(_RELATIONSHIP) if r.get("Type") == _OFFICE_DOCUMENT]
    if targets != ["word/document.xml"]:
        raise _UnusualDocx("main part")
    types = etree.fromstring(zf.read("[Content_Types].xml"), parser)
    if not any(
        o.get("PartName", "").lower() == "/word/document.xml" and o.get("ContentType") == _MAIN_CONTENT_TYPE
        for o in types.iter(_CONTENT_TYPES)
    ):
        raise _UnusualDocx("content type")
    body = etree.fromstring(zf.read("word/document.xml"), parser).find(_W + "body")
    if body is None:
        raise _UnusualDocx("no body")
    lines: list[str] = []
    _xml_blocks(body, lines)
    return lines


def _docx_blocks(body, document):
    """Paragraph and table objects in document order, descending into content controls."""
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, document)
        elif child.tag == qn("w:tbl"):
            yield Table(child, document)
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _docx_blocks(content, document)


def _table_lines(table) -> list[str]:
    lines = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            # Merged cells come back once per grid column; keep each underlying cell once.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            text = " ".join(part.strip() for part in cell.text.splitlines() if part.strip())
            if text:
                cells.append(text)
        lines.append("\t".join(cells))
    return lines


def _docx_lines_python_docx(data: bytes, path: str) -> list[str]:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types for damaged packages
        raise InputFileError(
            f"{path}: cannot open .docx ({type(exc).__name__}: {exc})".splitlines()[0],
            hint="open it in Word/WPS and save it again",
        ) from None
    lines: list[str] = []
    for block in _docx_blocks(document.element.body, document):
        if isinstance(block, Table):
            lines.extend(_table_lines(block))
        else:
            # Soft line breaks (Shift+Enter) become separate lines, like paragraphs.
            lines.extend(block.text.splitlines() or [""])
    return lines


def _read_docx(data: bytes, path: str) -> list[str]:
    if not data.startswith(b"PK"):
        what = "a PDF renamed to .docx" if data.startswith(b"%PDF") else (
            "an old .doc renamed to .docx" if data.startswith(b"\xd0\xcf\x11\xe0") else "not a zip archive"
        )
        raise InputFileError(f"{path}: not a valid .docx ({what})", hint="open it in Word/WPS and save it as .docx")
    problem = files.archive_problem(io.BytesIO(data))
    if problem is not None:
        raise InputFileError(f"{path}: refusing to open this .docx: {problem}",
                             hint="open it in Word/WPS and save it again, or split it")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if "word/document.xml" not in set(zf.namelist()):
                raise InputFileError(
                    f"{path}: not a Word document (zip without word/document.xml)",
                    hint="give the file its real extension, or save it from Word/WPS as .docx",
                )
            try:
                lines = _docx_lines_fast(zf)
            except Exception:  # unusual or damaged: python-docx reads it or says what is wrong
                lines = None
    except zipfile.BadZipFile:
        raise InputFileError(
            f"{path}: not a valid .docx (damaged zip archive)", hint="open it in Word/WPS and save it again"
        ) from None
    if lines is None:
        lines = _docx_lines_python_docx(data, path)
    return clean_lines(lines)


def read_source(path: Path, encoding: str | None = None) -> RawSource:
    """Read a transcript file into lines (docx paragraphs or text lines), cleaned.

    Raises InputFileError for lock files, unsupported types, empty, binary and
    undecodable files and broken .docx.
    """
    path = Path(path)
    shown = files.shown_name(path)
    if _is_lock_file(path.name):
        raise InputFileError(f"{shown}: Word/WPS lock file, not a document", hint=_LOCK_HINT)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise InputFileError(f"{shown}: {skip_reason(path)}", hint="convert it or leave it out")
    problem = files.input_problem(path)
    if problem is not None and path.exists():  # a FIFO, a device; a missing file is reported below
        raise InputFileError(f"{shown}: {problem}", hint="import regular files only")
    try:
        data = files.read_capped(path, MAX_FILE_BYTES)
    except OSError as exc:
        raise InputFileError(f"{shown}: cannot read file ({exc.strerror})", hint="check the path and permissions") from None
    except ValueError:
        raise InputFileError(f"{shown}: the file is larger than {MAX_FILE_BYTES // 2**20} MiB", hint=_TOO_BIG_HINT) from None
    if not data:
        raise InputFileError(f"{shown}: empty file (0 bytes)", hint="re-export the transcript or remove the file")

    warnings: list[str] = []
    if suffix == ".docx":
        lines = _read_docx(data, shown)
        detected = "docx"
    else:
        if len(data) > 4 * MAX_DOCUMENT_CHARS:  # no encoding takes more than 4 bytes a character
            raise InputFileError(f"{shown}: more than {MAX_DOCUMENT_CHARS:,} characters of text", hint=_TOO_BIG_HINT)
        text, detected = decode(data, shown, encoding)
        lines = _split_lines(text)
    check_size(lines, shown)
    # mis-decoded text is flagged per passage by the import pipeline, with the passage ids
    return RawSource(path=shown, kind=suffix[1:], lines=lines, encoding=detected, warnings=warnings)


def check_size(lines: list[str], shown: str) -> None:
    """InputFileError if the text is longer than ``MAX_DOCUMENT_CHARS`` or a line longer than
    ``MAX_LINE_CHARS`` (a passage that long would make segmentation and every report slow)."""
    total = 0
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_CHARS:
            raise InputFileError(f"{shown}: line {number} has {len(line):,} characters (limit {MAX_LINE_CHARS:,})",
                                 hint=_TOO_BIG_HINT)
        total += len(line) + 1
    if total > MAX_DOCUMENT_CHARS:
        raise InputFileError(f"{shown}: {total:,} characters of text (limit {MAX_DOCUMENT_CHARS:,})", hint=_TOO_BIG_HINT)
