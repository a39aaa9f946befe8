"""Issue 22: no export can destroy a project, no input crashes or hangs, every failure is one
line. Each test is one numbered case of the issue (the number is in its name); each failed on
the code before the fix. The seeded fuzz suite is in ``tests/test_fuzz.py``."""
from __future__ import annotations

import errno
import io
import os
import re
import sqlite3
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qualcode import files
from qualcode.cli import cli
from qualcode.exchange import ExchangeError, import_qdpx
from qualcode.ingest.pipeline import ImportOptions, import_paths
from qualcode.project import Project
from qualcode.store import queries, schema as t
from tests.exchange.helpers import make_zip
from tests.helpers import write_text

TRANSCRIPT = "访谈员：社区怎么组织居民？\n受访者：=_= 我们社区有党员带头，大家一起商量。\n访谈员：还有呢？\n受访者：@所有人 每周开会。\n"
NS = 'xmlns="urn:QDA-XML:project:1.0"'


def qc(runner, project, *args):
    return runner.invoke(cli, ["--project", str(project.root), *map(str, args)])


def one_line_error(result, code=1) -> str:
    """The exit code is ``code`` (never 70) and the output is one Error line (and a Hint)."""
    assert result.exit_code == code, result.output
    lines = result.output.strip().splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1 and "internal error" not in errors[0] and "Traceback" not in result.output, result.output
    return errors[0]


def n_documents(project) -> int:
    with project.store.read() as conn:
        return conn.execute(select(func.count()).select_from(t.documents)).scalar_one()


@pytest.fixture
def coded(project, tmp_path):
    """A project with one interview and one manual coding."""
    import_paths(project, [write_text(tmp_path / "in" / "访谈.txt", TRANSCRIPT)], ImportOptions())
    from click.testing import CliRunner

    assert CliRunner().invoke(cli, ["--project", str(project.root), "code", "add", "1:2", "governance"]).exit_code == 0
    return project


# -- 1: an export can overwrite the project ----------------------------------------------------
@pytest.mark.parametrize("target", ["qualcode.db", "qualcode.db-wal", "qualcode.toml",
                                    "codebooks/party_building_governance.yaml", "dictionary.txt"])
def test_1_an_export_never_overwrites_a_project_file(coded, runner, target):
    path = coded.root / target
    (coded.root / "qualcode.toml").write_text(  # the GUID namespace export qdpx would add
        (coded.root / "qualcode.toml").read_text(encoding="utf-8")
        + 'guid = "0b8a8f3e-4c1e-4a54-9a8e-591bb84002aa"\n', encoding="utf-8")
    before = path.read_bytes() if path.exists() else None
    for args in (["export", "codings", "--format", "csv", "--output", path],
                 ["export", "passages", "--format", "xlsx", "--output", path],
                 ["sheet", "export", "--output", path], ["report", "frequencies", "--output", path],
                 ["export", "qdpx", path]):
        message = one_line_error(qc(runner, coded, *args))
        assert "refusing to overwrite" in message
        assert (path.read_bytes() if path.exists() else None) == before
    assert qc(runner, coded, "docs", "list").exit_code == 0  # the project still opens


def test_1_a_link_to_the_database_or_any_sqlite_file_is_refused(coded, runner, tmp_path):
    link = tmp_path / "looks-harmless.csv"
    link.symlink_to(coded.root / "qualcode.db")
    assert "project database" in one_line_error(qc(runner, coded, "export", "codings", "-o", link))
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("create table x (y)").connection.commit()
    assert "SQLite database" in one_line_error(qc(runner, coded, "export", "codings", "-o", other))


def test_1_special_files_are_never_replaced(coded, runner, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    message = one_line_error(qc(runner, coded, "export", "codings", "--output", fifo))
    assert "named pipe" in message and Path(fifo).is_fifo()
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "nowhere" / "x.csv")
    assert "link" in one_line_error(qc(runner, coded, "export", "passages", "-o", dangling))
    assert not (tmp_path / "nowhere").exists()


