"""Rebuild the .docx interviews of the SYNTHETIC demo corpus from their text sources.

Every .docx file in this corpus is generated from a plain UTF-8 source file under
``corpus/_docx_src/`` so that the text can be reviewed in a diff. The mapping is by path:

    _docx_src/N街道/N街道-D社区-社区党组织书记A.src  ->  N街道/N街道-D社区-社区党组织书记A.docx

Source format (one docx paragraph per line, in order):

    @@heading <text>     a paragraph in the "Heading 1" style (e.g. a Feishu export title)
    @@table              start of a two-column table (metadata header); each following
    <field><TAB><value>  line is one row ...
    @@endtable           ... until this line
    anything else        one ordinary paragraph, text kept literally (Markdown markers such
                         as **...** stay as literal characters, as when a transcript was
                         pasted from a Markdown tool into Word); an empty line is an empty
                         paragraph

The output is deterministic: core properties carry fixed dates and the zip members carry
a fixed timestamp, so running this script twice gives byte-identical files.

Usage:
    python corpus/build_docx.py            # writes next to the sources' mirror paths in corpus/
    python corpus/build_docx.py OUTDIR     # writes the same tree under OUTDIR instead
"""

from __future__ import annotations

import datetime as _dt
import io
import sys
import zipfile
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt

CORPUS = Path(__file__).resolve().parent
SRC_DIR = CORPUS / "_docx_src"
FIXED_DT = _dt.datetime(2024, 1, 1, 0, 0, 0)
ZIP_DT = (2024, 1, 1, 0, 0, 0)


def _set_fonts(doc: Document) -> None:
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(11)
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:  # pragma: no cover - python-docx always creates it via font.name
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), "宋体")


def _fix_core_properties(doc: Document) -> None:
    cp = doc.core_properties
    cp.author = "qualcode synthetic corpus"
    cp.last_modified_by = "qualcode synthetic corpus"
    cp.title = ""
    cp.comments = "SYNTHETIC demo interview written for qualcode; not real data."
    cp.revision = 1
    cp.created = FIXED_DT
    cp.modified = FIXED_DT
    cp.last_printed = FIXED_DT


def build_document(src_text: str) -> Document:
    doc = Document()
    _set_fonts(doc)
    _fix_core_properties(doc)
    lines = src_text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    table_rows: list[tuple[str, str]] | None = None
    for line in lines:
        if table_rows is not None:
            if line.strip() == "@@endtable":
                table = doc.add_table(rows=0, cols=2)
                table.style = "Table Grid"
                for field, value in table_rows:
                    cells = table.add_row().cells
                    cells[0].text = field
                    cells[1].text = value
                table_rows = None
            else:
                field, _, value = line.partition("\t")
                table_rows.append((field, value))
            continue
        if line.strip() == "@@table":
            table_rows = []
        elif line.startswith("@@heading "):
            doc.add_heading(line[len("@@heading "):], level=1)
        else:
            doc.add_paragraph(line)
    if table_rows is not None:
        raise ValueError("@@table without @@endtable")
    return doc


def _deterministic_bytes(doc: Document) -> bytes:
    raw = io.BytesIO()
    doc.save(raw)
    raw.seek(0)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_DT)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zout.writestr(zi, data)
    return out.getvalue()


def main(argv: list[str]) -> int:
    out_root = Path(argv[1]).resolve() if len(argv) > 1 else CORPUS
    sources = sorted(SRC_DIR.rglob("*.src"))
    if not sources:
        print(f"no sources under {SRC_DIR}", file=sys.stderr)
        return 1
    for src in sources:
        rel = src.relative_to(SRC_DIR).with_suffix(".docx")
        target = out_root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        doc = build_document(src.read_text(encoding="utf-8"))
        target.write_bytes(_deterministic_bytes(doc))
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
