"""The workspace over HTTP (no browser): the token and CSRF rules, escaping, the conflict
rules, and that its actions are the library's (audit log, undo, review session, codebook)."""
from __future__ import annotations

import httpx
import pytest

from qualcode import annotate
from qualcode.annotate.review import ReviewSession
from qualcode.store import queries

XSS = '<img src=x onerror="alert(1)">'


@pytest.fixture
def client(served):
    with httpx.Client(base_url=served.base, timeout=60) as c:
        first = c.get(served.url)
        assert first.status_code == 303 and first.headers["location"] == "/"  # the token leaves the address bar
        assert "httponly" in first.headers["set-cookie"].lower() and "samesite=strict" in first.headers["set-cookie"].lower()
        c.headers["X-CSRF-Token"] = served.workspace.csrf
        yield c


def proposal(project, doc="4") -> dict:
    return next(r for r in annotate.list_codings(project, doc=doc, status=["proposed"]))


@pytest.mark.parametrize("path", ["/", "/doc/4", "/review", "/codebook", "/reports", "/drill?code=embedding", "/log",
                                  "/static/app.js", "/nowhere"])
def test_without_the_token_every_page_is_403(served, path):
    with httpx.Client(base_url=served.base) as c:
        assert c.get(path).status_code == 403
        assert c.get(path + ("&" if "?" in path else "?") + "token=wrong").status_code == 403
        c.cookies.set("qualcode_token", "wrong")
        response = c.get(path)
        assert response.status_code == 403 and "qualcode serve" in response.text


def test_without_the_token_no_change_is_made(served, corpus_project):
    row = proposal(corpus_project)
    with httpx.Client(base_url=served.base) as c:
        r = c.post("/api/decide", json={"id": row["id"], "decision": "accept"},
                   headers={"X-CSRF-Token": served.workspace.csrf})
    assert r.status_code == 403
    assert annotate.list_codings(corpus_project, doc="4", status=["accepted"]) == []


