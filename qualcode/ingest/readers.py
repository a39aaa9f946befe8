"""Read one file into a RawSource: docx paragraphs and tables, or decoded text lines."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from qualcode.errors import InputFileError
from qualcode.ingest.encoding import decode
from qualcode.ingest.model import RawSource
from qualcode.ingest.normalize import clean_line

SUPPORTED = (".txt", ".md", ".docx", ".srt", ".vtt")

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
    return [clean_line(line) for line in text.lstrip("\ufeff").splitlines()]


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


def _read_docx(data: bytes, path: str) -> list[str]:
    if not data.startswith(b"PK"):
        what = "a PDF renamed to .docx" if data.startswith(b"%PDF") else (
            "an old .doc renamed to .docx" if data.startswith(b"\xd0\xcf\x11\xe0") else "not a zip archive"
        )
        raise InputFileError(f"{path}: not a valid .docx ({what})", hint="open it in Word/WPS and save it as .docx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile:
        raise InputFileError(
            f"{path}: not a valid .docx (damaged zip archive)", hint="open it in Word/WPS and save it again"
        ) from None
    if "word/document.xml" not in names:
        raise InputFileError(
            f"{path}: not a Word document (zip without word/document.xml)",
            hint="give the file its real extension, or save it from Word/WPS as .docx",
        )
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
    return [clean_line(line) for line in lines]


def read_source(path: Path, encoding: str | None = None) -> RawSource:
    """Read a transcript file into lines (docx paragraphs or text lines), cleaned.

    Raises InputFileError for lock files, unsupported types, empty, binary and
    undecodable files and broken .docx.
    """
    path = Path(path)
    shown = str(path)
    if _is_lock_file(path.name):
        raise InputFileError(f"{shown}: Word/WPS lock file, not a document", hint=_LOCK_HINT)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise InputFileError(f"{shown}: {skip_reason(path)}", hint="convert it or leave it out")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{shown}: cannot read file ({exc.strerror})", hint="check the path and permissions") from None
    if not data:
        raise InputFileError(f"{shown}: empty file (0 bytes)", hint="re-export the transcript or remove the file")

    warnings: list[str] = []
    if suffix == ".docx":
        lines = _read_docx(data, shown)
        detected = "docx"
    else:
        text, detected = decode(data, shown, encoding)
        lines = _split_lines(text)
    # mis-decoded text is flagged per passage by the import pipeline, with the passage ids
    return RawSource(path=shown, kind=suffix[1:], lines=lines, encoding=detected, warnings=warnings)