# -- 13: disk full: one line, no temporary file, the old output intact --------------------------
def _full_disk(monkeypatch):
    real = os.replace

    def replace(src, dst):
        if str(src).endswith(".part"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(files.os, "replace", replace)


@pytest.mark.parametrize("args", [["export", "codings", "-o", "{out}/old.csv"], ["export", "passages", "--format",
                                  "xlsx", "-o", "{out}/old.csv"], ["sheet", "export", "-o", "{out}/old.csv"],
                                  ["export", "qdc", "{out}/old.csv"], ["export", "qdpx", "{out}/old.csv"],
                                  ["report", "quotes", "-o", "{out}/old.csv"], ["report", "all", "-o", "{out}"]])
def test_13_disk_full_is_one_line_and_keeps_the_old_output(coded, runner, tmp_path, monkeypatch, args):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.csv").write_text("old", encoding="utf-8")
    (out / "report.xlsx").write_text("old", encoding="utf-8")
    _full_disk(monkeypatch)
    message = one_line_error(qc(runner, coded, *[a.format(out=out) for a in args]))
    assert "no space left" in message
    assert (out / "old.csv").read_text(encoding="utf-8") == "old"
    assert (out / "report.xlsx").read_text(encoding="utf-8") == "old"
    assert not [p for p in out.rglob("*") if ".part" in p.name]


def test_13_a_full_database_is_one_line_and_nothing_is_half_written(coded, runner):
    from sqlalchemy import event

    @event.listens_for(coded.store.engine, "connect")
    def _no_more_pages(dbapi_conn, _record):  # the database may not grow: SQLITE_FULL
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    coded.store.engine.dispose()
    before = queries.codings(coded.store)
    from qualcode.cli import _known_failure

    try:
        with coded.store.transaction() as conn:
            conn.execute(t.memos.insert().values(target_type="project", target="project", coder="x",
                                                 text="很长的备忘录" * 200_000, created_at="2024-01-01"))
    except Exception as exc:  # noqa: BLE001 - what the command line would turn into one line
        known = _known_failure(exc)
        assert known is not None and "disk is full" in known.message and "很长" not in known.message
    else:
        pytest.fail("the database grew past max_page_count")
    assert queries.codings(coded.store) == before


# -- 14: corrupted databases ---------------------------------------------------------------------
def test_14_an_empty_database_file_is_an_error_not_a_new_project(coded, runner):
    coded.close()
    db = coded.root / "qualcode.db"
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    db.write_bytes(b"")
    message = one_line_error(qc(runner, coded, "docs", "list"))
    assert "empty (0 bytes)" in message
    assert db.stat().st_size == 0  # not silently re-created as an empty project


def test_14_a_file_that_is_not_a_database_is_one_line(coded, runner):
    coded.close()
    db = coded.root / "qualcode.db"
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    db.write_text("passage,document\n1:1,访谈\n", encoding="utf-8")  # what an export over it used to leave
    assert "not a SQLite database" in one_line_error(qc(runner, coded, "docs", "list"))


def _damage_table(project, table: str) -> None:
    """Garbage in the root page of ``table`` (a page `code add` never reads)."""
    import gc

    project.close()
    gc.collect()  # the engines of the commands run in this process
    db = project.root / "qualcode.db"
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("select rootpage from sqlite_master where name = ?", (table,)).fetchone()[0]
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    data = bytearray(db.read_bytes())
    offset = (root - 1) * page_size
    data[offset:offset + 12] = b"\xff" * 12  # an invalid b-tree page header
    db.write_bytes(bytes(data))


def test_14_no_change_is_written_into_a_database_that_fails_its_check(coded, runner):
    _damage_table(coded, "sentences")
    message = one_line_error(qc(runner, coded, "code", "add", "1:4", "governance"))
    assert "integrity check" in message or "damaged" in message
    con = sqlite3.connect(coded.root / "qualcode.db")
    assert con.execute("select count(*) from codings").fetchone()[0] == 1  # nothing was added


# -- 3: the same file name in two folders ---------------------------------------------------------
def test_3_same_file_name_in_two_folders_is_two_documents(project, runner, tmp_path):
    corpus = tmp_path / "d"
    write_text(corpus / "H街道" / "访谈记录.txt", TRANSCRIPT)
    write_text(corpus / "N街道" / "访谈记录.txt", TRANSCRIPT.replace("社区", "小区"))
    result = qc(runner, project, "import", corpus)
    assert result.exit_code == 0, result.output
    docs = queries.list_documents(project.store)
    assert len(docs) == 2 and len({d["name"] for d in docs}) == 2
    texts = {d["name"]: queries.document_detail(project.store, d["id"]) for d in docs}
    assert len(texts) == 2
    # only H街道's file changed: --replace replaces that one, N街道's stays as it was
    write_text(corpus / "H街道" / "访谈记录.txt", TRANSCRIPT + "受访者：后来又补充了一句。\n")
    result = qc(runner, project, "import", "--replace", corpus)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1] == "0 imported, 1 replaced, 1 unchanged, 0 skipped, 0 failed"
    after = {d["name"]: d["passages"] for d in queries.list_documents(project.store)}
    assert sorted(after.values()) == [4, 5]


