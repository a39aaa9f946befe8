"""The review queue (orders, skips, resume, undo) and the terminal loop in a real pseudo-terminal."""
from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

from qualcode.annotate.review import ReviewSession, probability
from tests.annotate.helpers import coded_project, codings, run

# Proposals in the fixture project: id → (passage, code, score)
#   1 1:2 embedding/leadership 2 · 2 1:2 embedding/retirees 1 · 3 1:2 governance/legitimacy 0.5
#   4 1:4 construction/network 2 · 5 1:4 governance/responsiveness 3


@pytest.fixture
def project(tmp_path, tmp_path_factory):
    p = coded_project(tmp_path_factory, tmp_path / "study")
    yield p
    p.close()


def ids(session):
    return [r["id"] for r in session.pending()]


def test_orders(project):
    assert ids(ReviewSession(project, coder="王")) == [1, 2, 3, 4, 5]
    assert ids(ReviewSession(project, coder="王", order="confidence")) == [5, 1, 4, 2, 3]
    assert ids(ReviewSession(project, coder="王", order="uncertainty")) == [2, 3, 1, 4, 5]
    assert ids(ReviewSession(project, coder="王", code="governance")) == [3, 5]
    assert probability("rule", "1") == 0.5 and probability("model", "0.93") == 0.93
    assert probability("rule", None) == 0.5 and probability("model", "2") == 1.0


def test_an_item_has_context_evidence_and_definition(project):
    item = ReviewSession(project, coder="王", code="legitimacy").current()
    assert item.passage["passage"] == "1:2" and item.passage["speaker"] == "答" and item.passage["role"] == "interviewee"
    assert [t["passage"] for t in item.before] == ["1:1"] and [t["passage"] for t in item.after] == ["1:3"]
    assert item.evidence == [("推选出来", 47, 51)]
    assert item.code_label == "合法性 / Legitimacy" and item.definition.startswith("居民接受并认可")
    assert (item.position, item.total) == (1, 1)


def test_keys_are_saved_at_once_and_a_restart_resumes(project):
    s = ReviewSession(project, coder="王")
    s.accept()          # 1
    s.skip()            # 2
    s.reject()          # 3
    assert s.current().coding["id"] == 4
    again = ReviewSession(project, coder="王")  # a new process: state from the store
    assert again.current().coding["id"] == 4
    assert ids(again) == [4, 5]
    assert codings(project, "id in (1, 3)") == [
        (1, 20, 53, "embedding/leadership", "王", "rule", "accepted"),
        (3, 20, 53, "governance/legitimacy", "王", "rule", "rejected")]
    # each coder and each queue (filters, order) has its own place; decisions are per coder
    # (issue 19), so 王's decisions leave 李's queue whole: it starts at proposal 1
    assert ReviewSession(project, coder="李").current().coding["id"] == 1
    assert ids(ReviewSession(project, coder="李")) == [1, 2, 3, 4, 5]
    assert ReviewSession(project, coder="王", order="confidence").current().coding["id"] == 5
    again.reset()
    assert ReviewSession(project, coder="王").current().coding["id"] == 2


def test_change_code_add_code_memo_and_undo(project):
    s = ReviewSession(project, coder="王", code="embedding")
    assert s.add_code("governance/legitimacy").startswith("also coded governance/legitimacy")
    assert s.current().coding["id"] == 1  # still to decide
    assert s.memo("站长是老党员") == "memo saved on coding 1"
    s.change_code("context/social_capital")
    assert s.current().coding["id"] == 2
    manual = codings(project, "origin='manual'")
    assert [(c[3], c[4]) for c in manual] == [("governance/legitimacy", "王"), ("context/social_capital", "王")]
    assert codings(project, "id=1")[0][6] == "rejected"
    assert s.undo().startswith("undid recode")
    assert s.current().coding["id"] == 1 and codings(project, "id=1")[0][6] == "proposed"
    s.skip()
    assert s.undo() == "back to proposal 1"
    s.undo()  # the memo
    s.undo()  # the added code
    assert codings(project, "origin='manual'") == []
    assert s.undo() == "nothing to undo in this review"


def test_a_proposal_this_coder_decided_elsewhere_is_not_shown(project):
    from sqlalchemy import insert, select

    from qualcode.store import schema as t

    with project.store.transaction() as conn:
        row = dict(conn.execute(select(t.codings).where(t.codings.c.id == 2)).mappings().one())
        row.update(id=None, coder="王", status="rejected")
        del row["id"]
        conn.execute(insert(t.codings).values(**row))
    assert ids(ReviewSession(project, coder="王")) == [1, 3, 4, 5]
    assert ids(ReviewSession(project, coder="李")) == [1, 2, 3, 4, 5]


