"""Import through the CLI and the library: summaries, idempotence, replace, junk, atomicity."""
from __future__ import annotations

import csv
import json
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from sqlalchemy import insert

from qualcode.cli import cli
from qualcode.ingest import pipeline
from qualcode.project import Project
from qualcode.store import schema as t
from tests.helpers import QA_TRANSCRIPT, write_text


def run(runner, project, *args):
    return runner.invoke(cli, ["--project", str(project.root), *args], catch_exceptions=False)


def db(project):
    return sqlite3.connect(project.root / "qualcode.db")


def test_import_reports_and_stores_a_transcript(runner, project, tmp_path):
    f = write_text(tmp_path / "N街道-社区党组织书记A.txt", QA_TRANSCRIPT)
    result = run(runner, project, "import", str(f), "--case", "N街道", "--attr", "时间=2018-11")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "1 imported, 0 unchanged, 0 skipped, 0 failed"
    doc = json.loads(run(runner, project, "docs", "show", "N街道-社区党组织书记A", "--format", "json").output)
    assert doc["case"] == "N街道"
    assert doc["attributes"]["时间"] == "2018-11"
    assert doc["attributes"]["访谈地点"] == "社区办公室"
    roles = {p["role"] for p in doc["passages"]}
    assert roles == {"interviewer", "interviewee"}
    assert [p["text"] for p in doc["passages"]][1].startswith("我们互助站是二〇一九年成立的")
    text = db(project).execute("select text from documents").fetchone()[0]
    for p in doc["passages"]:
        assert text[p["start"] : p["end"]] == p["text"]
        assert "".join(text[s:e] for s, e in p["sentences"]) == p["text"]


def test_reimport_changes_nothing_and_says_so(runner, project, tmp_path):
    f = write_text(tmp_path / "a.txt", QA_TRANSCRIPT)
    run(runner, project, "import", str(f))
    again = run(runner, project, "import", str(f))
    assert again.exit_code == 0
    assert "unchanged: already imported as a" in again.output
    assert again.output.splitlines()[-1] == "0 imported, 1 unchanged, 0 skipped, 0 failed"
    assert db(project).execute("select count(*) from documents").fetchone()[0] == 1
    assert db(project).execute("select count(*) from passages").fetchone()[0] == 4


def _add_coding(project, start, end, code="embedding/retirees"):
    with project.store.transaction() as conn:
        conn.execute(insert(t.codings).values(
            document_id=1, start=start, end=end, code=code, coder="李老师", origin="manual",
            status="accepted", created_at="2026-01-01", updated_at="2026-01-01"))