# -- 5: formula injection --------------------------------------------------------------------------
PAYLOADS = ["=_= 真没办法", "=1+2 是多少", "+SUM(1,1)", "-2+3", "@SUM(1)", "=cmd|' /C calc'!A0"]


def test_5_xlsx_cells_are_text_and_csv_cells_are_neutralised(project, runner, tmp_path):
    text = "访谈员：请讲。\n" + "".join(f"受访者：{p}\n" for p in PAYLOADS)
    import_paths(project, [write_text(tmp_path / "in" / "注入.txt", text)], ImportOptions())
    from openpyxl import load_workbook

    xlsx = tmp_path / "p.xlsx"
    assert qc(runner, project, "export", "passages", "--format", "xlsx", "-o", xlsx).exit_code == 0
    ws = load_workbook(xlsx).active
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith(("=", "+", "@"))]
    assert cells and all(c.data_type == "s" for c in cells)  # text, never a formula
    assert "=_= 真没办法" in [c.value for c in cells]
    csv_out = tmp_path / "p.csv"
    assert qc(runner, project, "export", "passages", "-o", csv_out).exit_code == 0
    import csv

    rows = list(csv.DictReader(io.StringIO(csv_out.read_text(encoding="utf-8-sig"))))
    texts = [r["text"] for r in rows]
    assert "'=_= 真没办法" in texts and "'@SUM(1)" in texts and "'-2+3" in texts
    assert not [x for x in texts if x.startswith(files_formula_start())]
    assert [r["start"] for r in rows][0] == "0"  # numbers stay numbers


def files_formula_start():
    from qualcode.exchange.tables import FORMULA_START

    return FORMULA_START


def test_5_the_sheet_round_trip_keeps_emoticons(project, runner, tmp_path):
    import_paths(project, [write_text(tmp_path / "in" / "访谈.txt", TRANSCRIPT)], ImportOptions())
    sheet = tmp_path / "s.xlsx"
    assert qc(runner, project, "sheet", "export", "-o", sheet).exit_code == 0
    result = qc(runner, project, "sheet", "import", sheet)
    assert result.exit_code == 0, result.output
    assert "0 rows refused" in result.output and "refused row" not in result.output


# -- 6, 10: archive caps and size limits -------------------------------------------------------------
def _docx_bomb(path: Path, size: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b" " * size)
    return path


