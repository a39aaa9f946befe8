"""The benchmark corpus generator (benchmarks/generator.py): valid, distinct, importable files.

No timings here (benchmarks never assert times in tests); ``python benchmarks/run.py --smoke``
is the timed smoke run.
"""
from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

import pytest

from qualcode.ingest.manifest import load_manifest
from qualcode.ingest.pipeline import ImportOptions, import_paths
from qualcode.store import queries

ROOT = Path(__file__).resolve().parent.parent


def _load_generator():
    spec = importlib.util.spec_from_file_location("qualcode_benchmark_generator", ROOT / "benchmarks" / "generator.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen():
    return _load_generator()


@pytest.fixture(scope="module")
def pool(gen):
    return gen.load_pool()


@pytest.fixture(scope="module")
def corpus(gen, pool, tmp_path_factory):
    """One small interview in every style the generator writes."""
    out = tmp_path_factory.mktemp("benchmark") / "corpus"
    index = gen.generate(out, interviews=len(gen.STYLE_NAMES), seed=7, chars=1200, pool=pool)
    return out, index


def test_every_style_once_with_distinct_bytes_and_a_manifest_row(gen, corpus):
    out, index = corpus
    assert sorted(r["style"] for r in index) == sorted(gen.STYLE_NAMES)
    files = [out / r["file"] for r in index]
    assert all(f.is_file() and f.stat().st_size > 0 for f in files)
    digests = {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    assert len(digests) == len(files)  # identical bytes would be skipped by the importer
    assert {r["encoding"] for r in index} >= {"utf-8", "utf-8-sig", "gb18030", "big5", "docx"}
    assert {f.suffix for f in files} == {".txt", ".docx", ".srt", ".vtt", ".md"}
    manifest = load_manifest(out / "manifest.csv")
    assert [row.file for row in manifest.rows] == [r["file"] for r in index]
    assert all(manifest.lookup(f) is not None for f in files)


def test_same_seed_same_bytes_other_seed_other_text(gen, pool, corpus, tmp_path):
    out, index = corpus
    again = gen.generate(tmp_path / "again", interviews=3, seed=7, chars=1200, pool=pool)
    assert [r["sha256"] for r in again] == [r["sha256"] for r in index[:3]]
    other = gen.generate(tmp_path / "other", interviews=3, seed=8, chars=1200, pool=pool)
    assert not {r["sha256"] for r in other} & {r["sha256"] for r in index}


def test_generated_text_is_recombined_not_copied(gen, pool):
    a = gen.make_interview(pool, seed=7, index=0, chars=3000)
    b = gen.make_interview(pool, seed=7, index=1, chars=3000)
    assert a.turns != b.turns
    assert 2000 < sum(len(t) for _, t in a.turns) < 6000
    assert {role for role, _ in a.turns} == {"interviewer", "interviewee"}


def test_the_whole_corpus_imports_in_the_intended_styles(gen, corpus, project):
    out, index = corpus
    report = import_paths(project, [out], ImportOptions(manifest=load_manifest(out / "manifest.csv")))
    assert report.ok, [r.message for r in report.results if r.status != "imported"]
    assert report.count("imported") == len(index)
    docs = {d["name"]: d for d in queries.list_documents(project.store)}
    for row in index:
        doc = docs[Path(row["file"]).stem]
        assert doc["style"] == gen.EXPECTED_STYLE[row["style"]], row["file"]
        assert doc["case"] == row["file"].split("/")[0]
        if row["encoding"] in ("gb18030", "big5", "utf-8-sig"):
            assert doc["encoding"] == row["encoding"], row["file"]
        # the speech survives parsing: labels, timestamps and headers are gone, text is not
        assert 0.8 * int(row["speech_chars"]) < doc["characters"] < 1.2 * int(row["speech_chars"]) + 200, row["file"]