def test_changed_file_needs_replace_and_codings_follow_their_text(runner, project, tmp_path):
    f = write_text(tmp_path / "a.txt", QA_TRANSCRIPT)
    run(runner, project, "import", str(f))
    text = db(project).execute("select text from documents").fetchone()[0]
    start = text.index("退休的老党员")
    _add_coding(project, start, start + len("退休的老党员"))
    gone = text.index("有事找站长")
    _add_coding(project, gone, gone + len("有事找站长"), code="governance/responsiveness")

    edited = QA_TRANSCRIPT.replace("问：您好", "问：（补录）您好").replace("有事找站长", "有事找居委会")
    write_text(f, edited)
    changed = run(runner, project, "import", str(f))
    assert changed.exit_code == 0
    assert "changed since it was imported as a; re-run with --replace" in changed.output
    assert db(project).execute("select count(*) from codings").fetchone()[0] == 2

    replaced = run(runner, project, "import", str(f), "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert "1 codings kept (1 moved to the new position of their text)" in replaced.output
    assert "1 codings whose text is gone were removed and saved to" in replaced.output
    con = db(project)
    new_text = con.execute("select text from documents").fetchone()[0]
    s, e, pid = con.execute("select start, end, passage_id from codings").fetchone()
    assert new_text[s:e] == "退休的老党员" and s != start
    assert con.execute("select seq from passages where id=?", (pid,)).fetchone()[0] == 2
    saved = list((project.root / "outputs").glob("orphaned-codings-1-*.csv"))
    rows = list(csv.DictReader(open(saved[0], encoding="utf-8-sig")))
    assert rows[0]["text"] == "有事找站长" and rows[0]["code"] == "governance/responsiveness"


def test_junk_in_a_folder_is_skipped_one_line_each(runner, project, tmp_path):
    folder = tmp_path / "fieldwork"
    write_text(folder / "good.txt", QA_TRANSCRIPT)
    write_text(folder / "empty.txt", "")
    write_text(folder / "~$lock.docx", "x")
    write_text(folder / "notzip.docx", "this is not a zip")
    (folder / "paper.pdf").write_bytes(b"%PDF-1.4 binary")
    result = run(runner, project, "import", str(folder))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "1 imported, 0 unchanged, 4 skipped, 0 failed"
    skipped = [line for line in result.output.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == 4
    for name in ("empty.txt", "~$lock.docx", "notzip.docx", "paper.pdf"):
        assert sum(name in line for line in skipped) == 1, name


def test_manifest_sets_case_role_and_date(runner, project, tmp_path):
    folder = tmp_path / "fieldwork"
    write_text(folder / "MVI_6236.txt", QA_TRANSCRIPT)
    manifest = write_text(folder / "manifest.csv", "file,case,role,date,interviewer\nMVI_6236.txt,S街道,网格员C,2019-04-12,访谈者甲\n",
                          encoding="utf-8-sig")
    result = run(runner, project, "import", str(folder / "MVI_6236.txt"), "--manifest", str(manifest))
    assert result.exit_code == 0, result.output
    doc = json.loads(run(runner, project, "docs", "show", "MVI_6236", "--format", "json").output)
    assert doc["case"] == "S街道"
    assert doc["attributes"]["role"] == "网格员C"
    assert doc["attributes"]["date"] == "2019-04-12"
    assert doc["attributes"]["interviewer"] == "访谈者甲"


def test_gb18030_file_is_detected(runner, project, tmp_path):
    f = write_text(tmp_path / "旧电脑-gbk.txt", QA_TRANSCRIPT, encoding="gb18030")
    run(runner, project, "import", str(f))
    listing = json.loads(run(runner, project, "docs", "list", "--format", "json").output)
    assert listing[0]["encoding"] == "gb18030"
    assert listing[0]["passages"] == 4


def test_a_failure_mid_document_leaves_nothing_behind(runner, project, tmp_path, monkeypatch):
    from qualcode.ingest import writer

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "_relocate_codings", broken)
    f = write_text(tmp_path / "a.txt", QA_TRANSCRIPT)
    run(runner, project, "import", str(f))
    write_text(f, QA_TRANSCRIPT + "问：还有吗？\n")
    with pytest.raises(RuntimeError):
        pipeline.import_paths(project, [f], pipeline.ImportOptions(replace=True))
    con = db(project)
    assert con.execute("select count(*) from passages").fetchone()[0] == 4
    assert "还有吗" not in con.execute("select text from documents").fetchone()[0]


def test_killed_import_leaves_a_consistent_project(project, tmp_path):
    folder = tmp_path / "many"
    for i in range(200):  # many batches (pipeline.BATCH_DOCUMENTS): the kill lands mid-import
        write_text(folder / f"访谈{i:02d}.txt", QA_TRANSCRIPT.replace("二〇一九", f"{2000 + i}") * 20)
    proc = subprocess.Popen(
        [sys.executable, "-m", "qualcode.cli", "--project", str(project.root), "import", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if db(project).execute("select count(*) from documents").fetchone()[0] >= 2:
                break
        except sqlite3.OperationalError:
            pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    con = db(project)
    docs = con.execute("select id, length(text) from documents").fetchall()
    assert 2 <= len(docs) < 200
    for doc_id, n in docs:
        n_passages, last_end = con.execute(
            "select count(*), max(end) from passages where document_id=?", (doc_id,)).fetchone()
        assert n_passages == 80 and last_end == n


def test_an_import_killed_inside_a_batch_keeps_the_committed_documents_whole(project, tmp_path):
    folder = tmp_path / "many"
    for i in range(60):
        write_text(folder / f"访谈{i:02d}.txt", QA_TRANSCRIPT.replace("二〇一九", f"{2000 + i}") * 20)
    script = f"""
import os, signal
from qualcode.ingest import pipeline, writer
from qualcode.project import Project
real, seen = writer.write_in, []
def write_in(*args, **kwargs):
    seen.append(1)
    if len(seen) == 50:  # the process dies as under kill -9 while writing the 50th document
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
writer.write_in = write_in
pipeline.import_paths(Project({str(project.root)!r}), [{str(folder)!r}], pipeline.ImportOptions())
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert out.returncode == -9, out.stderr
    con = db(project)
    docs = con.execute("select id, length(text) from documents").fetchall()
    assert 0 < len(docs) < 50  # the batches before the kill are committed, the open one is not
    for doc_id, n in docs:
        n_passages, last_end = con.execute(
            "select count(*), max(end) from passages where document_id=?", (doc_id,)).fetchone()
        assert n_passages == 80 and last_end == n
    con.close()
    fresh = Project(project.root)  # and the import can simply be run again
    report = pipeline.import_paths(fresh, [folder], pipeline.ImportOptions())
    assert [r.status for r in report.results].count("imported") == 60 - len(docs)
    fresh.close()


def test_a_document_that_fails_to_write_is_rolled_back_alone(project, tmp_path, monkeypatch):
    from qualcode.errors import QualcodeError
    from qualcode.ingest import writer

    folder = tmp_path / "three"
    for i in range(3):
        write_text(folder / f"d{i}.txt", QA_TRANSCRIPT.replace("二〇一九", f"{2000 + i}"))
    real = writer.write_in

    def fails_after_writing(conn, project, prepared, replace=False, **kwargs):
        result = real(conn, project, prepared, replace, **kwargs)
        if prepared.file_name == "d1.txt":  # written, then refused: its savepoint is rolled back
            raise QualcodeError("d1.txt: refused")
        return result

    monkeypatch.setattr(writer, "write_in", fails_after_writing)
    report = pipeline.import_paths(project, [folder], pipeline.ImportOptions())
    assert [(r.status, r.message) for r in report.results if r.status != "imported"] == [("failed", "d1.txt: refused")]
    con = db(project)
    assert sorted(n for (n,) in con.execute("select file_name from documents")) == ["d0.txt", "d2.txt"]
    assert con.execute("select count(*) from passages").fetchone()[0] == 8


def test_parallel_import_gives_the_same_passages(tmp_path):
    folder = tmp_path / "f"
    for i in range(4):
        write_text(folder / f"d{i}.txt", QA_TRANSCRIPT.replace("二〇一九", str(2010 + i)))
    results = []
    for jobs in (1, 2):
        p = Project.init(tmp_path / f"p{jobs}")
        pipeline.import_paths(p, [folder], pipeline.ImportOptions(), jobs=jobs)
        con = sqlite3.connect(p.root / "qualcode.db")
        results.append(con.execute(
            "select d.name, p.seq, p.start, p.end, p.tokens from passages p join documents d on d.id=p.document_id"
            " order by 1,2"
        ).fetchall())
        p.close()
    assert results[0] == results[1] and len(results[0]) == 16


def test_export_passages_csv_has_the_documented_columns(runner, project, tmp_path):
    f = write_text(tmp_path / "a.txt", QA_TRANSCRIPT)
    run(runner, project, "import", str(f), "--case", "N街道")
    out = tmp_path / "passages.csv"
    result = run(runner, project, "export", "passages", "--format", "csv", "--output", str(out))
    assert result.output == f"Wrote 4 passages to {out}\n"
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(open(out, encoding="utf-8-sig")))
    assert list(rows[0].keys()) == ["passage", "document", "case", "speaker", "role", "start", "end", "text"]
    assert rows[0]["passage"] == "1:1" and rows[0]["case"] == "N街道" and rows[0]["role"] == "interviewer"


def test_export_passages_xlsx(runner, project, tmp_path):
    from openpyxl import load_workbook

    f = write_text(tmp_path / "a.txt", QA_TRANSCRIPT)
    run(runner, project, "import", str(f))
    out = tmp_path / "p.xlsx"
    run(runner, project, "export", "passages", "--format", "xlsx", "--output", str(out))
    ws = load_workbook(out).active
    assert [c.value for c in ws[1]] == ["passage", "document", "case", "speaker", "role", "start", "end", "text"]
    assert ws.max_row == 5 and ws.freeze_panes == "A2"


def test_set_role_per_document(runner, project, tmp_path):
    f = write_text(tmp_path / "a.txt", QA_TRANSCRIPT)
    run(runner, project, "import", str(f))
    speaker = json.loads(run(runner, project, "docs", "show", "1", "--format", "json").output)["speakers"][0]["label"]
    result = run(runner, project, "docs", "set-role", "a", speaker, "受访者")
    assert result.output == f"{speaker} is now interviewee (2 passages)\n"


def test_folder_walk_leaves_out_the_project_and_unlisted_files(runner, project, tmp_path):
    folder = tmp_path / "fieldwork"
    write_text(folder / "S街道" / "访谈1.txt", QA_TRANSCRIPT)
    write_text(folder / "README.md", "# 说明\n这些是访谈记录。\n")
    manifest = write_text(folder / "manifest.csv", "file,case\nS街道/访谈1.txt,S街道\n", encoding="utf-8-sig")
    result = run(runner, project, "import", str(folder), "--manifest", str(manifest))
    assert result.output.splitlines()[-1] == "1 imported, 0 unchanged, 1 skipped, 0 failed"
    assert f"skipped: {folder / 'README.md'}: not listed in the manifest" in result.output
    # importing a folder that contains the project itself never imports the project's files
    inner = Project.init(folder / "study")
    result = runner.invoke(cli, ["--project", str(inner.root), "import", str(folder), "--case-from-folder"])
    assert "dictionary" not in result.output and "qualcode.toml" not in result.output
    assert result.output.splitlines()[-1] == "2 imported, 0 unchanged, 1 skipped, 0 failed"
    inner.close()


def test_mis_decoded_passages_are_named_in_the_warnings(runner, project, tmp_path):
    garbled = "我们这个互助站是前年成立的，主要服务老人。".encode().decode("gbk", errors="ignore")
    f = write_text(tmp_path / "a.txt", f"问：您好。\n答：{garbled}\n答：好的。\n")
    run(runner, project, "import", str(f))
    listing = json.loads(run(runner, project, "docs", "list", "--format", "json").output)
    assert listing[0]["warnings"] == 1
    shown = run(runner, project, "docs", "show", "a").output
    assert "warning: passage 1:2 looks mis-decoded (" in shown


def test_byte_identical_files_in_one_run_are_imported_once(runner, project, tmp_path):
    from tests.helpers import QA_TRANSCRIPT, write_text

    first = write_text(tmp_path / "in" / "a-互助站.txt", QA_TRANSCRIPT)
    write_text(tmp_path / "in" / "b-互助站副本.txt", QA_TRANSCRIPT)
    result = runner.invoke(cli, ["--project", str(project.root), "import", str(first.parent)])
    assert result.exit_code == 0, result.output
    assert "b-互助站副本.txt: duplicate of" in result.output and "a-互助站.txt" in result.output
    assert result.output.splitlines()[-1].startswith("1 imported, 0 unchanged, 1 skipped")
    assert sqlite3.connect(project.root / "qualcode.db").execute("select count(*) from documents").fetchone() == (1,)


def test_reimport_with_replace_applies_the_new_case_and_attributes_to_an_unchanged_file(runner, project, tmp_path):
    from qualcode.annotate.audit import audit_log, undo

    def sets():
        return [e["summary"] for e in audit_log(project) if e["action"] == "docs-set"]

    f = write_text(tmp_path / "a.txt", QA_TRANSCRIPT)
    assert run(runner, project, "import", str(f), "--case", "A", "--attr", "wave=1").exit_code == 0

    def show():
        return json.loads(run(runner, project, "docs", "show", "a", "--format", "json").output)

    plain = run(runner, project, "import", str(f), "--case", "B", "--attr", "wave=2")
    assert plain.exit_code == 0 and "unchanged: already imported as a" in plain.output
    assert "updated metadata" not in plain.output
    assert (show()["case"], show()["attributes"]["wave"]) == ("A", "1")
    assert sets() == []

    replaced = run(runner, project, "import", str(f), "--case", "B", "--attr", "wave=2", "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert "updated metadata: a (case: A → B; attribute wave: 1 → 2)" in replaced.output
    assert replaced.output.splitlines()[-1] == "0 imported, 1 unchanged, 0 skipped, 0 failed"
    doc = show()
    assert (doc["case"], doc["attributes"]["wave"]) == ("B", "2")
    assert doc["attributes"]["访谈地点"] == "社区办公室"  # read from the file, kept
    assert sets() == ["a: case: A → B; attribute wave: 1 → 2"]

    again = run(runner, project, "import", str(f), "--case", "B", "--replace")
    assert "updated metadata" not in again.output  # already so: no event
    assert len(sets()) == 1
    assert audit_log(project, limit=1)[0]["action"] == "docs-set"
    undo(project, 1)
    assert (show()["case"], show()["attributes"]["wave"]) == ("A", "1")
