"""``report chain``: statuses weighed per interview, where each case's chain breaks, quotes,
the figure, and the bundled corpus (each street breaks where corpus/README.md says)."""
from __future__ import annotations

import csv
import io
import re
import warnings

import pytest
from sqlalchemy import insert

from qualcode import annotate
from qualcode.cli import cli
from qualcode.reports import Selection, chain, chain_summary, load
from qualcode.reports.chain import STATUSES
from qualcode.store import schema as t


def absent_coding(project, doc_id: int, seq: int, code: str) -> None:
    """A manual coding marked absent on a whole passage of the small project."""
    with project.store.transaction() as conn:
        pid, start, end = conn.execute(
            t.passages.select().with_only_columns(t.passages.c.id, t.passages.c.start, t.passages.c.end)
            .where(t.passages.c.document_id == doc_id, t.passages.c.seq == seq)).one()
        conn.execute(insert(t.codings).values(
            document_id=doc_id, passage_id=pid, start=start, end=end, code=code, coder="李老师", origin="manual",
            status="accepted", unit="passage", absent=1, created_at="2026-01-02", updated_at="2026-01-02"))


def cell(df, case, link, column):
    return df.loc[(df["case"] == case) & (df["link"] == link), column].item()


def test_statuses_are_weighed_per_interview_and_the_break_found(small):
    # 站长B (doc 2) says twice that the leadership is missing, once that it is there: the
    # interview denies embedding; 书记A (doc 1) supports it; one against one is absent
    absent_coding(small, 2, 1, "embedding/leadership")
    absent_coding(small, 2, 2, "embedding/leadership")
    df = chain(load(small))
    assert set(df["status"]) <= set(STATUSES)
    assert df.loc[df["case"] == "东街道", "link"].tolist()[:4] == [
        "construction", "construction/hub", "construction/network", "embedding"]
    assert (cell(df, "东街道", "construction", "status"), cell(df, "东街道", "construction", "interviews")) == (
        "present", 2)
    assert cell(df, "东街道", "construction", "roles") == "互助站站长B、社区党组织书记A"
    e = df[(df["case"] == "东街道") & (df["link"] == "embedding")].iloc[0]
    assert (e.status, e.interviews, e.roles, e.present_interviews, e.absent_interviews) == (
        "absent", 1, "互助站站长B", 1, 1)
    assert (e.present_codings, e.absent_codings) == (2, 2)
    assert e.quote_by == "互助站站长B" and e.quote.startswith("答：")  # evidence of the absence, with its interviewee
    assert cell(df, "东街道", "construction/hub", "status") == "not discussed"
    assert cell(df, "东街道", "governance/legitimacy", "status") == "not discussed"  # only a proposal
    assert cell(df, "东街道", "governance", "status") == "present"
    # 东街道 breaks at embedding (absent), 西街道 at embedding too (never discussed)
    assert df.attrs["breaks"] == {"东街道": "embedding", "西街道": "embedding"}
    assert chain_summary(df) == ["东街道: breaks at embedding 组织嵌入 (absent; embedding/leadership absent)",
                                 "西街道: breaks at embedding 组织嵌入 (not discussed)"]
    # with proposals the legitimacy proposal counts
    assert cell(chain(load(small, Selection(proposed=True))), "东街道", "governance/legitimacy", "status") == "present"


def test_a_stage_with_an_absent_mechanism_is_absent(small):
    # 西街道's only interview denies leadership: embedding is absent there
    absent_coding(small, 3, 1, "embedding/leadership")
    df = chain(load(small))
    west = df[(df["case"] == "西街道") & (df["link"] == "embedding")].iloc[0]
    assert west.status == "absent" and west.interviews == 1 and west.roles == "社区党组织书记A"
    east_gov = df[(df["case"] == "东街道") & (df["link"] == "governance")].iloc[0]
    assert east_gov.status == "present" and east_gov.reason == ""
    absent_coding(small, 2, 2, "governance/rules")  # 站长B: no rules; 书记A's responsiveness still supports
    df = chain(load(small))
    gov = df[(df["case"] == "东街道") & (df["link"] == "governance")].iloc[0]
    assert (gov.status, gov.reason, gov.present_interviews, gov.absent_interviews) == (
        "absent", "governance/rules absent", 1, 1)
    assert gov.quote == "答：我们有议事会。"  # the absent mechanism's evidence, not any other


def test_the_pinned_quote_is_the_links_quote(small):
    df = chain(load(small))
    assert cell(df, "东街道", "construction", "pinned") == 0
    first = cell(df, "东街道", "construction", "quote")
    other = "答：我们有议事会。" if first != "答：我们有议事会。" else "答：我们建了网格党支部。退休党员当楼组长。"
    with small.store.read() as conn:
        target = next(i for i, s, e, d in conn.execute(
            t.codings.select().with_only_columns(t.codings.c.id, t.codings.c.start, t.codings.c.end,
                                                 t.codings.c.document_id)
            .where(t.codings.c.code == "construction/network"))
            if conn.execute(t.documents.select().with_only_columns(t.documents.c.text)
                            .where(t.documents.c.id == d)).scalar_one()[s:e] == other)
    annotate.pin_quote(small, target, note="最典型", coder="李老师")
    df = chain(load(small))
    assert cell(df, "东街道", "construction", "quote") == other
    assert cell(df, "东街道", "construction", "pinned") == 1