def test_6_a_docx_zip_bomb_is_refused_before_it_expands(project, runner, tmp_path):
    (tmp_path / "in").mkdir()
    bomb = _docx_bomb(tmp_path / "in" / "炸弹.docx", 130 * 2**20)
    assert bomb.stat().st_size < 2 * 2**20
    result = qc(runner, project, "import", bomb)
    assert result.exit_code == 0 and "possible zip bomb" in result.output
    assert n_documents(project) == 0


def _declared_sizes(members: dict[str, bytes], declared: int) -> bytes:
    """A zip whose members declare ``declared`` bytes uncompressed (headers patched)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    blob = bytearray(buf.getvalue())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = blob.find(signature)
        while pos >= 0:
            name_len = struct.unpack_from("<H", blob, pos + (26 if signature == b"PK\x03\x04" else 28))[0]
            name = bytes(blob[pos + (30 if signature == b"PK\x03\x04" else 46):][:name_len])
            if name.startswith(b"sources/"):
                struct.pack_into("<I", blob, pos + offset, declared)
            pos = blob.find(signature, pos + 4)
    return bytes(blob)


def test_10_a_qdpx_of_huge_sources_is_refused_by_the_total_cap(project, tmp_path):
    sources = "".join(f'<TextSource guid="13131313-0000-4000-8000-0000000000{i:02d}" name="s{i}" '
                      f'plainTextPath="internal://s{i}.txt"/>' for i in range(20))
    qde = f'<?xml version="1.0" encoding="utf-8"?><Project {NS} name="p"><Sources>{sources}</Sources></Project>'
    members = {"project.qde": qde.encode(), **{f"sources/s{i}.txt": "文本".encode() for i in range(20)}}
    path = tmp_path / "huge.qdpx"
    path.write_bytes(_declared_sizes(members, 200 * 2**20))
    with pytest.raises(ExchangeError, match="in total"):
        import_qdpx(project, path)
    assert n_documents(project) == 0


def test_10_a_ten_million_character_line_is_refused_with_its_line_number(project, runner, tmp_path):
    path = tmp_path / "in" / "长行.txt"
    path.parent.mkdir()
    path.write_text("受访者：" + "好" * 300_000 + "\n" + "嗯" * 10, encoding="utf-8")
    result = qc(runner, project, "import", path)
    assert result.exit_code == 0 and "line 1 has 300,004 characters (limit 100,000)" in result.output
    assert n_documents(project) == 0


# -- 7: regular-expression denial of service ------------------------------------------------------------
CATASTROPHIC = ["(.*?){30}x", "(社区|社区)+$", "(.*){20}社区x"]


def _codebook_with(tmp_path, pattern: str) -> Path:
    return write_text(tmp_path / "rx.yaml", f"""format: 1
name: rx
codes:
  - id: gov
    label: {{zh: 治理}}
    rules:
      - regex: ['{pattern}']
