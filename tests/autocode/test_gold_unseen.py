"""corpus/gold/unseen.csv, the second gold standard (corpus/unseen/, two streets not in the demo
corpus): every row must point at a passage the importer still makes from that interview, with the
same text, speaker and role, and ``evaluate`` must score it. The demo corpus import must not
pick the unseen interviews up."""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from qualcode.cli import cli
from qualcode.ingest.manifest import load_manifest
from qualcode.ingest.pipeline import ImportOptions, collect, import_paths
from qualcode.project import Project
from tests.autocode.helpers import stale_gold_rows

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
UNSEEN = CORPUS / "unseen"
GOLD = CORPUS / "gold" / "unseen.csv"


def gold_rows() -> list[dict]:
    with open(GOLD, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def unseen(tmp_path_factory):
    """corpus/unseen imported with its own manifest, as the gold file was made."""
    project = Project.init(tmp_path_factory.mktemp("unseen") / "p")
    manifest = load_manifest(UNSEEN / "manifest.csv")
    report = import_paths(project, [UNSEEN], ImportOptions(manifest=manifest))
    assert report.ok and report.count("imported") == len(manifest.rows), report.summary()
    yield project
    project.close()


def test_every_gold_row_is_a_passage_the_importer_makes(unseen, runner):
    stale = stale_gold_rows(runner, unseen, GOLD)
    assert not stale, "gold rows no longer match the imported passages: " + "; ".join(stale[:5])


def test_the_gold_file_codes_only_interviewee_passages_with_codebook_codes(unseen):
    codebook = unseen.codebook()
    rows = gold_rows()
    assert {r["role"] for r in rows} == {"interviewee"}
    assert {(r["coder"], r["origin"], r["status"]) for r in rows} == {("gold", "manual", "accepted")}
    assert [r["code"] for r in rows if r["code"] not in codebook] == []
    pairs = Counter((r["document"], r["start"], r["code"]) for r in rows)
    assert [p for p, n in pairs.items() if n > 1] == []  # one row per (passage, code)
    # every interview of the set is coded, and none of them is in the demo corpus
    names = {Path(r.file).stem for r in load_manifest(UNSEEN / "manifest.csv").rows}
    assert {r["document"] for r in rows} == names
    corpus_names = {Path(r.file).stem for r in load_manifest(CORPUS / "manifest.csv").rows}
    assert names.isdisjoint(corpus_names)


def test_evaluate_scores_the_unseen_gold(unseen, runner):
    result = runner.invoke(cli, ["--project", str(unseen.root), "autocode"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["--project", str(unseen.root), "evaluate", "--gold", str(GOLD),
                                 "--status", "proposed", "--format", "json"])
    assert result.exit_code == 0, result.output
    by = {(r["level"], r["code"]): r for r in json.loads(result.stdout)}
    rows = gold_rows()
    assert by[("micro", "all codes")]["gold"] == len(rows)
    for code, n in Counter(r["code"] for r in rows).items():
        assert by[("code", code)]["gold"] == n


def test_the_demo_corpus_import_leaves_the_unseen_interviews_out():
    manifest = load_manifest(CORPUS / "manifest.csv")
    taken = [path for path, reason, _ in collect([CORPUS], manifest) if reason is None]
    assert len(taken) == len(manifest.rows)
    assert not [p for p in taken if UNSEEN in p.parents]
