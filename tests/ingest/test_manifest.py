import codecs
import datetime as dt

import pytest

from qualcode.errors import ConfigError
from qualcode.ingest.manifest import load_manifest

CSV = (
    "文件名,街道,受访者角色,访谈时间,访谈人\n"
    "MVI_6236.docx,S街道,社区党组织书记A,2022/7/21,李老师\n"
    "C市/D社区/访谈.docx,D社区,网格员B,2022年7月22日,\n"
    "*-业委会-*.docx,S街道,业委会主任,,王老师\n"
    "访谈.docx,E社区,居民C,,\n"
)


def test_csv_utf8_bom_and_lookup_precedence(tmp_path):
    path = tmp_path / "manifest.csv"
    path.write_bytes(codecs.BOM_UTF8 + CSV.encode("utf-8"))
    manifest = load_manifest(path)
    assert manifest.lookup(tmp_path / "MVI_6236.docx") == {
        "case": "S街道", "role": "社区党组织书记A", "date": "2022-07-21", "attributes": {"访谈人": "李老师"},
    }
    # exact relative path beats the bare file name listed later
    assert manifest.lookup(tmp_path / "C市" / "D社区" / "访谈.docx") == {
        "case": "D社区", "role": "网格员B", "date": "2022-07-22", "attributes": {},
    }
    assert manifest.lookup(tmp_path / "F社区" / "访谈.docx")["case"] == "E社区"
    assert manifest.lookup(tmp_path / "S街道-业委会-刘.docx")["role"] == "业委会主任"
    assert manifest.lookup(tmp_path / "其他.docx") is None


def test_csv_gb18030(tmp_path):
    path = tmp_path / "manifest.csv"
    path.write_bytes(CSV.encode("gb18030"))
    assert load_manifest(path).lookup(tmp_path / "MVI_6236.docx")["role"] == "社区党组织书记A"


def test_english_headers_and_name_without_extension(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("file,case,role,date,gender\nMVI_6236,C1,resident,2022-07-21,F\n", encoding="utf-8")
    assert load_manifest(path).lookup(tmp_path / "sub" / "MVI_6236.docx") == {
        "case": "C1", "role": "resident", "date": "2022-07-21", "attributes": {"gender": "F"},
    }


def test_xlsx(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["文件", "案例", "角色", "日期", "访谈人"])
    sheet.append(["220721S街道书记访谈.docx", "S街道", "社区党组织书记A", dt.datetime(2022, 7, 21), "李老师"])
    sheet.append([None, None, None, None, None])
    sheet.append(["MVI_6236.docx", "D社区", None, None, 3.0])
    path = tmp_path / "清单.xlsx"
    workbook.save(path)
    manifest = load_manifest(path)
    assert manifest.lookup(tmp_path / "220721S街道书记访谈.docx") == {
        "case": "S街道", "role": "社区党组织书记A", "date": "2022-07-21", "attributes": {"访谈人": "李老师"},
    }
    assert manifest.lookup(tmp_path / "MVI_6236.docx") == {
        "case": "D社区", "role": None, "date": None, "attributes": {"访谈人": "3"},
    }
    assert [row.row for row in manifest.rows] == [2, 4]


def _error(path) -> str:
    with pytest.raises(ConfigError) as err:
        load_manifest(path)
    assert err.value.hint
    return str(err.value)


def test_no_file_column(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("街道,角色\nS街道,书记\n", encoding="utf-8")
    assert _error(path) == f"{path}: no file column in row 1 (expected one of: file, 文件, 文件名, filename)"


def test_duplicate_rows(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("file,case\na.docx,S\nb.docx,S\n./a.docx,S\n", encoding="utf-8")
    assert _error(path) == f"{path}: row 4 repeats 'a.docx' from row 2"


def test_row_without_file_name(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("file,case\na.docx,S\n,D\n", encoding="utf-8")
    assert _error(path) == f"{path}: row 3 has no file name"


def test_unreadable(tmp_path):
    path = tmp_path / "m.xlsx"
    path.write_bytes(b"not a workbook")
    assert _error(path) == f"{path}: cannot read manifest (not a valid .xlsx workbook)"
    path = tmp_path / "m.csv"
    path.write_bytes(b"\x80\x81 hello \xff")
    assert _error(path) == f"{path}: cannot decode text (not UTF-8, GB18030, Big5 or UTF-16) (manifest)"
    path = tmp_path / "m.xls"
    path.write_bytes(b"x")
    assert _error(path) == f"{path}: manifest must be .csv or .xlsx"
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert _error(path) == f"{path}: manifest is empty"