""")


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_7_codebook_validate_refuses_catastrophic_patterns_with_the_reason(project, runner, tmp_path, pattern):
    result = qc(runner, project, "codebook", "validate", _codebook_with(tmp_path, pattern))
    assert result.exit_code == 1
    assert "can backtrack catastrophically" in result.output and "rx.yaml:7" in result.output


def test_7_rules_run_in_a_linear_time_engine(tmp_path):
    """Even a pattern that slipped past validation (an old cached codebook) finishes at once:
    a subprocess, so that a hang would show as a timeout rather than block the suite."""
    script = ("from qualcode.codebook.patterns import compile_pattern\n"
              f"for p in {CATASTROPHIC!r}:\n"
              "    assert list(compile_pattern(p).finditer('社区' * 20 + '居民' * 10)) == []\n"
              "print('done')\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "done", out.stderr


def test_7_look_around_is_refused_with_the_reason(project, runner, tmp_path):
    result = qc(runner, project, "codebook", "validate", _codebook_with(tmp_path, "(?<=党员)带头"))
    assert result.exit_code == 1 and "look-ahead and look-behind" in result.output


# -- 8, 16: names that are not UTF-8, inputs that are not files ----------------------------------------
def test_8_a_file_name_that_is_not_utf8_does_not_stop_the_batch(project, runner, tmp_path):
    corpus = tmp_path / "d"
    write_text(corpus / "a.txt", TRANSCRIPT)
    (corpus / os.fsdecode(b"b\xff\xfe.txt")).write_text(TRANSCRIPT.replace("社区", "街道"), encoding="utf-8")
    write_text(corpus / "c.txt", TRANSCRIPT.replace("社区", "村里"))
    result = qc(runner, project, "import", corpus)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("3 imported")
    assert "b\\xff\\xfe" in {d["name"] for d in queries.list_documents(project.store)}


def test_16_junk_in_a_folder_is_reported_one_line_each(project, runner, tmp_path):
    corpus = tmp_path / "d"
    write_text(corpus / "a.txt", TRANSCRIPT)
    os.mkfifo(corpus / "pipe.txt")
    (corpus / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    (corpus / "zero.txt").symlink_to("/dev/zero")
    result = qc(runner, project, "import", corpus)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("pipe.txt: a named pipe (FIFO)" in line for line in lines)
    assert any("dangling.txt: a link to a file that does not exist" in line for line in lines)
    assert any("zero.txt: a device" in line for line in lines)
    assert lines[-1] == "1 imported, 0 unchanged, 3 skipped, 0 failed"


def test_16_a_fifo_or_a_device_named_on_the_command_line_never_hangs(project, tmp_path):
    fifo = tmp_path / "named.txt"
    os.mkfifo(fifo)
    out = subprocess.run([sys.executable, "-m", "qualcode.cli", "--project", str(project.root), "import", str(fifo),
                          "/dev/zero"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "named pipe" in out.stderr and "/dev/zero: a device" in out.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_16_an_unreadable_folder_is_reported(project, runner, tmp_path):
    corpus = tmp_path / "d"
    write_text(corpus / "a.txt", TRANSCRIPT)
    write_text(corpus / "locked" / "b.txt", TRANSCRIPT)
    (corpus / "locked").chmod(0)
    try:
        result = qc(runner, project, "import", corpus)
    finally:
        (corpus / "locked").chmod(0o755)
    assert result.exit_code == 4 and "locked: cannot read this folder" in result.output


# -- 9, 11, 17: import qdpx ------------------------------------------------------------------------------
def _qdpx(path: Path, n_sources: int = 5, text: str = "受访者：我们社区有党员。\n访谈员：好。") -> Path:
    code = '<CodeBook><Codes><Code guid="12121212-0000-4000-8000-000000000001" name="治理" isCodable="true"/></Codes></CodeBook>'
    sources = "".join(
        f'<TextSource guid="13131313-0000-4000-8000-0000000000{i:02d}" name="访谈{i}">'
        f"<PlainTextContent>{text}</PlainTextContent>"
        f'<PlainTextSelection guid="14141414-0000-4000-8000-0000000000{i:02d}" startPosition="4" endPosition="8">'
        '<Coding guid="15151515-0000-4000-8000-000000000001"><CodeRef targetGUID="12121212-0000-4000-8000-000000000001"/>'
        "</Coding></PlainTextSelection></TextSource>" for i in range(n_sources))
    qde = f'<?xml version="1.0" encoding="utf-8"?><Project {NS} name="p">{code}<Sources>{sources}</Sources></Project>'
    return make_zip(path, {"project.qde": qde})


def test_9_kill_9_during_import_qdpx_leaves_the_project_as_it_was(project, tmp_path):
    path = _qdpx(tmp_path / "p.qdpx")
    script = f"""
