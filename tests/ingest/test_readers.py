import codecs
import zipfile
from pathlib import Path

import pytest

from qualcode.errors import InputFileError
from qualcode.ingest.readers import SUPPORTED, read_source, skip_reason

LINES = ["问：您好，请介绍一下互助站。", "答：好的，互助站是2020年成立的。"]


def test_supported():
    assert SUPPORTED == (".txt", ".md", ".docx", ".srt", ".vtt")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("~$访谈.docx", "Word/WPS lock file (left by an open document)"),
        (".~访谈.docx", "Word/WPS lock file (left by an open document)"),
        (".DS_Store", "hidden file"),
        ("访谈.pdf", "PDF is not supported; export it to .docx or .txt"),
        ("访谈.doc", "old Word .doc is not supported; save it as .docx"),
        ("现场.jpg", ".jpg is an image/audio/video file, not a transcript"),
        ("访谈.pages", "Pages documents are not supported; export to .docx"),
        ("README", "no file extension; supported: .txt, .md, .docx, .srt, .vtt"),
        ("x.json", ".json is not supported; supported: .txt, .md, .docx, .srt, .vtt"),
        ("访谈.docx", None),
        ("访谈.TXT", None),
        ("a.srt", None),
        ("a.vtt", None),
        ("a.md", None),
    ],
)
def test_skip_reason(name, reason):
    assert skip_reason(Path("C市") / name) == reason


@pytest.mark.parametrize(
    ("codec", "prefix", "encoding"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("gb18030", b"", "gb18030"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16"),
    ],
)
def test_text_file(write_bytes, codec, prefix, encoding):
    path = write_bytes("访谈.txt", prefix + "\r\n".join(LINES).encode(codec))
    src = read_source(path)
    assert (src.kind, src.encoding, src.lines, src.warnings) == ("txt", encoding, LINES, [])
    assert src.path == str(path)


def test_big5_text_file(write_bytes):
    lines = ["問：您好，請介紹一下互助站。", "答：好的，互助站是前年成立的。"]
    src = read_source(write_bytes("訪談.txt", "\n".join(lines).encode("big5")))
    assert (src.encoding, src.lines) == ("big5", lines)


def test_line_separators_and_cleaning(write_bytes):
    data = "领(lǐng)导\r\n第二行\u00a0 \r第三行\u2028第四行\n\n".encode("utf-8")
    src = read_source(write_bytes("a.md", data))
    assert src.kind == "md"
    assert src.lines == ["领导", "第二行", "第三行", "第四行", ""]


def test_forced_encoding(write_bytes):
    path = write_bytes("a.txt", "Q2 答：业委会".encode("gb18030"))
    assert read_source(path, encoding="gb18030").lines == ["Q2 答：业委会"]
    with pytest.raises(InputFileError, match=r"a.txt: not valid utf-8 \(undecodable bytes at offset 3\)$"):
        read_source(path, encoding="utf-8")


def test_srt_and_vtt_kind(write_bytes):
    assert read_source(write_bytes("a.srt", b"1\n00:00:01,000 --> 00:00:02,000\nhi\n")).kind == "srt"
    assert read_source(write_bytes("a.vtt", b"WEBVTT\n")).kind == "vtt"


def test_mojibake_is_flagged_per_passage(write_bytes):
    from qualcode.ingest.pipeline import ImportOptions, prepare
    from qualcode.text.segment import Segmenter

    garbled = "我们这个互助站是前年成立的，主要服务老人。".encode().decode("gbk", errors="ignore")
    path = write_bytes("a.txt", f"问：您好。\n答：{garbled}\n".encode())
    doc = prepare(path, ImportOptions(), Segmenter())
    assert [p.mojibake is not None for p in doc.passages] == [False, True]


def test_docx_paragraphs_and_tables_in_order(make_docx):
    path = make_docx(
        [
            "XX社区书记访谈记录",
            [["访谈时间", "2022年7月21日"], ["受访人", "张书记"]],
            "问：您好，领(lǐng)导怎么看网格党支部？",
            "",
            "答：网格党支部是去年建的。",
        ]
    )
    src = read_source(path)
    assert (src.kind, src.encoding) == ("docx", "docx")
    assert src.lines == [
        "XX社区书记访谈记录",
        "访谈时间\t2022年7月21日",
        "受访人\t张书记",
        "问：您好，领导怎么看网格党支部？",
        "",
        "答：网格党支部是去年建的。",
    ]


def test_docx_merged_cells_once(tmp_path):
    import docx

    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).text = "访谈地点"
    table.cell(0, 1).merge(table.cell(0, 2)).text = "社区办公室"
    table.cell(1, 0).merge(table.cell(1, 2)).text = "（片段一）"
    path = tmp_path / "t.docx"
    document.save(path)
    assert read_source(path).lines == ["访谈地点\t社区办公室", "（片段一）"]