def test_a_change_needs_the_csrf_token_and_this_origin(client, served, corpus_project):
    row = proposal(corpus_project)
    body = {"id": row["id"], "decision": "accept"}
    assert client.post("/api/decide", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/api/decide", json=body, headers={"Origin": "http://evil.example"}).status_code == 403
    assert annotate.list_codings(corpus_project, doc="4", status=["accepted"]) == []
    ok = client.post("/api/decide", json=body, headers={"Origin": served.base})
    assert ok.status_code == 200
    assert [r["id"] for r in annotate.list_codings(corpus_project, doc="4", status=["accepted"])] == [row["id"]]


def test_nothing_outside_the_workspace_is_served(client):
    for path in ["/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2f..%2fqualcode.toml", "/qualcode.toml",
                 "/qualcode.db", "/static//etc/passwd"]:
        r = client.get(path)
        assert r.status_code == 404, path
        assert "[project]" not in r.text and "import" not in r.text
    assert client.get("/static/app.css").status_code == 200


def test_pages_carry_a_strict_content_security_policy(client):
    r = client.get("/")
    policy = r.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in r.text  # no inline script: data islands are type="application/json" only


def test_memos_case_names_and_attributes_are_escaped(client, corpus_project):
    row = proposal(corpus_project)
    assert client.post("/api/memo", json={"type": "coding", "target": str(row["id"]), "text": XSS}).status_code == 200
    assert client.post("/api/memo", json={"type": "passage", "target": row["passage"], "text": XSS}).status_code == 200
    r = client.post("/api/doc-meta", json={"doc": 4, "case": XSS, "role_code": "</script><script>alert(1)</script>",
                                           "attributes": f"note={XSS}"})
    assert r.status_code == 200 and r.json()["case"] == XSS
    for path in ("/doc/4", "/", "/reports?by=note"):
        page = client.get(path).text
        assert "<img" not in page and "<script>alert" not in page, path
        assert "&lt;img src=x onerror=" in page, path


def test_another_coders_decision_is_never_overwritten(client, corpus_project):
    row = proposal(corpus_project)
    annotate.decide(corpus_project, "rejected", [row["id"]], coder="李")
    r = client.post("/api/decide", json={"id": row["id"], "decision": "accept"})
    assert r.status_code == 200  # 王老师's own decision on the same proposal (the library's per-coder rule)
    mine = {(c["coder"], c["status"]) for c in annotate.list_codings(corpus_project, doc="4")
            if (c["start"], c["end"], c["code"]) == (row["start"], row["end"], row["code"])}
    assert ("李", "rejected") in mine and ("王老师", "accepted") in mine
    theirs = annotate.add_coding(corpus_project, "embedding", passage=row["passage"], coder="李")
    for action, body in [("remove", {"id": theirs["id"]}), ("recode", {"id": theirs["id"], "code": "governance"})]:
        r = client.post(f"/api/{action}", json=body)
        assert r.status_code == 409 and r.json()["conflict"] and "李" in r.json()["error"], action
    with corpus_project.store.read() as conn:
        after = annotate.resolve_coding(conn, theirs["id"])
    assert (after["status"], after["coder"], after["code"]) == ("accepted", "李", "embedding")


def test_coding_a_span_is_the_librarys_code_add_and_undo_reverts_it(client, corpus_project):
    p = queries.passages(corpus_project.store, doc_ids=[4])[1]
    r = client.post("/api/code", json={"doc": 4, "start": p["start"] + 2, "end": p["start"] + 9, "code": "离退休党员",
                                       "view": {"doc": 4, "status": ["accepted"]}})
    assert r.status_code == 200
    seq = p["passage"].split(":")[1]
    assert list(r.json()["passages"]) == [seq]  # the passage, drawn again with the new coding
    assert f'data-id="{r.json()["coding"]}"' in r.json()["passages"][seq]
    row = annotate.list_codings(corpus_project, coder="王老师")[0]
    assert (row["code"], row["text"], row["origin"]) == ("embedding/retirees", p["text"][2:9], "manual")
    assert annotate.audit_log(corpus_project, limit=1)[0]["action"] == "code-add"
    assert client.post("/api/undo", json={}).status_code == 200
    assert annotate.list_codings(corpus_project, coder="王老师") == []


def test_a_bad_request_is_a_message_not_a_crash(client):
    r = client.post("/api/code", json={"doc": 4, "start": 5, "end": 3, "code": "embedding"})
    assert r.status_code == 400 and "outside" in r.json()["error"]
    r = client.post("/api/code", json={"doc": 4, "start": 1, "end": 3, "code": "no-such-code"})
    assert r.status_code == 400 and "no code" in r.json()["error"]
    assert client.post("/api/code", content=b"not json").status_code == 400
    assert client.post("/api/nothing", json={}).status_code == 404
    assert client.get("/doc/999").status_code == 404


def test_the_review_page_drives_the_terminals_session(client, corpus_project):
    terminal = ReviewSession(corpus_project, coder="王老师", order="confidence")
    first = terminal.current().coding["id"]
    terminal.skip()
    second = terminal.current().coding["id"]
    page = client.get("/review?order=confidence").text
    assert f'data-coding="{second}"' in page  # resumes where the terminal stopped
    assert client.post("/api/review", json={"order": "confidence", "action": "accept"}).status_code == 200
    with corpus_project.store.read() as conn:
        assert annotate.resolve_coding(conn, second)["status"] == "accepted"
        assert annotate.resolve_coding(conn, first)["status"] == "proposed"  # skipped, still to decide
    again = ReviewSession(corpus_project, coder="王老师", order="confidence")
    assert again.current().coding["id"] not in (first, second)
    assert f'data-coding="{again.current().coding["id"]}"' in client.get("/review?order=confidence").text


def test_an_in_vivo_code_from_a_selection_goes_into_the_codebook_yaml(client, corpus_project):
    p = queries.passages(corpus_project.store, doc_ids=[4])[1]
    r = client.post("/api/new-code", json={"id": "red_property", "parent": "governance", "label": "红色物业",
                                           "doc": 4, "start": p["start"], "end": p["start"] + 4})
    assert r.status_code == 200, r.text
    text = corpus_project.codebook_path.read_text(encoding="utf-8")
    assert "red_property" in text and "红色物业" in text
    assert corpus_project.codebook().get("governance/red_property").meta["in_vivo"] is True
    assert [c["code"] for c in annotate.list_codings(corpus_project, coder="王老师")] == ["governance/red_property"]
    assert "红色物业" in client.get("/codebook").text  # the cached codebook follows the file


def test_speaker_roles_and_attributes_are_corrected_in_place(client, corpus_project):
    detail = queries.document_detail(corpus_project.store, 4)
    speaker = detail["speakers"][0]["label"]
    assert client.post("/api/doc-role", json={"doc": 4, "speaker": speaker, "role": "其他"}).status_code == 200
    assert client.post("/api/doc-meta", json={"doc": 4, "case": "M街道", "role_code": "书记A",
                                              "attributes": "place=会议室\n"}).status_code == 200
    after = queries.document_detail(corpus_project.store, 4)
    assert after["speakers"][0]["role"] == "other" and after["case"] == "M街道"
    assert after["attributes"] == {"role": "书记A", "place": "会议室"}  # the keys left out were removed
    bad = client.post("/api/doc-meta", json={"doc": 4, "case": "x", "attributes": "no equals sign"})
    assert bad.status_code == 400 and queries.document_detail(corpus_project.store, 4)["case"] == "M街道"
    # the edit is in the audit log like 'qualcode docs set', and undo reverts it
    from qualcode.annotate.audit import audit_log, undo
    assert "docs-set" in [e["action"] for e in audit_log(corpus_project)]
    undo(corpus_project, n=len([e for e in audit_log(corpus_project) if e["action"] == "docs-set"]))
    assert queries.document_detail(corpus_project.store, 4)["case"] == detail["case"]


def test_the_language_switch_keeps_the_page(client):
    r = client.get("/lang/en?next=/codebook")
    assert r.status_code == 303 and r.headers["location"] == "/codebook"
    assert "Codebook" in client.get("/codebook").text
    assert client.get("/lang/zh?next=//evil.example").headers["location"] == "/"


def test_the_chain_page_shows_the_librarys_chain_report_with_links_to_passages(client, corpus_project):
    from qualcode.reports import Selection, chain, load

    table = chain(load(corpus_project, Selection(proposed=True)))
    page = client.get("/chain?proposed=1").text
    assert page.count('<tr class="chain-') == len(table)
    quoted = table[table["passage"] != ""].iloc[0]
    doc, seq = quoted["passage"].split(":")
    assert f'href="/doc/{doc}?focus={seq}#p-{seq}"' in page


def _queue(page: str) -> dict:
    import json
    import re

    return json.loads(re.search(r'<script type="application/json" id="queue">(.*?)</script>', page).group(1))


def test_adjudication_settles_through_the_library_with_a_reason_and_the_csrf_token(client, corpus_project):
    from qualcode.annotate.adjudicate import AdjudicationSession
    from tests.web.helpers import two_coders_disagree

    split = two_coders_disagree(corpus_project)
    page = client.get("/adjudicate?coder=王&coder=李").text
    q = _queue(page)
    assert (q["unit"], q["code"]) == (split[0]["passage"], "construction/hub")
    assert client.post("/api/adjudicate", json=dict(q, action="settle", value="not coded", reason="x"),
                       headers={"X-CSRF-Token": "forged"}).status_code == 403
    no_reason = client.post("/api/adjudicate", json=dict(q, action="settle", value="not coded", reason=" "))
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]
    ok = client.post("/api/adjudicate", json=dict(q, action="settle", value="not coded", reason="只是介绍背景"))
    assert ok.status_code == 200
    assert 'data-agreed="0"' not in client.get("/adjudicate?coders=王,李").text  # agreements went in first
    again = client.post("/api/adjudicate", json=dict(q, action="settle", value="coded", reason="改主意"))
    assert again.status_code == 409  # the page showed an item settled since: nothing changed
    record = AdjudicationSession(corpus_project, ["王", "李"]).settled()
    settled = [(r["unit"], r["result"], r["reason"]) for r in record if r["kind"] == "settled"]
    assert settled == [(split[0]["passage"], 0, "只是介绍背景")]
    assert _queue(client.get("/adjudicate?coders=王,李").text)["unit"] == split[1]["passage"]
    # undo takes back this adjudication's last settlement only
    assert client.post("/api/adjudicate", json=dict(q, action="undo")).status_code == 200
    assert [r for r in AdjudicationSession(corpus_project, ["王", "李"]).settled() if r["kind"] == "settled"] == []