# ---------------------------------------------------------------------------- pseudo-terminal


class Terminal:
    """A child process on a real pty: what an SSH session gives the program."""

    def __init__(self, args, env):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.out = b""

    def expect(self, text: str, timeout: float = 15) -> str:
        deadline = time.time() + timeout
        while text not in self.screen():
            if time.time() > deadline:
                raise AssertionError(f"{text!r} not seen; screen so far:\n{self.screen()}")
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    self.out += os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    break
        return self.screen()

    def send(self, keys: str) -> None:
        self.out = b""
        os.write(self.master, keys.encode())

    def screen(self) -> str:
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", self.out.decode("utf-8", "replace"))

    def close(self) -> int:
        code = self.proc.wait(timeout=15)
        os.close(self.master)
        return code


def _review(project, *args, color=True):
    env = dict(os.environ, TERM="xterm-256color" if color else "dumb", COLUMNS="100", LINES="40",
               QUALCODE_CODER="王", PYTHONPATH=os.pathsep.join(sys.path))
    env.pop("NO_COLOR", None)
    if not color:
        env["NO_COLOR"] = "1"
    return Terminal([sys.executable, "-m", "qualcode.cli", "--project", str(project.root), "review", *args], env)


def test_review_in_a_pseudo_terminal(project):
    term = _review(project, "--code", "embedding")
    screen = term.expect("[q]uit [?]\r\n> ")
    assert "[1/2]  1:2  互助站访谈" in screen
    assert "1:1 问: 您好，请您介绍一下互助站是怎么成立的？" in screen  # the turn before
    assert "▶ 1:2 答 (interviewee): 我们互助站是二〇一九年成立的。" in screen
    assert "1:3 问: 居民有事一般找谁？" in screen  # the turn after
    assert "proposal 1: embedding/leadership  带头人" in screen and "党员担任自治组织的负责人。" in screen
    assert "evidence: 站长, 老党员" in screen
    assert b"\x1b[1;30;43m\xe7\xab\x99\xe9\x95\xbf" in term.out  # 站长 highlighted, not just printed
    term.send("a")  # a single key, no Enter: cbreak mode
    screen = term.expect("accepted embedding/leadership on 1:2")
    assert "[1/1]" in screen and "proposal 2: embedding/retirees" in screen
    term.send("m")
    term.expect("memo (one line; empty cancels): ")
    term.send("退休后当了站长\n")
    term.expect("memo saved on coding 2")
    term.send("q")
    term.expect("Saved. 1 proposals left; run the same command to resume.")
    assert term.close() == 0
    assert codings(project, "id=1")[0][4:] == ("王", "rule", "accepted")

    term = _review(project, "--code", "embedding", color=False)  # resumes; plain terminal
    screen = term.expect("[q]uit [?]\r\n> ")
    assert "proposal 2: embedding/retirees" in screen and "站长是【退休】的老党员" in screen
    term.send("r")
    term.expect("No proposals left to review.")
    assert term.close() == 0
    assert codings(project, "id=2")[0][4:] == ("王", "rule", "rejected")


def test_review_when_nothing_is_proposed(runner, project):
    r = run(runner, project, "review", "--code", "context", "--coder", "王")
    assert r.exit_code == 0 and r.output == "No proposals left to review.\n"
    bad = run(runner, project, "review", "--order", "random")
    assert bad.exit_code == 2


def test_review_reads_one_key_per_line_from_a_pipe(runner, project):
    r = run(runner, project, "review", "--code", "governance", "--coder", "王", input="s\nc\nsocial_capital\n")
    assert r.exit_code == 0, r.output
    assert "skipped governance/legitimacy on 1:2" in r.output
    assert r.output.endswith("No proposals left to review. 1 skipped (run with --reset to see them again).\n")
    assert [(c[3], c[6]) for c in codings(project, "id=5 or origin='manual'")] == [
        ("governance/responsiveness", "rejected"), ("context/social_capital", "accepted")]
    r = run(runner, project, "review", "--code", "governance", "--coder", "王")
    assert r.output == "No proposals left to review. 1 skipped (run with --reset to see them again).\n"
    r = run(runner, project, "review", "--code", "governance", "--coder", "王", "--reset", input="x\nq\n")
    assert "unknown key 'x'; press ? for help" in r.output
    assert r.output.endswith("Saved. 1 proposals left; run the same command to resume.\n")
