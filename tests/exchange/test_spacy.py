"""qualcode export spacy / qualcode.to_spacy: coded passages as spaCy training data.

Every span written must be a coding of ``export codings`` (clipped to its unit), with the
same document offsets, including 𠮷 and emoji (one code point each).
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from qualcode.cli import cli
from tests.helpers import write_text

TRANSCRIPT = (
    "问：请问您叫什么名字？\n"
    "答：我叫吉𠮷，在网格党支部工作😀。退休党员也参加互助站。\n"
    "问：居民有事找谁？\n"
    "答：有事找网格员，问题当天解决，居民很满意。\n"
)
DOC = "甲-书记A"
# document text: 请问您叫什么名字？ [0,9) \n 我叫吉𠮷…互助站。 [10,36) \n 居民有事找谁？ [37,44) \n 有事找网格员… [45,65)


def _ok(runner, project, *args):
    result = runner.invoke(cli, ["--project", str(project.root), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def coded(runner, project, tmp_path):
    """One interview: an accepted passage-level proposal (retirees on 1:2), a pending one
    (responsiveness on 1:4), two overlapping manual spans, a span over two passages and a
    passage-level manual coding by a second coder."""
    f = write_text(tmp_path / f"{DOC}.txt", TRANSCRIPT)
    _ok(runner, project, "import", str(f), "--case", "东街道")
    _ok(runner, project, "autocode")
    _ok(runner, project, "accept", "--code", "embedding/retirees")
    _ok(runner, project, "code", "add", "--doc", DOC, "--quote", "吉𠮷，在网格党支部", "construction/network")
    _ok(runner, project, "code", "add", "--doc", DOC, "--quote", "网格党支部工作😀", "embedding/leadership")
    _ok(runner, project, "code", "add", "--doc", DOC, "--start", "32", "--end", "41", "mobilization/horizontal")
    _ok(runner, project, "code", "add", "1:4", "governance", "--coder", "李研究员")
    return project


def _csv(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _export(runner, project, tmp_path, name, *args, nlp=None):
    import spacy
    from spacy.tokens import DocBin

    out = tmp_path / name
    line = _ok(runner, project, "export", "spacy", str(out), *args)
    docs = list(DocBin().from_disk(out).get_docs((nlp or spacy.blank("zh")).vocab))
    return line, docs


def _spans(docs) -> list[tuple]:
    """(document, start, end, code, coding id) of every span, in document offsets."""
    return sorted((d.user_data["document"], d.user_data["start"] + s.start_char, d.user_data["start"] + s.end_char,
                   s.label_, s.id_) for d in docs for s in d.spans["qualcode"])


def _expected(codings: list[dict], units: list[tuple[int, int]]) -> list[tuple]:
    """Each coding of ``export codings`` clipped to every unit it overlaps."""
    return sorted((r["document"], max(int(r["start"]), lo), min(int(r["end"]), hi), r["code"], r["id"])
                  for r in codings for lo, hi in units if int(r["start"]) < hi and lo < int(r["end"]))


def test_passage_docs_carry_exactly_the_exported_codings(runner, coded, tmp_path):
    line, docs = _export(runner, coded, tmp_path, "train.spacy")
    _ok(runner, coded, "export", "codings", "--format", "csv", "--status", "accepted", "-o", str(tmp_path / "c.csv"))
    _ok(runner, coded, "export", "passages", "--format", "csv", "-o", str(tmp_path / "p.csv"))
    codings, passages = _csv(tmp_path / "c.csv"), _csv(tmp_path / "p.csv")
    assert len(codings) == 5  # the pending proposal is not training data

    assert [d.text for d in docs] == [p["text"] for p in passages]
    assert [(d.user_data["passage"], d.user_data["start"], d.user_data["end"], d.user_data["speaker"],
             d.user_data["role"], d.user_data["case"], d.user_data["document"]) for d in docs] == [
        (p["passage"], int(p["start"]), int(p["end"]), p["speaker"], p["role"], p["case"], p["document"])
        for p in passages]
    assert _spans(docs) == _expected(codings, [(int(p["start"]), int(p["end"])) for p in passages])
    assert line.startswith(f"Wrote 4 passage docs with 6 spans from 5 codings to {tmp_path / 'train.spacy'}")

    p2 = docs[1]
    texts = sorted((s.text, s.label_) for s in p2.spans["qualcode"])
    assert texts == [("互助站。", "mobilization/horizontal"), ("吉𠮷，在网格党支部", "construction/network"),
                     ("我叫吉𠮷，在网格党支部工作😀。退休党员也参加互助站。", "embedding/retirees"),
                     ("网格党支部工作😀", "embedding/leadership")]  # overlaps kept, the long span clipped
    assert [s.text for s in docs[2].spans["qualcode"]] == ["居民有事"]  # its other half
    assert "网格党支部" in [tok.text for tok in p2]  # the project's jieba token survives the cuts


def test_tokens_are_the_stored_segmentation_cut_at_coding_boundaries(runner, coded, tmp_path):
    from sqlalchemy import select

    from qualcode.store import schema as t
    from qualcode.text.segment import token_spans

    _, docs = _export(runner, coded, tmp_path, "train.spacy")
    with coded.store.read() as conn:
        stored = [token_spans(blob, start) for start, blob in
                  conn.execute(select(t.passages.c.start, t.passages.c.tokens).order_by(t.passages.c.seq))]
    for doc, spans in zip(docs, stored):
        base = doc.user_data["start"]
        cuts = {base + tok.idx for tok in doc} | {doc.user_data["end"]}
        jieba = {s for s, _ in spans} | {e for _, e in spans}
        coding = {base + x for s in doc.spans["qualcode"] for x in (s.start_char, s.end_char)}
        assert jieba <= cuts and cuts <= jieba | coding
        assert all(not tok.whitespace_ for tok in doc)


def test_whole_unit_codings_become_cats_for_every_exported_code(runner, coded, tmp_path):
    _, docs = _export(runner, coded, tmp_path, "train.spacy")
    labels = ["construction/network", "embedding/leadership", "embedding/retirees", "governance",
              "mobilization/horizontal"]
    assert all(sorted(d.cats) == labels for d in docs)
    on = {d.user_data["passage"]: sorted(k for k, v in d.cats.items() if v == 1.0) for d in docs}
    assert on == {"1:1": [], "1:2": ["embedding/retirees"], "1:3": [], "1:4": ["governance"]}


def test_status_and_code_filters_match_export_codings(runner, coded, tmp_path):
    args = ["--status", "accepted", "--status", "proposed", "--code", "governance"]
    _, docs = _export(runner, coded, tmp_path, "gov.spacy", *args)
    _ok(runner, coded, "export", "codings", "--format", "csv", "-o", str(tmp_path / "c.csv"), *args)
    codings = _csv(tmp_path / "c.csv")
    assert sorted(r["code"] for r in codings) == ["governance", "governance/responsiveness"]
    units = [(d.user_data["start"], d.user_data["end"]) for d in docs]
    assert _spans(docs) == _expected(codings, units)
    assert docs[3].cats == {"governance": 1.0, "governance/responsiveness": 1.0}


def test_sentence_docs(runner, coded, tmp_path):
    line, docs = _export(runner, coded, tmp_path, "sentences.spacy", "--unit", "sentence")
    info = json.loads(_ok(runner, coded, "docs", "show", DOC, "--format", "json"))
    sentences = [tuple(s) for p in info["passages"] for s in p["sentences"]]
    assert [d.text for d in docs] == [p["text"][s - p["start"]:e - p["start"]]
                                      for p in info["passages"] for s, e in p["sentences"]]
    assert [d.text for d in docs if d.user_data["passage"] == "1:2"] == ["我叫吉𠮷，在网格党支部工作😀。", "退休党员也参加互助站。"]
    assert [d.user_data["sentence"] for d in docs if d.user_data["passage"] == "1:2"] == [1, 2]
    _ok(runner, coded, "export", "codings", "--format", "csv", "--status", "accepted", "-o", str(tmp_path / "c.csv"))
    assert _spans(docs) == _expected(_csv(tmp_path / "c.csv"), sentences)
    # the passage-level code covers each of the passage's sentences
    assert [d.cats["embedding/retirees"] for d in docs if d.user_data["passage"] == "1:2"] == [1.0, 1.0]
    assert line.startswith(f"Wrote {len(sentences)} sentence docs with ")


def test_docs_train_a_spancat_and_textcat_pipeline(runner, coded, tmp_path):
    import spacy
    from spacy.training import Example

    nlp = spacy.blank("zh")
    _, docs = _export(runner, coded, tmp_path, "train.spacy", nlp=nlp)
    examples = [Example(nlp.make_doc(d.text), d) for d in docs]
    for ex in examples:  # spaCy's own Chinese tokenizer can represent every coded span
        spans = ex.reference.spans["qualcode"]
        aligned = ex.get_aligned_spans_y2x(spans, allow_overlap=True)
        assert [(s.start_char, s.end_char, s.label_) for s in aligned] == [
            (s.start_char, s.end_char, s.label_) for s in spans]
    nlp.add_pipe("spancat", config={"spans_key": "qualcode"})
    nlp.add_pipe("textcat_multilabel")
    optimizer = nlp.initialize(lambda: examples)
    assert "embedding/leadership" in nlp.get_pipe("spancat").labels
    assert "governance" in nlp.get_pipe("textcat_multilabel").labels
    losses: dict = {}
    nlp.update(examples, sgd=optimizer, losses=losses)
    assert set(losses) == {"spancat", "textcat_multilabel"}


def test_library_function_yields_the_same_docs(coded):
    import qualcode

    docs = list(qualcode.to_spacy(coded, "passage", docs=[DOC], statuses=["accepted"]))
    assert [d.user_data["passage"] for d in docs] == ["1:1", "1:2", "1:3", "1:4"]
    assert [len(d.spans["qualcode"]) for d in docs] == [0, 4, 1, 1]
    assert list(qualcode.to_spacy(coded, coder="李研究员"))[3].cats == {"governance": 1.0}


@pytest.mark.parametrize("args, message", [
    (["out.txt"], "Error: out.txt: the file name must end in .spacy"),
    (["out.spacy", "--code", "governanc"], "Error: no code 'governanc' in this project"),
    (["out.spacy", "--coder", "nobody"], "Error: no coder 'nobody' in this project"),
    (["out.spacy", "--doc", "乙-书记A"], "Error: no doc '乙-书记A' in this project"),
])
def test_bad_input_is_one_line_without_a_file(runner, project, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["--project", str(project.root), "export", "spacy", *args])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == message and "Traceback" not in result.output
    assert not list(tmp_path.glob("out.*"))


def test_import_qualcode_does_not_load_spacy():
    code = "import sys, qualcode\nqualcode.to_spacy\nprint('spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