def test_the_adjudication_page_escapes_memos_and_says_the_votes(client, corpus_project):
    from tests.web.helpers import two_coders_disagree

    split = two_coders_disagree(corpus_project)
    annotate.add_memo(corpus_project, "coding", str(split[0]["id"]), XSS, coder="王")
    page = client.get("/adjudicate?coders=王,李").text
    assert XSS not in page and "&lt;img src=x" in page
    assert 'data-coder="王" data-vote="1"' in page and 'data-coder="李" data-vote="0"' in page
    assert "编码了" in page and "未编码" in page
    client.cookies.set("qualcode_lang", "en")
    assert "Adjudication" in client.get("/adjudicate?coders=王,李").text
    chooser = client.get("/adjudicate").text
    assert 'value="王"' in chooser and 'value="autocode"' not in chooser  # people who coded, not the rule runs


def test_the_chain_page_says_statuses_and_breaks_in_the_page_language(client, corpus_project):
    from qualcode.reports import Selection, chain, chain_summary, load

    table = chain(load(corpus_project, Selection(proposed=True)))
    zh = client.get("/chain?proposed=1").text
    words = {"present": "存在", "absent": "缺失", "not discussed": "未谈及"}
    for status in set(table["status"]):
        assert f'data-status="{status}">{words[status]}</td>' in zh
    assert "breaks at" not in zh and "the chain holds" not in zh
    client.cookies.set("qualcode_lang", "en")
    en = client.get("/chain?proposed=1").text
    for line in chain_summary(table):  # in English the page says what the library says
        assert f"<li>{line}</li>" in en.replace("&#39;", "'")