def test_report_chain_csv_columns_and_by_attribute(runner, small):
    r = runner.invoke(cli, ["--project", str(small.root), "report", "chain", "--format", "csv"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {"case", "link", "status", "interviews", "roles", "quote"} <= set(rows[0])
    assert {row["link"] for row in rows} >= {"construction", "embedding", "mobilization", "governance",
                                            "governance/legitimacy", "governance/responsiveness"}
    assert {row["status"] for row in rows} <= {"present", "absent", "not discussed"}
    assert r.stderr == ("东街道: the chain holds (every stage present)\n"  # the summary stays out of the CSV
                        "西街道: breaks at embedding 组织嵌入 (not discussed)\n")
    table = runner.invoke(cli, ["--project", str(small.root), "report", "chain", "--by", "date"]).output
    assert "2023-01-01: breaks at" in table


def test_a_mistyped_filter_is_an_error_with_the_nearest_name(runner, small):
    r = runner.invoke(cli, ["--project", str(small.root), "report", "cases", "--case", "东街"])
    assert r.exit_code == 1 and "no case '东街' in this project" in r.output and "did you mean 东街道?" in r.output
    r = runner.invoke(cli, ["--project", str(small.root), "report", "chain", "--role", "书记"])
    assert r.exit_code == 1 and "no role '书记'" in r.output
    r = runner.invoke(cli, ["--project", str(small.root), "report", "frequencies", "--doc", "甲-书记"])
    assert r.exit_code == 1 and "did you mean 甲-书记A?" in r.output
    r = runner.invoke(cli, ["--project", str(small.root), "report", "quotes", "--coder", "李老"])
    assert r.exit_code == 1 and "did you mean 李老师?" in r.output
    r = runner.invoke(cli, ["--project", str(small.root), "report", "quotes", "--code", "networks"])
    assert r.exit_code == 1 and "no code 'networks'" in r.output


def test_chain_figure_is_greyscale_with_chinese_glyphs(small, tmp_path):
    from qualcode.reports.plots import write_chain_plots

    absent_coding(small, 2, 1, "embedding")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph.*missing.*")
        paths = write_chain_plots(chain(load(small)), tmp_path)
    assert sorted(p.name for p in paths) == ["chain_01_东街道.pdf", "chain_01_东街道.png", "chain_01_东街道.svg",
                                             "chain_02_西街道.pdf", "chain_02_西街道.png", "chain_02_西街道.svg"]
    svg = (tmp_path / "chain_01_东街道.svg").read_text(encoding="utf-8")
    colours = set(re.findall(r"(?:fill|stroke)[:=]\s*\"?(#[0-9a-fA-F]{6})", svg))
    assert colours and all(c[1:3] == c[3:5] == c[5:7] for c in colours), colours  # greys only
    assert "////" not in svg and svg.count("<path") > 50  # hatching drawn as paths, text as glyph paths


@pytest.fixture(scope="module")
def corpus_project(tmp_path_factory):
    """The bundled corpus, imported with its manifest and auto-coded with the default codebook."""
    from pathlib import Path

    from qualcode.autocode.run import autocode
    from qualcode.ingest.manifest import load_manifest
    from qualcode.ingest.model import ImportOptions
    from qualcode.ingest.pipeline import import_paths
    from qualcode.project import Project

    corpus = Path(__file__).parents[2] / "corpus"
    project = Project.init(tmp_path_factory.mktemp("corpus") / "p")
    import_paths(project, [corpus], ImportOptions(manifest=load_manifest(corpus / "manifest.csv")))
    autocode(project, project.codebook())
    yield project
    project.close()


def test_each_street_of_the_corpus_breaks_where_it_was_written_to(corpus_project):
    """corpus/README.md: N街道 realises the full chain; S街道 has construction without embedding;
    H街道 embeds through retirees but mobilisation is missing; L街道 mobilises in the crisis but
    has weak routine mechanisms (规则化)."""
    df = chain(load(corpus_project, Selection(proposed=True)))
    assert df.attrs["breaks"] == {"H街道": "mobilization", "L街道": "governance", "N街道": "", "S街道": "embedding"}
    assert cell(df, "H街道", "mobilization", "reason") == "mobilization/horizontal absent"
    assert cell(df, "L街道", "governance", "reason") == "governance/rules absent"
    assert cell(df, "S街道", "construction", "status") == "present"  # built, on paper
    assert (df.loc[df["case"] == "N街道", "status"] != "absent").all()
    quoted = df[df["quote"] != ""]
    assert len(quoted) and (quoted["quote_by"] != "").all()  # every quote names its interviewee, never a file
    assert not quoted["quote_by"].str.contains(r"\.txt|\.docx|MVI_").any()
