"""Team coding as research teams do it, on SQLite and PostgreSQL: blind double coding in two
processes at once, agreement on what the coders did independently, adjudication into a
consensus, and reports that count the consensus. Every figure is recomputed here from the
decisions the test made, not read back from the program."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from qualcode import annotate
from qualcode.agreement import compute
from qualcode.agreement.assignments import assign, close_assignments
from qualcode.annotate.adjudicate import AdjudicationSession
from qualcode.cli import cli
from qualcode.errors import QualcodeError
from qualcode.project import Project
from qualcode.reports.frequencies import frequencies
from qualcode.reports.selection import Selection, load
from qualcode.store import queries, schema as t
from tests.annotate.helpers import CODEBOOK, SECOND
from tests.helpers import QA_TRANSCRIPT, write_text

ROOT = Path(__file__).resolve().parents[2]
A, B, C = "王", "李", "张"  # two coders and the adjudicator
MANUAL = "context/social_capital"  # 王 codes it by hand on the first interviewee turn; 李 does not


def _project(tmp_path, db) -> Project:
    from qualcode.autocode.run import autocode
    from qualcode.ingest.pipeline import ImportOptions, import_paths

    project = Project.init(tmp_path / "team", db=db)
    project.use_codebook(CODEBOOK)
    files = [write_text(tmp_path / "in" / "互助站访谈.txt", QA_TRANSCRIPT),
             write_text(tmp_path / "in" / "议事会访谈.txt", SECOND)]
    assert import_paths(project, files, ImportOptions(case="N街道")).ok
    autocode(project, project.codebook())
    return project


def policy(coder: str, index: int) -> str:
    """What each coder decides on the ``index``-th proposal (in id order): they overlap and differ."""
    if coder == A:
        return "accepted" if index % 2 == 0 else "rejected"
    return "accepted" if index % 3 != 2 else "rejected"


def worker(root, go, out, coder, order):
    """One coder's blind review session, walking their whole queue as 'qualcode review' does;
    ``order``: the proposals' ids before anyone decided (the policy's index)."""
    from qualcode.annotate.review import ReviewSession

    project = Project(Path(root))
    deadline = time.monotonic() + 20
    while not Path(go).exists():
        if time.monotonic() > deadline:
            raise SystemExit("no start signal")
        time.sleep(0.005)
    session = ReviewSession(project, coder=coder)
    seen, messages = [], []
    while (item := session.current()) is not None:
        cid = item.coding["id"]
        assert item.coding["status"] == "proposed"  # blind: never another coder's decision
        seen.append(cid)
        messages.append(session.accept() if policy(coder, order.index(cid)) == "accepted" else session.reject())
        if coder == A and len(seen) == 1:  # and one coding by hand
            annotate.add_coding(project, MANUAL, passage=item.passage["passage"], coder=A)
    project.close()
    Path(out).write_text(json.dumps({"seen": seen, "messages": messages}), encoding="utf-8")


def _in_parallel(tmp_path, project, order):
    go = tmp_path / "go"
    procs = []
    for coder in (A, B):
        code = ("from tests.annotate.test_adjudicate import worker; "
                f"worker({str(project.root)!r}, {str(go)!r}, {str(tmp_path / (coder + '.json'))!r}, {coder!r}, {order!r})")
        procs.append(subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE))
    time.sleep(0.3)
    go.write_text("go")
    for p in procs:
        try:
            _, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail("a coder's process did not finish in time")
        assert p.returncode == 0, err.decode()
    return {c: json.loads((tmp_path / (c + ".json")).read_text(encoding="utf-8")) for c in (A, B)}


# ------------------------------------------------------------------ independent arithmetic


def _two_coder_figures(a: list[int], b: list[int]) -> dict:
    """Percent agreement, Cohen's kappa and Krippendorff's alpha (nominal, two coders, no
    missing values) of two 0/1 vectors by their textbook definitions."""
    n = len(a)
    agree = sum(x == y for x, y in zip(a, b))
    p_o = agree / n
    pa, pb = sum(a) / n, sum(b) / n
    p_e = pa * pb + (1 - pa) * (1 - pb)
    kappa = (p_o - p_e) / (1 - p_e) if p_e != 1 else None
    ones, zeros = sum(a) + sum(b), 2 * n - sum(a) - sum(b)
    # observed disagreement: each disagreeing unit has one pair each way, 1·1/(m − 1) with m = 2
    disagreeing = n - agree
    alpha = 1 - (2 * n - 1) * (2 * disagreeing) / (2 * ones * zeros) if ones and zeros else None
    return {"percent": p_o, "kappa": kappa, "alpha": alpha}


def _expected(project, order: list[int]) -> dict:
    """From the decisions the policy made: each coder's 0/1 per codable unit and code, and the
    consensus after adjudication (agreements carried; a disagreement settled as 王 had it)."""
    with project.store.read() as conn:
        rows = {r["id"]: dict(r) for r in conn.execute(select(t.codings).where(t.codings.c.id.in_(order))).mappings()}
    passages = queries.passages(project.store)
    codable = [p for p in passages if p["role"] == "interviewee"]
    def unit_of(row):
        return next(p["passage"] for p in passages if p["passage"].split(":")[0] == str(row["document_id"])
                    and p["start"] <= row["start"] < p["end"])
    coded: dict[str, set] = {A: set(), B: set()}
    for i, cid in enumerate(order):
        for coder in (A, B):
            if policy(coder, i) == "accepted":
                coded[coder].add((unit_of(rows[cid]), rows[cid]["code"]))
    coded[A].add((codable[0]["passage"], MANUAL))
    codes = sorted({code for s in coded.values() for _, code in s})
    units = [p["passage"] for p in codable]
    vectors = {code: {c: [int((u, code) in coded[c]) for u in units] for c in (A, B)} for code in codes}
    in_scope = {(u, code) for u in units for code in codes}
    both = coded[A] & coded[B] & in_scope
    differ = (coded[A] ^ coded[B]) & in_scope
    consensus: dict[str, int] = {}
    for _unit, code in both | (coded[A] & differ):
        consensus[code] = consensus.get(code, 0) + 1
    return {"vectors": vectors, "agreements": len(both), "disagreements": len(differ), "consensus": consensus,
            "units": units, "coded": coded}


# ------------------------------------------------------------------ the whole cycle


def test_the_whole_cycle(backend, tmp_path, runner):
    _, db = backend
    project = _project(tmp_path, db)
    with project.store.read() as conn:
        order = [i for (i,) in conn.execute(select(t.codings.c.id).where(t.codings.c.origin == "rule")
                                            .order_by(t.codings.c.id))]
    assert len(order) >= 6
    for coder in (A, B):
        assert assign(project.store, [1, 2], coder, blind=True) == 2

    # 1. both decide the same proposals at the same time, blind, in two processes
    walked = _in_parallel(tmp_path, project, order)
    for coder in (A, B):  # each saw every proposal (another's decision leaves it open for them), once
        assert sorted(walked[coder]["seen"]) == order
        assert not any("another session" in m for m in walked[coder]["messages"])
    decided = {}
    with project.store.read() as conn:
        for r in conn.execute(select(t.codings).where(t.codings.c.origin == "rule")).mappings():
            decided.setdefault(r["coder"], {})[(r["start"], r["end"], r["code"])] = r["status"]
    for coder in (A, B):  # both kept every decision: nothing lost, nothing overwritten
        mine = decided[coder]
        assert len(mine) == len(order)
        assert sorted(mine.values()) == sorted(policy(coder, i) for i in range(len(order)))
    assert "autocode" not in decided  # no proposal left undecided

    # blind: while the assignments are open, 李 sees neither 王's decisions nor 王's manual coding
    listed = annotate.list_codings(project, viewer=B)
    assert {r["coder"] for r in listed} == {B}
    assert not any(r["code"] == MANUAL for r in listed)
    r = runner.invoke(cli, ["--project", str(project.root), "code", "list", "--format", "json"],
                      env={"QUALCODE_CODER": B})
    assert {row["coder"] for row in json.loads(r.output)} == {B}
    with pytest.raises(QualcodeError, match="still coding blind"):
        AdjudicationSession(project, [A, B], adjudicator=C)
    for coder in (A, B):
        assert close_assignments(project.store, coder) == 2
    assert {r["coder"] for r in annotate.list_codings(project, viewer=B)} == {A, B}

    # 2. agreement on what they did independently, on the interviewee turns
    expected = _expected(project, order)
    report = compute(project.store, [A, B], codebook=project.codebook())
    assert report.units_used == expected["units"]
    assert set(report.codes) == set(expected["vectors"])
    for code, vectors in expected["vectors"].items():
        figures = _two_coder_figures(vectors[A], vectors[B])
        got = report.codes[code]
        assert got.units == len(expected["units"])
        assert got.percent == pytest.approx(figures["percent"]), code
        for name in ("kappa", "alpha"):
            want = figures[name]
            assert (getattr(got, name) is None) if want is None else getattr(got, name) == pytest.approx(want), code

    # reports refuse to pool two coders silently
    with pytest.raises(QualcodeError, match="codings by 2 coders"):
        load(project)
    pooled = load(project, Selection(coders=("all",)))
    assert len(pooled.codings) == sum(1 for c in (A, B) for s in decided[c].values() if s == "accepted") + 1
    assert "all 2 coders pooled: 李, 王" in pooled.selection.describe()

    # 3. adjudication: agreements carried, each disagreement settled with a reason
    session = AdjudicationSession(project, [A, B], adjudicator=C)
    assert session.carry_agreements() == expected["agreements"]
    assert session.carry_agreements() == 0  # carried once
    items = session.items()
    assert len(items) == expected["disagreements"]
    first = session.current()
    assert first is not None and {v.coder: v.vote for v in first.coders} == first.votes
    assert any(c.get("text") for v in first.coders for c in v.codings)  # the evidence behind a vote
    with pytest.raises(QualcodeError, match="reason"):
        session.take(A, "  ")
    n = 0
    while session.current() is not None:
        session.take(A, f"讨论后采纳王的编码 {n}")
        n += 1
    assert n == expected["disagreements"]
    summary = session.summary()
    assert (summary.agreed, summary.settled, summary.open) == (expected["agreements"], n, 0)
    record = session.settled()
    assert sum(1 for r in record if r["kind"] == "settled" and r["reason"].startswith("讨论后")) == n

    # 4. the reports count the consensus
    data = load(project)
    assert data.selection.coders == ("consensus",)
    assert "coder consensus (the consensus of 3 coders)" in data.selection.describe()
    counts = data.codings.groupby("code").size().to_dict()
    assert counts == expected["consensus"]
    table = frequencies(data, rollup=False)
    assert table is not None
    with project.store.read() as conn:
        people = {r.decided_by for r in conn.execute(select(t.codings.c.decided_by).where(
            t.codings.c.coder == "consensus"))}
    assert people == {C}  # who adjudicated is kept on every consensus coding
    project.close()


# ------------------------------------------------------------------ the spreadsheet and the terminal


def _two_coders(tmp_path, tmp_path_factory):
    from tests.annotate.helpers import coded_project

    project = coded_project(tmp_path_factory, tmp_path / "study", kind="two")
    ids = list(range(1, 6))
    annotate.decide(project, "accepted", ids[:3], coder=A)
    annotate.decide(project, "rejected", ids[3:], coder=A)
    annotate.decide(project, "accepted", [1, 4], coder=B)
    annotate.decide(project, "rejected", [2, 3, 5], coder=B)
    return project


def test_disagreements_sheet_filled_in_and_imported(tmp_path, tmp_path_factory, runner):
    project = _two_coders(tmp_path, tmp_path_factory)
    out = tmp_path / "review.xlsx"
    r = runner.invoke(cli, ["--project", str(project.root), "disagreements", "--coders", f"{A},{B}", "-o", str(out)])
    assert r.exit_code == 0, r.output
    wb = load_workbook(out)
    rows = [[c.value for c in row] for row in wb["disagreements"].iter_rows()]
    header = rows[0]
    assert header == ["unit", "document", "start", "end", "code", A, B, "text", "decision", "note"]
    # 1 both accepted; 2, 3 王 only; 4 李 only; 5 both rejected: three disagreements
    got = {(row[0], row[4]): (row[5], row[6]) for row in rows[1:]}
    assert got == {("1:2", "embedding/retirees"): (1, 0), ("1:2", "governance/legitimacy"): (1, 0),
                   ("1:4", "construction/network"): (0, 1)}
    fill = {("1:2", "embedding/retirees"): ("1", "退休党员确有参与"),
            ("1:2", "governance/legitimacy"): (B, "推选不等于认可"),
            ("1:4", "construction/network"): ("0", "")}  # no reason: refused
    ws = wb["disagreements"]
    for i, row in enumerate(rows[1:], start=2):
        decision, note = fill[(row[0], row[4])]
        ws.cell(i, header.index("decision") + 1, decision)
        ws.cell(i, header.index("note") + 1, note)
    wb.save(out)
    r = runner.invoke(cli, ["--project", str(project.root), "sheet", "import", str(out), "--coder", C])
    assert r.exit_code == 4
    assert "refused row" in r.output and "every settlement keeps its reason" in r.output
    assert r.output.splitlines()[-1] == "2 disagreements settled, 0 unchanged, 0 conflicts, 1 rows refused"
    session = AdjudicationSession(project, [A, B], adjudicator=C)
    record = {(r_["unit"], r_["code"]): (r_["result"], r_["reason"]) for r_ in session.settled()}
    assert record == {("1:2", "embedding/retirees"): (1, "退休党员确有参与"),
                      ("1:2", "governance/legitimacy"): (0, "推选不等于认可")}
    assert [i.code for i in session.items()] == ["construction/network"]
    r = runner.invoke(cli, ["--project", str(project.root), "sheet", "import", str(out), "--coder", C])
    assert "0 disagreements settled, 2 unchanged" in r.output  # importing again changes nothing
    project.close()


def test_terminal_walk_and_undo(tmp_path, tmp_path_factory, runner):
    project = _two_coders(tmp_path, tmp_path_factory)
    keys = "y\n一致认为是\nn\n不够明确\nq\n"
    r = runner.invoke(cli, ["--project", str(project.root), "adjudicate", "--coders", f"{A},{B}", "--coder", C],
                      input=keys)
    assert r.exit_code == 0, r.output
    assert "Carried 1 agreements of 王, 李 into consensus" in r.output
    assert "[1] 王: coded" in r.output and "[2] 李: not coded" in r.output
    assert r.output.splitlines()[-1] == ("Stopped. 2 disagreements settled, 1 open; 1 agreements carried into "
                                         "consensus (2 consensus codings)")
    listed = json.loads(runner.invoke(cli, ["--project", str(project.root), "adjudicate", "--coders", f"{A},{B}",
                                            "--list", "--format", "json"]).output)
    assert [(x["kind"], x["result"], x["reason"]) for x in listed] == [
        ("agreed", 1, ""), ("settled", 1, "一致认为是"), ("settled", 0, "不够明确")]
    # undo takes the last settlement back, record included
    assert runner.invoke(cli, ["--project", str(project.root), "undo", "--coder", C]).exit_code == 0
    session = AdjudicationSession(project, [A, B], adjudicator=C)
    assert session.summary().settled == 1 and session.summary().open == 2
    # the consensus name is configurable and may not be one of the coders
    with pytest.raises(QualcodeError, match="name of its own"):
        AdjudicationSession(project, [A, B], consensus=A)
    project.close()


def test_sheets_record_their_coder(tmp_path, tmp_path_factory, runner):
    from tests.annotate.helpers import coded_project

    project = coded_project(tmp_path_factory, tmp_path / "study")
    out = tmp_path / "alice.xlsx"
    assert runner.invoke(cli, ["--project", str(project.root), "sheet", "export", "-o", str(out),
                               "--coder", "alice"]).exit_code == 0
    before = [dict(r) for r in annotate.list_codings(project)]
    r = runner.invoke(cli, ["--project", str(project.root), "sheet", "import", str(out), "--coder", "bob"])
    assert r.exit_code == 1
    assert r.output.splitlines()[0] == ("Error: this sheet was exported for alice; importing it as bob would "
                                        "replace bob's codings with alice's")
    assert annotate.list_codings(project) == before
    project.close()


def test_migration_gives_old_decisions_to_who_made_them(tmp_path):
    import sqlite3

    project = Project.init(tmp_path / "old")
    project.close()
    con = sqlite3.connect(tmp_path / "old" / "qualcode.db")
    now = "2024-01-01T00:00:00+00:00"
    con.execute("insert into documents (id, name, file_name, source_path, content_hash, text, n_chars, encoding, "
                "style, script, dict_version, warnings, notes, imported_at) values "
                "(1, 'd', 'd.txt', 'd.txt', 'h', '答：很好。', 5, 'utf-8', 'qa', 'simplified', '-', '[]', '[]', ?)",
                (now,))
    con.execute("insert into codings (document_id, start, end, code, coder, origin, status, unit, created_at, "
                "updated_at, decided_by, decided_at) values (1, 2, 5, 'x', 'autocode', 'rule', 'accepted', "
                "'passage', ?, ?, '王', ?)", (now, now, now))
    # the schema as it was before version 6
    con.execute("drop table adjudications")
    con.execute("alter table assignments drop column blind")
    con.execute("alter table assignments drop column closed_at")
    con.execute("delete from schema_migrations where version = 6")
    con.commit()
    con.close()
    project = Project(tmp_path / "old")  # migrates
    with project.store.read() as conn:
        assert conn.execute(select(t.codings.c.coder)).scalar_one() == "王"
        assert conn.execute(select(t.adjudications)).all() == []
    assert assign(project.store, [1], A, blind=True) == 1
    project.close()