def test_docx_soft_line_break(tmp_path):
    import docx

    document = docx.Document()
    paragraph = document.add_paragraph("说话人 1 00:00")
    paragraph.add_run().add_break()
    paragraph.add_run("您好，我们想了解一下业委会。")
    path = tmp_path / "t.docx"
    document.save(path)
    assert read_source(path).lines == ["说话人 1 00:00", "您好，我们想了解一下业委会。"]


def test_docx_tags_that_look_like_text_runs(tmp_path):
    # <w:tcBorders>/<w:top> start like <w:t; a regex reader would pick them up.
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    table = document.add_table(rows=1, cols=1)
    table.cell(0, 0).text = "受访人：张书记"
    borders = parse_xml(f'<w:tcBorders {nsdecls("w")}><w:top w:val="single" w:sz="4"/></w:tcBorders>')
    table.cell(0, 0)._tc.get_or_add_tcPr().append(borders)
    document.add_paragraph("答：好的。")
    path = tmp_path / "t.docx"
    document.save(path)
    assert read_source(path).lines == ["受访人：张书记", "答：好的。"]


# --- junk: exact one-line messages -----------------------------------------------------


def _error(path, **kwargs) -> str:
    with pytest.raises(InputFileError) as err:
        read_source(path, **kwargs)
    assert err.value.hint
    return str(err.value)


def test_zero_byte_file(write_bytes):
    path = write_bytes("空.txt", b"")
    assert _error(path) == f"{path}: empty file (0 bytes)"
    path = write_bytes("空.docx", b"")
    assert _error(path) == f"{path}: empty file (0 bytes)"


def test_docx_that_is_not_a_zip(write_bytes):
    path = write_bytes("访谈.docx", "问：您好".encode())
    assert _error(path) == f"{path}: not a valid .docx (not a zip archive)"


def test_pdf_renamed_to_docx(write_bytes):
    path = write_bytes("访谈.docx", b"%PDF-1.4\n...")
    assert _error(path) == f"{path}: not a valid .docx (a PDF renamed to .docx)"


def test_old_doc_renamed_to_docx(write_bytes):
    path = write_bytes("访谈.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert _error(path) == f"{path}: not a valid .docx (an old .doc renamed to .docx)"


def test_damaged_zip_docx(write_bytes):
    path = write_bytes("访谈.docx", b"PK\x03\x04 truncated")
    assert _error(path) == f"{path}: not a valid .docx (damaged zip archive)"


def test_zip_that_is_not_a_word_document(tmp_path):
    path = tmp_path / "访谈.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    assert _error(path) == f"{path}: not a Word document (zip without word/document.xml)"


@pytest.mark.parametrize("name", ["~$访谈.docx", ".~访谈.docx"])
def test_lock_file(write_bytes, name):
    path = write_bytes(name, b"\x05user  " + b"\x00" * 50)
    assert _error(path) == f"{path}: Word/WPS lock file, not a document"


def test_binary_txt(write_bytes):
    path = write_bytes("a.txt", bytes(range(256)) * 4)
    assert _error(path) == f"{path}: binary data, not a text transcript"


def test_pdf_named_txt(write_bytes):
    path = write_bytes("a.txt", b"%PDF-1.7\n1 0 obj")
    assert _error(path) == f"{path}: this is a PDF, not a text transcript"


def test_pdf_by_extension(write_bytes):
    path = write_bytes("a.pdf", b"%PDF-1.7\n1 0 obj")
    assert _error(path) == f"{path}: PDF is not supported; export it to .docx or .txt"


def test_undecodable_txt(write_bytes):
    path = write_bytes("a.txt", b"\x80\x81 hello \xff")
    assert _error(path) == f"{path}: cannot decode text (not UTF-8, GB18030, Big5 or UTF-16)"


def test_missing_file(tmp_path):
    path = tmp_path / "nope.txt"
    assert _error(path) == f"{path}: cannot read file (No such file or directory)"
