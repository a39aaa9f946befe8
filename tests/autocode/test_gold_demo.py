"""corpus/gold/tune.csv and heldout.csv, the gold standard on the demo corpus: every row must
point at a passage the importer still makes from corpus/ (its start/end, ``DOC:SEQ`` and text),
so that scores count the passages the rows were coded on."""
from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.ingest.manifest import load_manifest
from qualcode.ingest.pipeline import ImportOptions, import_paths
from qualcode.project import Project
from tests.autocode.helpers import stale_gold_rows

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """corpus/ imported with its manifest, as ``qualcode run`` imports it."""
    project = Project.init(tmp_path_factory.mktemp("demo") / "p")
    report = import_paths(project, [CORPUS], ImportOptions(manifest=load_manifest(CORPUS / "manifest.csv")))
    assert report.ok, report.summary()
    yield project
    project.close()


@pytest.mark.parametrize("split", ["tune", "heldout"])
def test_every_gold_row_is_a_passage_the_importer_makes(demo, runner, split):
    stale = stale_gold_rows(runner, demo, CORPUS / "gold" / f"{split}.csv")
    assert not stale, f"{len(stale)} gold rows no longer match the imported passages: " + "; ".join(stale[:5])