import os, signal
from qualcode.ingest import writer
from qualcode.exchange import import_qdpx
from qualcode.project import Project
real, seen = writer.write_in, []
def write_in(*args, **kwargs):
    seen.append(1)
    if len(seen) == 3:  # the third document: the process dies as under kill -9
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
writer.write_in = write_in
import_qdpx(Project({str(project.root)!r}), {str(path)!r})
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == -9, out.stderr
    fresh = Project(project.root)
    assert n_documents(fresh) == 0 and fresh.codebook_path == project.codebook_path
    report = import_qdpx(fresh, path)  # and it can simply be run again
    assert report.counts["documents"] == 5 and report.counts["codings"] == 5
    fresh.close()


def test_11_control_characters_from_a_qdpx_are_cleaned_and_offsets_stay_right(project, runner, tmp_path):
    path = _qdpx(tmp_path / "nul.qdpx", 1)
    qde = zipfile.ZipFile(path).read("project.qde").decode()
    qde = qde.replace("<PlainTextContent>受访者：我们社区有党员。\n访谈员：好。</PlainTextContent>", "")
    qde = qde.replace('name="访谈0"', 'name="访谈0" plainTextPath="internal://a.txt"')
    # a text file with a NUL and a BEL, as some exports hold them: positions count them
    path = make_zip(tmp_path / "nul2.qdpx", {"project.qde": qde,
                                             "sources/a.txt": "受访者：\x00我们社区\x07有党员。\n访谈员：好。"})
    import_qdpx(project, path)
    text = queries.passages(project.store)[0]["text"]
    assert text == "受访者：我们社区有党员。"
    with project.store.read() as conn:
        stored = conn.execute(select(t.documents.c.text)).scalar_one()
    assert "\x00" not in stored and "\x07" not in stored
    coded = queries.codings(project.store)[0]["text"]
    assert coded == "我们社"  # the selection [4, 8) of the original text ("\x00我们社"), the NUL taken out
    assert qc(runner, project, "export", "codings", "--format", "xlsx", "-o", tmp_path / "c.xlsx").exit_code == 0
    assert qc(runner, project, "sheet", "export", "-o", tmp_path / "s.xlsx").exit_code == 0


def test_17_reversed_and_empty_selections_are_skipped_with_a_warning(project, tmp_path):
    path = _qdpx(tmp_path / "p.qdpx", 1)
    data = zipfile.ZipFile(path).read("project.qde").decode()
    data = data.replace('startPosition="4" endPosition="8"', 'startPosition="8" endPosition="4"')
    data = data.replace("</TextSource>", '<PlainTextSelection guid="14141414-0000-4000-8000-000000000099" '
                        'startPosition="0" endPosition="0"><Coding guid="15151515-0000-4000-8000-000000000002">'
                        '<CodeRef targetGUID="12121212-0000-4000-8000-000000000001"/></Coding></PlainTextSelection>'
                        "</TextSource>")
    report = import_qdpx(project, make_zip(tmp_path / "r.qdpx", {"project.qde": data}))
    assert report.counts["codings"] == 0
    assert sum("start 8 after its end 4" in w for w in report.warnings) == 1
    assert sum("equal to its end 0" in w for w in report.warnings) == 1


def test_15_deeply_nested_codes_in_a_qdpx_are_a_clean_refusal(project, tmp_path):
    nested = "".join(f'<Code guid="12121212-0000-4000-8000-{i:012d}" name="c{i}" isCodable="true">' for i in range(250))
    nested += "</Code>" * 250
    qde = f'<?xml version="1.0" encoding="utf-8"?><Project {NS} name="p"><CodeBook><Codes>{nested}</Codes></CodeBook></Project>'
    with pytest.raises(ExchangeError, match="nested more than"):
        import_qdpx(project, make_zip(tmp_path / "deep.qdpx", {"project.qde": qde}))


# -- 12: escaping everywhere: one payload list, every output format --------------------------------------
HTML_PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[点我](javascript:alert(1))",
                 "\\input{/etc/passwd}", "=HYPERLINK(\"http://x\")"]


