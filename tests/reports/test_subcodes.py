"""``report subcodes`` (case × sub-code matrix with quotes) and ``report interviews`` (code ×
role × case counts of interviews): every figure recomputed from the store's rows by plain
Python, on the small project plus codings added here."""
from __future__ import annotations

import csv
import io
from collections import defaultdict

from sqlalchemy import insert, select

from qualcode import annotate
from qualcode.cli import cli
from qualcode.reports import Selection, interviews, load, subcode_matrix, subcodes
from qualcode.store import schema as t


def add(project, doc_id: int, seq: int, code: str, absent: int = 0, text: str | None = None) -> int:
    """A manual coding by 李老师 on a passage (or on ``text`` inside it); returns its id."""
    with project.store.transaction() as conn:
        pid, start, end = conn.execute(select(t.passages.c.id, t.passages.c.start, t.passages.c.end).where(
            t.passages.c.document_id == doc_id, t.passages.c.seq == seq)).one()
        if text is not None:
            body = conn.execute(select(t.documents.c.text).where(t.documents.c.id == doc_id)).scalar_one()
            start = body.index(text, start)
            end = start + len(text)
        return conn.execute(insert(t.codings).values(
            document_id=doc_id, passage_id=pid, start=start, end=end, code=code, coder="李老师", origin="manual",
            status="accepted", unit="passage" if text is None else "span", absent=absent,
            created_at="2026-01-03", updated_at="2026-01-03").returning(t.codings.c.id)).scalar_one()


def store_rows(project):
    """Accepted/manual codings of presence and absence, with document case and role, straight from SQL."""
    k, d, c, a = t.codings, t.documents, t.cases, t.attributes
    with project.store.read() as conn:
        case = dict(conn.execute(select(d.c.id, c.c.name).select_from(d.join(c, d.c.case_id == c.c.id))).all())
        role = dict(conn.execute(select(a.c.document_id, a.c.value).where(a.c.key == "role")).all())
        rows = conn.execute(select(k.c.id, k.c.document_id, k.c.passage_id, k.c.code, k.c.absent)
                            .where(k.c.status == "accepted")).all()
    return case, role, rows


def test_subcode_cells_count_their_own_codings_and_quote_the_pinned_one(small):
    # a second coding of construction/network in doc 1 (another passage) and a span coding in doc 2
    add(small, 1, 4, "construction/network")
    second = add(small, 2, 1, "construction/network", text="站长是党员")
    add(small, 3, 1, "embedding/leadership", absent=1)  # negative evidence is not a presence
    df = subcodes(load(small))
    case, _, rows = store_rows(small)
    codings, passages, docs = defaultdict(set), defaultdict(set), defaultdict(set)
    for cid, doc, pid, code, absent in rows:
        if absent:
            continue
        parts = code.split("/")
        for i in range(1, len(parts)):  # sub-codes only (depth ≥ 1), rolled up
            key = (case[doc], "/".join(parts[: i + 1]))
            codings[key].add(cid)
            passages[key].add(pid)
            docs[key].add(doc)
    got = {(r.case, r.code): (r.codings, r.passages, r.interviews) for r in df.itertuples()}
    assert got == {key: (len(codings[key]), len(passages[key]), len(docs[key])) for key in got}
    assert got[("东街道", "construction/network")] == (4, 4, 2)
    assert got[("西街道", "embedding/leadership")] == (0, 0, 0)
    assert set(df["code"]) == {"construction/hub", "construction/network", "embedding/leadership",
                               "embedding/retirees", "mobilization/deliberation", "governance/legitimacy",
                               "governance/rules", "governance/responsiveness"}  # no stages
    empty = df[df["codings"] == 0]
    assert (empty["quote"] == "").all() and (empty["quote_by"] == "").all()
    # quotes name the interviewee by role code, never the file (甲-书记A …)
    assert set(df.loc[df["quote"] != "", "quote_by"]) == {"社区党组织书记A", "互助站站长B"}
    assert not df["quote_by"].str.contains("甲-|乙-").any()

    annotate.pin_quote(small, second, note="典型", coder="李老师")
    df = subcodes(load(small))
    cell = df[(df["case"] == "东街道") & (df["code"] == "construction/network")].iloc[0]
    assert (cell.quote, cell.quote_by, cell.passage, cell.pinned) == ("站长是党员", "互助站站长B", "2:1", 1)

    matrix = subcode_matrix(load(small))
    assert list(matrix.columns) == ["code", "label", "东街道", "西街道"]
    row = matrix.set_index("code").loc["construction/network"]
    assert row["东街道"] == "n=4｜「站长是党员」（互助站站长B）"
    assert row["西街道"] == "n=1｜「答：网格党支部很有用。」（社区党组织书记A）"
    assert matrix.set_index("code").at["construction/hub", "东街道"] == "—"


