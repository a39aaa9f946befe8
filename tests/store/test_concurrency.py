"""Deciding overlapping proposals at the same time, in two processes, on each backend: two
coders both keep their decisions (decisions are per coder, issue 19); one coder's two
sessions racing on the same proposals still get a conflict for the later one."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from qualcode.project import Project
from qualcode.store import schema as t, utcnow
from tests.helpers import QA_TRANSCRIPT, write_text

ROOT = Path(__file__).resolve().parents[2]
N = 60  # proposals; coder A takes 0..39, coder B 20..59: 20 overlap
TIMEOUT = 60


def _project_with_proposals(tmp_path, db) -> tuple[Project, list[int]]:
    from qualcode.ingest.pipeline import ImportOptions, import_paths

    project = Project.init(tmp_path / "p", db=db)
    write_text(tmp_path / "in" / "访谈.txt", QA_TRANSCRIPT)
    assert import_paths(project, [tmp_path / "in"], ImportOptions()).ok
    now = utcnow()
    with project.store.transaction() as conn:
        ids = [conn.execute(insert(t.codings).values(
            document_id=1, start=i, end=i + 2, code="participation", coder="autocode", origin="rule",
            status="proposed", unit="span", rule="participation#words", created_at=now, updated_at=now,
        ).returning(t.codings.c.id)).scalar_one() for i in range(N)]
    return project, ids


def _spawn(root: Path, go: Path, out: Path, mode: str, coder: str, status: str, ids: list[int]):
    code = ("import sys; from tests.store.test_concurrency import worker; "
            f"worker({str(root)!r}, {str(go)!r}, {str(out)!r}, {mode!r}, {coder!r}, {status!r}, {ids!r})")
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def worker(root, go, out, mode, coder, status, ids):
    """One coder's session: wait for the start signal, then decide ``ids``.

    ``decide``: one transaction per decision on what the session showed as open, as in
    'qualcode review' (``open_only``); ``command``: the 'qualcode accept/reject' path, in
    chunks of 5 ids."""
    from qualcode.annotate.codings import decide
    from qualcode.project import Project

    project = Project(Path(root))
    deadline = time.monotonic() + 20
    while not Path(go).exists():
        if time.monotonic() > deadline:
            raise SystemExit("no start signal")
        time.sleep(0.005)
    results = []
    if mode == "decide":
        for cid in ids:
            report = decide(project, status, [cid], coder=coder, open_only=True)
            results.append([cid, "conflict" if report.conflicts else "ok"])
    else:
        for i in range(0, len(ids), 5):
            report = decide(project, status, ids[i:i + 5], coder=coder)
            results += [[cid, "ok"] for cid in report.changed]
            results += [[c["id"], "conflict"] for c in report.conflicts]
    project.close()
    Path(out).write_text(json.dumps(results), encoding="utf-8")


def _race(tmp_path, project, mode, a_ids, b_ids, coders=("甲", "乙")):
    go = tmp_path / "go"
    procs = [
        _spawn(project.root, go, tmp_path / "a.json", mode, coders[0], "accepted", a_ids),
        _spawn(project.root, go, tmp_path / "b.json", mode, coders[1], "rejected", b_ids),
    ]
    time.sleep(0.3)  # both processes import and open the project, then start together
    go.write_text("go")
    for p in procs:
        try:
            _, err = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail("a coder's process did not finish in time")
        assert p.returncode == 0, err.decode()
    return (dict(json.loads((tmp_path / "a.json").read_text())),
            dict(json.loads((tmp_path / "b.json").read_text())))


def _decisions(project) -> dict[tuple[int, str], list[str]]:
    """(proposal start, coder) → that coder's decisions on it (the proposals differ by start)."""
    out: dict[tuple[int, str], list[str]] = {}
    with project.store.read() as conn:
        for start, coder, status in conn.execute(select(t.codings.c.start, t.codings.c.coder, t.codings.c.status)):
            if status != "proposed":
                out.setdefault((start, coder), []).append(status)
    return out


def _audited(project) -> list[tuple[str, int, str]]:
    """(coder, coding id, status after) of every decision in the audit log, updates and copies."""
    with project.store.read() as conn:
        entries = conn.execute(select(t.audit_log.c.coder, t.audit_log.c.detail).where(
            t.audit_log.c.action.in_(["accept", "reject"])).order_by(t.audit_log.c.id)).all()
    out = []
    for coder, detail in entries:
        detail = json.loads(detail)
        out += [(coder, u["id"], u["after"]["status"]) for u in detail["updated"]["codings"]]
        out += [(coder, c["id"], c["status"]) for c in (detail.get("inserted") or {}).get("codings", [])]
    return out


@pytest.mark.parametrize("mode", ["decide", "command"])
def test_two_coders_deciding_the_same_proposals_both_keep_their_decisions(backend, tmp_path, mode):  # noqa: F811
    _, db = backend
    project, ids = _project_with_proposals(tmp_path, db)
    a_ids = ids[:40]
    b_ids = list(reversed(ids[20:])) if mode == "decide" else ids[20:]  # they meet in the overlap
    a, b = _race(tmp_path, project, mode, a_ids, b_ids)
    # no conflict, no failed transaction ("database is locked", serialisation errors): every id answered ok
    assert a == {i: "ok" for i in a_ids} and b == {i: "ok" for i in b_ids}
    decisions = _decisions(project)
    starts = {cid: n for n, cid in enumerate(ids)}
    for cid in ids:  # nothing lost: exactly each coder's own decision on each of their proposals
        n = starts[cid]
        assert decisions.get((n, "甲")) == (["accepted"] if cid in a_ids else None), cid
        assert decisions.get((n, "乙")) == (["rejected"] if cid in b_ids else None), cid
    audited = _audited(project)
    assert len(audited) == len(a_ids) + len(b_ids)  # one audit record per applied decision
    assert sorted((c, s) for c, _, s in audited) == sorted([("甲", "accepted")] * 40 + [("乙", "rejected")] * 40)
    with project.store.read() as conn:  # no proposal left undecided that somebody decided
        left = {r.start for r in conn.execute(select(t.codings.c.start).where(t.codings.c.status == "proposed"))}
    assert left == set()


def test_one_coders_two_sessions_racing_on_the_same_proposals_conflict(backend, tmp_path):  # noqa: F811
    _, db = backend
    project, ids = _project_with_proposals(tmp_path, db)
    a_ids, b_ids = ids[:40], list(reversed(ids[20:]))
    a, b = _race(tmp_path, project, "decide", a_ids, b_ids, coders=("甲", "甲"))
    assert all(a[i] == "ok" for i in ids[:20]) and all(b[i] == "ok" for i in ids[40:])
    for i in ids[20:40]:  # the second session to reach a proposal is told; the first decision stands
        assert sorted([a[i], b[i]]) == ["conflict", "ok"], i
    decisions = _decisions(project)
    for n, cid in enumerate(ids):  # one decision per proposal, the winner's
        winner = "accepted" if a.get(cid) == "ok" else "rejected"
        assert decisions[(n, "甲")] == [winner], cid
    assert len(_audited(project)) == len(ids)  # one audit record per applied decision