def test_the_reader_shows_a_speaker_who_is_named_by_the_role_once(client):
    import re

    page = client.get("/doc/4").text
    metas = re.findall(r'<span class="speaker role-(\w+)">([^<]*)</span>\s*(<span class="role">([^<]*)</span>)?', page)
    same = [m for m in metas if m[1] in ("访谈者", "受访者")]
    assert same and all(m[2] == "" for m in same)  # 访谈者, not 访谈者 访谈者


def test_removing_a_document_needs_csrf_and_its_name_saves_a_csv_and_undo_restores_it(client, corpus_project):
    before = queries.document_detail(corpus_project.store, 4)
    codings = annotate.list_codings(corpus_project, doc="4")
    assert codings
    assert 'class="remove-doc" data-name="' + before["name"] + '"' in client.get("/").text
    outputs = corpus_project.root / "outputs"
    body = {"doc": 4, "confirm": before["name"]}
    assert client.post("/api/doc-remove", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert client.post("/api/doc-remove", json=body, headers={"Origin": "http://evil.example"}).status_code == 403
    wrong = client.post("/api/doc-remove", json={"doc": 4, "confirm": "yes"})
    assert wrong.status_code == 400 and before["name"] in wrong.json()["error"]
    assert 4 in [d["id"] for d in queries.list_documents(corpus_project.store)]
    assert not list(outputs.glob("removed-*.csv"))
    r = client.post("/api/doc-remove", json=body)
    assert r.status_code == 200, r.text
    assert 4 not in [d["id"] for d in queries.list_documents(corpus_project.store)]
    assert 'data-doc="4"' not in client.get("/").text
    [backup] = outputs.glob("removed-*.csv")
    assert r.json()["backup"] == backup.relative_to(corpus_project.root).as_posix()
    import csv
    with backup.open(encoding="utf-8-sig", newline="") as f:
        saved = [row for row in csv.DictReader(f) if row["kind"] == "coding"]
    assert sorted(int(row["id"]) for row in saved) == sorted(c["id"] for c in codings)
    assert annotate.audit_log(corpus_project, limit=1)[0]["action"] == "docs-remove"
    assert client.post("/api/undo", json={}).status_code == 200
    after = queries.document_detail(corpus_project.store, 4)
    assert (after["name"], after["case"], after["attributes"]) == (before["name"], before["case"], before["attributes"])
    assert sorted(c["id"] for c in annotate.list_codings(corpus_project, doc="4")) == sorted(c["id"] for c in codings)