def test_12_the_same_payloads_are_inert_in_every_output_format(project, runner, tmp_path):
    text = "".join(f"受访者：社区党员 {p}\n" for p in HTML_PAYLOADS)
    import_paths(project, [write_text(tmp_path / "in" / "载荷.txt", text)], ImportOptions(case="<b>案例</b>"))
    for seq in range(1, len(HTML_PAYLOADS) + 1):
        assert qc(runner, project, "code", "add", f"1:{seq}", "governance").exit_code == 0
    out = tmp_path / "report"
    result = qc(runner, project, "report", "all", "-o", out, "--no-plots")
    assert result.exit_code == 0, result.output
    md = (out / "report.md").read_text(encoding="utf-8")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in md and "<script>" not in md and "<img" not in md and "<b>" not in md
    assert not re.search(r"(?<!\\)\]\(javascript:", md)  # no link can form
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>案例" not in html
    latex = "".join(p.read_text(encoding="utf-8") for p in (out / "latex").glob("*.tex"))
    assert "\\input{/etc" not in latex
    for csv_file in (out / "csv").glob("*.csv"):
        for line in csv_file.read_text(encoding="utf-8-sig").splitlines():
            for cell in line.split(","):
                assert not cell.startswith(("=", "+", "@")), (csv_file.name, cell)
    from openpyxl import load_workbook

    wb = load_workbook(out / "report.xlsx")
    assert all(c.data_type != "f" for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    from docx import Document

    body = "\n".join(c.text for tbl in Document(str(out / "report.docx")).tables for row in tbl.rows for c in row.cells)
    assert "<script>alert(1)</script>" in body  # docx holds text, not markup: shown as written


# -- 15: parsers: codebooks, manifests -------------------------------------------------------------------
CODEBOOK_HEAD = "format: 1\nname: x\ncodes:\n"


@pytest.mark.parametrize("body, expected", [
    ("  - &a\n    id: a\n    label: {zh: 甲}\n    children: [*a]\n", "refers to itself"),
    ("  - id: a\n    label: {zh: 甲}\n    rules:\n      - any: [社区]\n        min_hits: " + "9" * 5000 + "\n",
     "cannot read this value"),
    ('  - id: a\n    label: {zh: 甲}\n    rules:\n      - any: ["\\ud800社区"]\n', "unpaired UTF-16 surrogate"),
    ("  " + "[" * 20000 + "]" * 20000 + "\n", "nested too deeply"),
])
def test_15_hostile_codebooks_are_one_problem_each(project, runner, tmp_path, body, expected):
    path = write_text(tmp_path / "bad.yaml", CODEBOOK_HEAD + body)
    result = qc(runner, project, "codebook", "validate", path)
    assert result.exit_code == 1 and expected in result.output and "internal error" not in result.output


def test_15_manifest_with_a_huge_cell_is_refused_with_the_line(project, runner, tmp_path):
    manifest = write_text(tmp_path / "m.csv", "file,case,note\na.txt,H街道," + "长" * 140_000 + "\n")
    write_text(tmp_path / "a.txt", TRANSCRIPT)
    message = one_line_error(qc(runner, project, "import", "--manifest", manifest, tmp_path / "a.txt"))
    assert "line 2: a cell is longer than 100,000 characters" in message


def test_15_bare_cr_manifests_are_read(tmp_path):
    from qualcode.ingest.manifest import load_manifest

    path = tmp_path / "m.csv"
    path.write_bytes("file,case\ra.txt,H街道\rb.txt,N街道\r".encode())
    assert [(r.file, r.case) for r in load_manifest(path).rows] == [("a.txt", "H街道"), ("b.txt", "N街道")]


def test_15_an_unterminated_quote_does_not_swallow_rows(tmp_path):
    from qualcode.errors import ConfigError
    from qualcode.ingest.manifest import load_manifest

    path = write_text(tmp_path / "m.csv", 'file,case\na.txt,"H街道\nb.txt,N街道\nc.txt,S街道\n')
    with pytest.raises(ConfigError):
        load_manifest(path)


# -- 17: settings, ids, read-only projects ------------------------------------------------------------------
@pytest.mark.parametrize("content", [b"\xff\xfe\x00binary", b'[project]\ndb = 42\n', b'[project]\ncodebook = 7\n',
                                     "\ufeff[project]\nname = \"x\"\ndb = 42\n".encode(), b"project = 3\n"])
def test_17_malformed_settings_are_one_line(project, runner, content):
    (project.root / "qualcode.toml").write_bytes(content)
    message = one_line_error(qc(runner, project, "docs", "list"))
    assert "qualcode.toml" in message


def test_17_a_bom_in_valid_settings_is_accepted(project, runner):
    config = project.root / "qualcode.toml"
    config.write_bytes(b"\xef\xbb\xbf" + config.read_bytes())
    assert qc(runner, project, "docs", "list").exit_code == 0


@pytest.mark.parametrize("args", [["docs", "show", "99999999999999999999"], ["code", "remove", "99999999999999999999"],
                                  ["accept", "99999999999999999999"], ["reject", "99999999999999999999"],
                                  ["undo", "99999999999999999999"], ["docs", "show", "9" * 5000],
                                  ["memo", "add", "coding", "99999999999999999999", "x"]])
def test_17_ids_above_2_63_are_one_line(coded, runner, args):
    one_line_error(qc(runner, coded, *args))


def _read_only(root: Path):
    """Make ``root`` read-only the way a user meets it: a read-only mount (as root, where file
    permissions do not bind) or permissions (otherwise); None when neither is possible."""
    if os.geteuid() != 0:
        for p in [root, *root.rglob("*")]:
            p.chmod(0o555 if p.is_dir() else 0o444)
        return lambda: [p.chmod(0o755 if p.is_dir() else 0o644) for p in [root, *root.rglob("*")]]
    mount = root.parent / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True).returncode:
        return None
    subprocess.run(["cp", "-a", str(root), str(mount / root.name)], check=True)
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    return mount / root.name


