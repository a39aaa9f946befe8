"""Codings marked absent (negative evidence) in the exports: spaCy keeps them in their own span
group, out of ``qualcode`` and cats; REFI-QDA marks them with a note on the coding that
qualcode's own import reads back as absent (issue 17)."""
from __future__ import annotations

import zipfile

from lxml import etree
from sqlalchemy import select

from qualcode.exchange import export_qdpx, import_qdpx
from qualcode.exchange.qdpx import ABSENT_NOTE_NAME
from qualcode.project import Project
from qualcode.store import queries, schema as t
from tests.exchange.test_spacy import DOC, _export, _ok, coded  # noqa: F401  (the fixture)


def _mark_absent(runner, project) -> None:
    _ok(runner, project, "code", "add", "--doc", DOC, "--quote", "退休党员也参加互助站", "embedding/retirees",
        "--absent")


def test_spacy_puts_absent_codings_in_their_own_span_group(runner, coded, tmp_path):  # noqa: F811
    _mark_absent(runner, coded)
    rows = queries.codings(coded.store, status=("accepted",))
    absent = [r for r in rows if r["absent"]]
    assert len(absent) == 1
    line, docs = _export(runner, coded, tmp_path, "out.spacy")
    assert '1 spans of codings marked absent in doc.spans["qualcode_absent"]' in line
    found = [(d.user_data["start"] + s.start_char, d.user_data["start"] + s.end_char, s.label_, s.id_)
             for d in docs for s in d.spans["qualcode_absent"]]
    assert found == [(absent[0]["start"], absent[0]["end"], "embedding/retirees", str(absent[0]["id"]))]
    present_ids = {s.id_ for d in docs for s in d.spans["qualcode"]}
    assert str(absent[0]["id"]) not in present_ids
    assert present_ids == {str(r["id"]) for r in rows if not r["absent"]}
    # cats come from codings of presence only: the absent span covers no whole passage anyway,
    # so the passage-level retirees proposal still sets the cat on 1:2 and nothing else does
    labels = {r["code"] for r in rows if not r["absent"]}
    assert all(set(d.cats) == labels for d in docs)


def test_qdpx_round_trips_absent_codings_and_validates(runner, coded, tmp_path):  # noqa: F811
    _mark_absent(runner, coded)
    out = tmp_path / "p.qdpx"
    _ok(runner, coded, "export", "qdpx", str(out), "--validate")
    with zipfile.ZipFile(out) as zf:
        root = etree.fromstring(zf.read("project.qde"))
    ns = {"q": root.nsmap[None]}
    notes = root.findall(".//q:Notes/q:Note", ns)
    marker = [n for n in notes if n.get("name") == ABSENT_NOTE_NAME]
    assert len(marker) == 1 and "缺失 / absent" in marker[0].findtext("q:PlainTextContent", namespaces=ns)
    refs = [c for c in root.iter(f"{{{ns['q']}}}Coding")
            if any(r.get("targetGUID") == marker[0].get("guid") for r in c.findall("q:NoteRef", ns))]
    assert len(refs) == 1  # only the absent coding refers to the note

    copy = Project.init(tmp_path / "copy")
    import_qdpx(copy, out)

    def key(r):
        return (r["start"], r["end"], r["code"], r["coder"], r["absent"])
    before = sorted(key(r) for r in queries.codings(coded.store, status=("accepted",)))
    after = sorted(key(r) for r in queries.codings(copy.store))
    assert after == before and sum(k[-1] for k in after) == 1
    with copy.store.read() as conn:  # the marker note is not imported as a memo
        memos = [m for (m,) in conn.execute(select(t.memos.c.text))]
    assert not any("缺失 / absent" in m for m in memos)
    # and the export of the copy is the same mapping again
    export_qdpx(copy, tmp_path / "again.qdpx", validate=True)
    copy.close()
