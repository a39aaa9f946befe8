"""Two coders deciding overlapping proposals at the same time, in two processes, on each backend."""
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
    """One coder's review session: wait for the start signal, then decide ``ids`` one transaction each."""
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
        for cid in ids:  # one transaction per decision, as in 'qualcode review'
            report = decide(project, status, [cid], coder=coder)
            results.append([cid, "conflict" if report.conflicts else "ok"])
    else:  # the 'qualcode accept/reject' command path, in chunks of 5 ids
        for i in range(0, len(ids), 5):
            report = decide(project, status, ids[i:i + 5], coder=coder)
            results += [[cid, "ok"] for cid in report.changed]
            results += [[c["id"], "conflict"] for c in report.conflicts]
    project.close()
    Path(out).write_text(json.dumps(results), encoding="utf-8")


def _race(tmp_path, project, mode, a_ids, b_ids):
    go = tmp_path / "go"
    procs = [
        _spawn(project.root, go, tmp_path / "a.json", mode, "甲", "accepted", a_ids),
        _spawn(project.root, go, tmp_path / "b.json", mode, "乙", "rejected", b_ids),
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


def test_overlapping_decisions_are_never_silently_overwritten(backend, tmp_path):  # noqa: F811
    _, db = backend
    project, ids = _project_with_proposals(tmp_path, db)
    a_ids, b_ids = ids[:40], list(reversed(ids[20:]))  # they meet in the overlap from both ends
    a, b = _race(tmp_path, project, "decide", a_ids, b_ids)
    with project.store.read() as conn:
        rows = {r.id: r for r in conn.execute(select(t.codings.c.id, t.codings.c.status, t.codings.c.coder))}
        logged = [r.target for r in conn.execute(select(t.audit_log.c.target).where(
            t.audit_log.c.action.in_(["accept", "reject"])))]
    assert all(a[i] == "ok" for i in ids[:20]) and all(b[i] == "ok" for i in ids[40:])
    for i in ids[20:40]:  # exactly one coder decided each overlapping proposal; the other was told
        assert sorted([a[i], b[i]]) == ["conflict", "ok"], i
    for i in ids:
        winner = ("甲", "accepted") if a.get(i) == "ok" else ("乙", "rejected")
        assert (rows[i].coder, rows[i].status) == winner
    assert sorted(logged) == sorted(f"coding {i}" for i in ids)  # one audit entry per applied decision


def test_accept_and_reject_commands_at_the_same_time(backend, tmp_path):  # noqa: F811
    _, db = backend
    project, ids = _project_with_proposals(tmp_path, db)
    a, b = _race(tmp_path, project, "command", ids[:40], ids[20:])
    with project.store.read() as conn:
        rows = {r.id: r for r in conn.execute(select(t.codings.c.id, t.codings.c.status, t.codings.c.coder))}
        entries = conn.execute(select(t.audit_log.c.id, t.audit_log.c.coder, t.audit_log.c.detail).where(
            t.audit_log.c.action.in_(["accept", "reject"])).order_by(t.audit_log.c.id)).all()
    # no transaction failed ("database is locked", serialisation errors): every id got an answer
    assert set(a) == set(ids[:40]) and set(b) == set(ids[20:])
    for i in ids[20:40]:  # each overlapping proposal: one coder decided it, the other was told
        assert sorted([a[i], b[i]]) == ["conflict", "ok"], i
    decided = {}
    for _, coder, detail in entries:  # every applied decision is in the audit log, once
        for change in json.loads(detail)["updated"]["codings"]:
            assert change["id"] not in decided
            decided[change["id"]] = (coder, change["after"]["status"])
    assert set(decided) == set(ids)
    for i in ids:
        assert (rows[i].coder, rows[i].status) == decided[i]
        assert decided[i] == (("甲", "accepted") if a.get(i) == "ok" else ("乙", "rejected"))
