"""Export → validate against the REFI-QDA schemas → import into a fresh project → same project."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from qualcode.cli import cli
from qualcode.exchange import export_qdc, export_qdpx, import_qdc, import_qdpx
from qualcode.ingest.manifest import load_manifest
from qualcode.ingest.pipeline import ImportOptions, import_paths
from qualcode.project import Project
from tests.exchange.helpers import add_coding, add_memo, doc_id, qde_of, snapshot
from tests.helpers import write_text

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"
CORPUS_FILES = [  # one per street and per kind of source: docx, srt, vtt, Big5 text
    "N街道/N街道-D社区-社区党组织书记A.docx",
    "S街道/S街道-P小区-业委会委员E.srt",
    "L街道/L街道-T社区-网格员B.vtt",
    "H街道/H街道-R小区-楼组长C-big5.txt",
]

ASTRAL = (
    "访谈主题：互助站 访谈地点：社区办公室\n"
    "问：您好，请您介绍一下互助站是怎么成立的？\n"
    "答：我们互助站是二〇一九年成立的😀。站长姓𠮷，是退休的老党员👍🏽，大家推选出来的。\n"
    "问：居民有事一般找谁？\n"
    "答：有事找𠮷站长，站长解决不了就报给网格党支部。\n"
)


@pytest.fixture
def fresh(tmp_path):
    projects = []

    def make(name: str = "copy") -> Project:
        p = Project.init(tmp_path / name)
        projects.append(p)
        return p

    yield make
    for p in projects:
        p.close()


@pytest.fixture
def astral_project(project, tmp_path) -> Project:
    """A small project with non-BMP text, codings by two coders, a code outside the codebook and memos."""
    f = write_text(tmp_path / "src" / "𠮷站长访谈.txt", ASTRAL)
    g = write_text(tmp_path / "src" / "second.txt", "问：您好？\n答：我们😀都挺好。\n")
    report = import_paths(project, [f], ImportOptions(case="N街道", attributes={"受访人": "站长𠮷", "年份": "2023"}))
    assert report.ok
    import_paths(project, [g], ImportOptions(case="S街道"))
    name = "𠮷站长访谈"
    text = snapshot(project)["docs"][name]["text"]
    s = text.index("站长姓𠮷")
    first = add_coding(project, name, s, s + len("站长姓𠮷，是退休的老党员👍🏽"), "embedding/retirees")
    add_coding(project, name, s, s + len("站长姓𠮷，是退休的老党员👍🏽"), "embedding/retirees", coder="李老师")
    s2 = text.index("有事找𠮷站长")
    add_coding(project, name, s2, s2 + len("有事找𠮷站长"), "emergent/find_head", coder="李老师")
    add_coding(project, name, 0, len(text), "context")  # a whole-document coding
    add_coding(project, name, s2, s2 + 3, "governance/rules", status="rejected")  # never exported
    did = doc_id(project, name)
    add_memo(project, "doc", str(did), "这份访谈里站长姓𠮷 😀")
    add_memo(project, "code", "embedding/retirees", "退休党员：注意“发挥余热”的说法", coder="李老师")
    add_memo(project, "passage", f"{did}:2", "问句不编码")
    add_memo(project, "coding", str(first), "典型例句")
    return project


def test_export_validates_and_round_trips_non_bmp_text(astral_project, fresh, tmp_path, xsd):
    out = tmp_path / "study.qdpx"
    report = export_qdpx(astral_project, out)
    xsd("project", qde_of(out))
    assert report.counts["codings"] == 4  # accepted only: the rejected coding stays home
    assert report.counts["memos"] == 4

    # Positions are code points over the exact text in sources/: 𠮷 and emoji count as one.
    from lxml import etree

    ns = {"q": "urn:QDA-XML:project:1.0"}
    root = etree.fromstring(qde_of(out))
    src = root.find(".//q:TextSource[@name='𠮷站长访谈']", ns)
    with zipfile.ZipFile(out) as zf:
        exported = zf.read("sources/" + src.get("plainTextPath").split("//")[1]).decode("utf-8")
    spans = {exported[int(s.get("startPosition")):int(s.get("endPosition"))]
             for s in src.findall("q:PlainTextSelection", ns)}
    assert "站长姓𠮷，是退休的老党员👍🏽" in spans
    assert "有事找𠮷站长" in spans
    assert "答：我们互助站是二〇一九年成立的😀。" in exported  # speaker labels are in the text

    copy = fresh()
    result = import_qdpx(copy, out)
    assert result.counts["documents"] == 2 and result.counts["codings"] == 4
    before, after = snapshot(astral_project), snapshot(copy)
    # Same documents, texts, cases, attributes, speakers and passages; same codings; same memos.
    assert after["docs"] == before["docs"]
    expected = sorted(c for c in before["codings"] if c[3] != "governance/rules")
    assert after["codings"] == expected
    assert after["memos"] == before["memos"]
    assert after["cases"] == before["cases"]
    # The codebook comes back with hierarchy, labels, definitions, colours; plus the emergent code.
    paths = [c[0] for c in after["codes"]]
    assert [c for c in after["codes"] if c[0] in {p[0] for p in before["codes"]}] == before["codes"]
    assert "emergent/find_head" in paths and paths.index("emergent") < paths.index("emergent/find_head")
    assert copy.codebook_path.parent == copy.root / "codebooks"


def test_guids_and_bytes_are_stable_across_exports(astral_project, tmp_path):
    a, b = tmp_path / "a.qdpx", tmp_path / "b.qdpx"
    export_qdpx(astral_project, a)
    reopened = Project(astral_project.root)
    export_qdpx(reopened, b)
    reopened.close()
    assert a.read_bytes() == b.read_bytes()
    assert "guid" in astral_project.settings["project"]


def test_qdc_export_validates_and_imports_as_yaml_codebook(project, fresh, tmp_path, xsd):
    out = tmp_path / "codes.qdc"
    assert export_qdc(project, out).counts["codes"] == len(project.codebook().codes)
    xsd("codebook", out.read_bytes())
    assert "组织构建" in out.read_text(encoding="utf-8")

    copy = fresh()
    report = import_qdc(copy, out)
    assert copy.codebook_path == report.codebook_path == copy.root / "codebooks" / "codes.yaml"
    assert snapshot(copy)["codes"] == snapshot(project)["codes"]


def test_corpus_round_trip(project, fresh, tmp_path, xsd):
    from qualcode.autocode.run import autocode

    manifest = load_manifest(CORPUS / "manifest.csv")
    report = import_paths(project, [CORPUS / f for f in CORPUS_FILES], ImportOptions(manifest=manifest))
    assert report.ok and report.count("imported") == len(CORPUS_FILES)
    autocode(project, project.codebook())
    before = snapshot(project)
    assert len(before["codings"]) > 20 and all(d["speakers"] for d in before["docs"].values())

    out = tmp_path / "corpus.qdpx"
    export_qdpx(project, out, include_proposed=True)
    xsd("project", qde_of(out))
    copy = fresh()
    import_qdpx(copy, out)
    after = snapshot(copy)
    assert after["docs"] == before["docs"]  # texts, cases, manifest attributes, speakers with roles, passages
    assert after["codings"] == before["codings"]
    assert after["cases"] == before["cases"]
    assert after["codes"] == before["codes"]
    # Exporting the imported project again gives an equally valid file with the same content.
    again = tmp_path / "again.qdpx"
    export_qdpx(copy, again)
    xsd("project", qde_of(again))


def test_export_validate_option_checks_the_shipped_schema(astral_project, runner, tmp_path):
    out = tmp_path / "checked.qdpx"
    result = runner.invoke(cli, ["--project", str(astral_project.root), "export", "qdpx", str(out), "--validate"])
    assert result.exit_code == 0, result.output
    assert "(valid against the REFI-QDA schema)" in result.output and out.is_file()
    qdc = tmp_path / "checked.qdc"
    result = runner.invoke(cli, ["--project", str(astral_project.root), "export", "qdc", str(qdc), "--validate"])
    assert result.exit_code == 0 and "valid against" in result.output and qdc.is_file()


def test_export_that_breaks_the_schema_is_refused_and_nothing_is_written(astral_project, runner, tmp_path, monkeypatch):
    from qualcode.exchange import qdpx

    real = qdpx.xml_bytes
    monkeypatch.setattr(qdpx, "xml_bytes", lambda root: real(root).replace(b"<Sources", b"<Bogus", 1)
                        .replace(b"</Sources>", b"</Bogus>", 1))
    out = tmp_path / "broken.qdpx"
    result = runner.invoke(cli, ["--project", str(astral_project.root), "export", "qdpx", str(out), "--validate"])
    assert result.exit_code != 0 and not out.exists()
    assert "does not conform to the REFI-QDA project schema" in result.output and "Bogus" in result.output
    assert "Traceback" not in result.output