def test_17_a_read_only_project_still_answers_read_commands(coded, runner):
    import gc

    coded.close()
    gc.collect()  # the connections of the commands run in this process: their close checkpoints the WAL
    con = sqlite3.connect(coded.root / "qualcode.db")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")  # a project closed cleanly: no -wal/-shm beside it
    con.close()
    target = _read_only(coded.root)
    if target is None:
        pytest.skip("cannot make a read-only folder here")
    root = target if isinstance(target, Path) else coded.root
    try:
        listing = runner.invoke(cli, ["--project", str(root), "docs", "list"])
        assert listing.exit_code == 0 and "访谈" in listing.output, listing.output
        assert runner.invoke(cli, ["--project", str(root), "export", "codings", "-o", "-"]).exit_code == 0
        message = one_line_error(runner.invoke(cli, ["--project", str(root), "code", "add", "1:4", "governance"]))
        assert "read-only" in message
    finally:
        if isinstance(target, Path):
            import gc

            gc.collect()  # close the connections of the commands run in this process
            subprocess.run(["umount", "-l", str(target.parent)], check=False)
        elif target is not None:
            target()


def test_17_a_file_imported_meanwhile_by_another_import_is_unchanged_not_changed(project, tmp_path):
    """Two imports of one folder at once: both read the known hashes before either wrote; the
    second to write finds the same bytes already there."""
    from qualcode.ingest import writer
    from qualcode.ingest.pipeline import file_hash, prepare

    path = write_text(tmp_path / "in" / "访谈.txt", TRANSCRIPT)
    prepared = prepare(path, ImportOptions(), project.segmenter(), file_hash(path))
    assert writer.write(project, prepared).status == "imported"  # the other process
    result = writer.write(project, prepared)  # this one, prepared before the other committed
    assert result.status == "unchanged" and result.document == "访谈"