def test_interviews_count_documents_not_passages(small):
    for seq in (2, 4):  # 书记A of 东街道 speaks of the network three times: still one interview
        add(small, 1, seq, "construction/network")
    add(small, 3, 1, "embedding/leadership", absent=1)
    df = interviews(load(small))
    case, role, rows = store_rows(small)
    role_type = {d: r.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for d, r in role.items()}
    have, lack = defaultdict(set), defaultdict(set)
    for _, doc, _, code, absent in rows:
        parts = code.split("/")
        for i in range(len(parts)):
            (lack if absent else have)[("/".join(parts[: i + 1]), role_type[doc], case[doc])].add(doc)
    of = defaultdict(int)
    for doc in case:
        of[(role_type[doc], case[doc])] += 1
    for r in df.itertuples():
        key = (r.code, r.role, r.case)
        assert (r.interviews, r.of, r.absent_interviews) == (len(have[key]), of[(r.role, r.case)], len(lack[key]))
        assert r.share == round(len(have[key]) / of[(r.role, r.case)], 4)
    net = df[(df["code"] == "construction/network") & (df["role"] == "社区党组织书记")].set_index("case")
    assert net.at["东街道", "interviews"] == 1 and net.at["东街道", "interviewees"] == "社区党组织书记A"
    lead = df[(df["code"] == "embedding") & (df["case"] == "西街道")].iloc[0]
    assert (lead.interviews, lead.absent_interviews) == (0, 1)
    # every code × every (role, case) pair with interviews, codebook order
    assert len(df) == len(load(small).codes) * len(of)


def test_report_subcodes_and_interviews_commands(runner, small):
    root = ["--project", str(small.root), "report"]
    r = runner.invoke(cli, [*root, "subcodes", "--long", "--format", "csv"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == ["case", "code", "label", "stage", "codings", "passages", "interviews", "quote",
                             "quote_by", "passage", "pinned"]
    r = runner.invoke(cli, [*root, "subcodes"])
    assert r.exit_code == 0 and "n=2｜「" in r.output and "东街道" in r.output
    r = runner.invoke(cli, [*root, "interviews", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows and all(int(row["interviews"]) > 0 for row in rows)  # empty cells only with --all
    full = list(csv.DictReader(io.StringIO(runner.invoke(cli, [*root, "interviews", "--all", "--format",
                                                               "csv"]).stdout)))
    assert len(full) > len(rows)
    r = runner.invoke(cli, [*root, "interviews", "--by", "date", "--format", "csv"])
    assert {row["case"] for row in csv.DictReader(io.StringIO(r.stdout))} == {"2023-01-01", "2023-02-01"}
    r = runner.invoke(cli, [*root, "subcodes", "--by", "community"])
    assert r.exit_code == 1 and "no document attribute 'community'" in r.output
    # proposals: the legitimacy proposal of doc 1 counts only with --proposed
    assert subcodes(load(small, Selection(proposed=True))).query(
        "case == '东街道' and code == 'governance/legitimacy'")["codings"].item() == 1
