"""Hostile and broken files: one-line ExchangeError, nothing written, project as it was."""
from __future__ import annotations

import io
import zipfile

import pytest

from qualcode.cli import cli
from qualcode.exchange import ExchangeError, import_qdc, import_qdpx, safety
from tests.exchange.helpers import make_zip, snapshot

NS = 'xmlns="urn:QDA-XML:project:1.0"'
MINIMAL = f"""<?xml version="1.0" encoding="utf-8"?>
<Project {NS} name="p">
  <CodeBook><Codes><Code guid="12121212-0000-4000-8000-000000000001" name="代码" isCodable="true"/></Codes></CodeBook>
  <Sources><TextSource guid="13131313-0000-4000-8000-000000000001" name="d"><PlainTextContent>你好</PlainTextContent></TextSource></Sources>
</Project>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="p">
  <Sources><TextSource guid="13131313-0000-4000-8000-000000000001" name="d"><PlainTextContent>&xxe;</PlainTextContent></TextSource></Sources>
</Project>"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE CodeBook [
 <!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>
  <Code guid="12121212-0000-4000-8000-000000000001" name="&lol9;" isCodable="true"/></Codes></CodeBook>"""


def _state(project):
    from sqlalchemy import func, select

    from qualcode.store import schema as t

    with project.store.read() as conn:
        counts = {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                  for table in (t.documents, t.passages, t.sentences, t.speakers, t.attributes, t.cases,
                                t.codings, t.memos, t.codes, t.audit_log)}
    codebooks = sorted(p.name for p in (project.root / "codebooks").iterdir())
    return snapshot(project), counts, codebooks, project.codebook_path, (project.root / "qualcode.toml").read_text()


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def hostile_files(tmp_path):
    good = _zip_bytes({"project.qde": MINIMAL.encode()})
    yield "xxe", make_zip(tmp_path / "xxe.qdpx", {"project.qde": XXE}), "DOCTYPE"
    yield "xxe-utf16", make_zip(tmp_path / "xxe16.qdpx", {"project.qde": XXE.replace('"1.0"?>', '"1.0" encoding="utf-16"?>', 1).encode("utf-16")}), "DOCTYPE"
    yield "zip-slip", make_zip(tmp_path / "slip.qdpx", {"project.qde": MINIMAL, "../../evil.txt": "x"}), "unsafe zip entry"
    yield "absolute", make_zip(tmp_path / "abs.qdpx", {"project.qde": MINIMAL, "/etc/evil.txt": "x"}), "unsafe zip entry"
    truncated = tmp_path / "truncated.qdpx"
    truncated.write_bytes(good[: len(good) // 2])
    yield "truncated", truncated, "not a readable .qdpx"
    not_zip = tmp_path / "text.qdpx"
    not_zip.write_text("这不是压缩包", encoding="utf-8")
    yield "not-zip", not_zip, "not a readable .qdpx"
    yield "no-qde", make_zip(tmp_path / "noqde.qdpx", {"sources/a.txt": "x"}), "no project file"
    yield "broken-xml", make_zip(tmp_path / "broken.qdpx", {"project.qde": MINIMAL[:-20]}), "not well-formed"
    yield "wrong-root", make_zip(tmp_path / "root.qdpx", {"project.qde": "<CodeBook/>"}), "not a REFI-QDA project"
    yield "missing", tmp_path / "missing.qdpx", "no such file"


def test_hostile_and_broken_qdpx_leave_the_project_untouched(project, tmp_path):
    before = _state(project)
    for name, path, message in hostile_files(tmp_path):
        with pytest.raises(ExchangeError) as err:
            import_qdpx(project, path)
        assert message in err.value.message, name
        assert "\n" not in err.value.message, name
        assert _state(project) == before, name
    assert not (tmp_path.parent / "evil.txt").exists()


def test_corrupt_member_is_a_clean_error(project, tmp_path):
    data = bytearray(_zip_bytes({"project.qde": MINIMAL.encode() * 50}))
    i = data.index(b"project.qde") + len(b"project.qde") + 20  # inside the compressed data
    data[i:i + 40] = b"\x00" * 40
    path = tmp_path / "corrupt.qdpx"
    path.write_bytes(bytes(data))
    before = _state(project)
    with pytest.raises(ExchangeError, match="cannot read project.qde|not well-formed|not a readable"):
        import_qdpx(project, path)
    assert _state(project) == before


def test_size_limits_do_not_trust_declared_sizes(project, tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "MAX_MEMBER_BYTES", 1000)
    bomb = make_zip(tmp_path / "bomb.qdpx", {"project.qde": MINIMAL.replace("你好", "好" * 100_000)})
    with pytest.raises(ExchangeError, match="limit 1000|expands past"):
        import_qdpx(project, bomb)
    # A member whose header lies about its size: a clean error, never an unbounded read.
    with zipfile.ZipFile(bomb) as zf:
        info = zf.getinfo("project.qde")
    archive = safety.SafeArchive(bomb)
    archive.entries["project.qde"].file_size = 10
    with pytest.raises(ExchangeError, match="expands past|cannot read"):
        archive.read("project.qde")
    archive.close()
    assert info.file_size > 1000


def test_billion_laughs_and_xxe_in_a_codebook(project, tmp_path):
    before = _state(project)
    for text in (LAUGHS, XXE.replace("Project", "CodeBook")):
        path = tmp_path / "evil.qdc"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ExchangeError, match="DOCTYPE"):
            import_qdc(project, path)
    assert _state(project) == before


def test_import_into_a_project_with_documents_is_refused(project, tmp_path):
    from qualcode.ingest.pipeline import ImportOptions, import_paths
    from tests.helpers import QA_TRANSCRIPT, write_text

    import_paths(project, [write_text(tmp_path / "a.txt", QA_TRANSCRIPT)], ImportOptions())
    with pytest.raises(ExchangeError, match="new or empty project"):
        import_qdpx(project, make_zip(tmp_path / "ok.qdpx", {"project.qde": MINIMAL}))


def test_failure_while_writing_removes_what_was_written(project, tmp_path, monkeypatch):
    from qualcode.exchange import qdpx

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(qdpx, "_write_rest", boom)
    before = _state(project)
    with pytest.raises(RuntimeError):
        import_qdpx(project, make_zip(tmp_path / "ok.qdpx", {"project.qde": MINIMAL}))
    assert _state(project) == before


def test_cli_export_import_and_one_line_errors(project, runner, tmp_path):
    from qualcode.ingest.pipeline import ImportOptions, import_paths
    from tests.helpers import QA_TRANSCRIPT, write_text

    import_paths(project, [write_text(tmp_path / "访谈.txt", QA_TRANSCRIPT)], ImportOptions(case="N街道"))
    out = tmp_path / "p.qdpx"
    result = runner.invoke(cli, ["--project", str(project.root), "export", "qdpx", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Wrote 1 documents")
    result = runner.invoke(cli, ["--project", str(project.root), "export", "qdc", str(tmp_path / "c.qdc")])
    assert result.exit_code == 0 and "codes to" in result.output

    from qualcode.project import Project

    other = Project.init(tmp_path / "other")
    result = runner.invoke(cli, ["--project", str(other.root), "import", "qdpx", str(out)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 documents" in result.output and "Codebook: codebooks/p.yaml" in result.output
    result = runner.invoke(cli, ["--project", str(other.root), "import", "qdc", str(tmp_path / "c.qdc")])
    assert result.exit_code == 0 and "codebooks/c.yaml" in result.output

    evil = make_zip(tmp_path / "evil.qdpx", {"project.qde": XXE})
    fresh = Project.init(tmp_path / "fresh")
    result = runner.invoke(cli, ["--project", str(fresh.root), "import", "qdpx", str(evil)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("Error: ") and "DOCTYPE" in lines[0] and len(lines) <= 2
    for p in (other, fresh):
        p.close()


def test_relative_paths_never_leave_the_folder_of_the_qdpx(project, tmp_path):
    (tmp_path / "secret.txt").write_text("机密", encoding="utf-8")
    inner = tmp_path / "inner"
    inner.mkdir()
    qde = MINIMAL.replace('name="d"><PlainTextContent>你好</PlainTextContent></TextSource>',
                          'name="d" plainTextPath="relative:///../secret.txt"/>'
                          '<TextSource guid="13131313-0000-4000-8000-000000000002" name="e"><PlainTextContent>你好</PlainTextContent></TextSource>')
    report = import_qdpx(project, make_zip(inner / "p.qdpx", {"project.qde": qde}))
    assert list(snapshot(project)["docs"]) == ["e"]
    assert any("secret.txt" in w and "skipped" in w for w in report.warnings)
