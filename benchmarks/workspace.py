"""Workspace speed (issue 20): server time of the browser workspace's three hot paths.

    python benchmarks/workspace.py            # prints the figures against the targets

A project with one 500-passage interview (250 question/answer pairs) and 1,000 codings on
it (rule proposals from ``autocode`` plus hand codings of answer spans to make up 1,000),
served on 127.0.0.1 by ``qualcode.web.bind`` in a thread. The figure is the server's time
to make the response (its ``Server-Timing`` header), the median of repeated requests; the
round trip an HTTP client on the same machine sees is printed beside it:

* the reader: GET /doc/ID, the whole 500-passage page          target < 300 ms
* a selection → a saved coding: POST /api/code, which saves it
  and draws the affected passage again (what the page does)      target < 100 ms
* the review queue's next item: GET /review?order=uncertainty    target < 50 ms
  after a decision (and POST /api/review, the decision itself, for reference)
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qualcode import annotate  # noqa: E402
from qualcode.autocode.run import autocode  # noqa: E402
from qualcode.ingest import pipeline  # noqa: E402
from qualcode.project import Project  # noqa: E402
from qualcode.store import queries  # noqa: E402
from qualcode.web import bind  # noqa: E402

ANSWERS = [
    "我们社区的老党员成立了互助站，退休党员轮流值班，帮助独居老人买菜、看病。",
    "街道大工委把驻区单位拉进来，资源清单和需求清单一对接，项目就落地了。",
    "网格党支部建在楼栋上，楼组长都是党员，有事先在议事厅里商量。",
    "疫情的时候，志愿者和物业一起守卡口，居民自己组织起来送菜上门。",
    "业委会选举之前，我们先开居民议事会，听取大家意见，再按程序办。",
]


def build(root: Path) -> tuple[Project, int]:
    lines = []
    for i in range(250):
        lines.append(f"问：第{i + 1}个问题，您能具体讲讲吗？")
        lines.append(f"答：{ANSWERS[i % len(ANSWERS)]}第{i + 1}次说到这件事，大家都记得。")
    source = root / "in" / "长访谈.txt"
    source.parent.mkdir(parents=True)
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    project = Project.init(root / "project")
    assert pipeline.import_paths(project, [source], pipeline.ImportOptions(case="N街道")).ok
    autocode(project, project.codebook())
    doc_id = queries.list_documents(project.store)[0]["id"]
    paths = [c.path for c in project.codebook().codes]
    n = len(annotate.list_codings(project, doc=str(doc_id)))
    passages = queries.passages(project.store, doc_ids=[doc_id])
    i = 0
    while n < 1000:
        p = passages[(2 * i + 1) % len(passages)]
        start = p["start"] + 2 + (i // len(passages)) % 10
        annotate.add_coding(project, paths[i % len(paths)], doc=str(doc_id), start=start, end=start + 12,
                            coder=f"coder{i % 3}")
        n += 1
        i += 1
    return project, doc_id


def server_ms(response: httpx.Response) -> float:
    """The server's own time for a response (its Server-Timing header, ``app;dur=…``)."""
    return float(response.headers["server-timing"].split("dur=")[1])


def medians(f, repeat: int) -> tuple[float, float]:
    """Median server time and median round trip (client-measured) of ``repeat`` calls of ``f``."""
    server, client = [], []
    for i in range(repeat):
        t = time.perf_counter()
        response = f(i)
        client.append((time.perf_counter() - t) * 1000)
        server.append(server_ms(response))
    return statistics.median(server), statistics.median(client)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        project, doc_id = build(Path(tmp))
        n_passages = len(queries.passages(project.store, doc_ids=[doc_id]))
        n_codings = len(annotate.list_codings(project, doc=str(doc_id)))
        served = bind(project, port=0, coder="bench").start()
        client = httpx.Client(base_url=served.base, timeout=60)
        client.get(served.url, follow_redirects=True)
        csrf = {"X-CSRF-Token": served.workspace.csrf}
        passages = queries.passages(project.store, doc_ids=[doc_id])

        def reader(_):
            r = client.get(f"/doc/{doc_id}")
            assert r.status_code == 200 and r.text.count('class="passage') == n_passages
            return r

        def code(i):
            p = passages[(2 * i) % len(passages)]  # questions: no hand codings there yet
            r = client.post("/api/code", headers=csrf, json={
                "doc": doc_id, "start": p["start"] + 2, "end": p["start"] + 6, "code": "embedding/retirees",
                "view": {"doc": doc_id, "status": ["proposed", "accepted"]}})
            assert r.status_code == 200 and r.json()["passages"], r.text
            return r

        def next_item(_):
            r = client.get("/review?order=uncertainty")
            assert r.status_code == 200 and 'class="review"' in r.text
            return r

        def decide(_):
            r = client.post("/api/review", headers=csrf, json={"action": "accept", "order": "uncertainty"})
            assert r.status_code == 200, r.text
            return r

        reader(0)  # warm up: templates compiled, codebook parsed once
        figures = [
            (f"reader: {n_passages}-passage document, {n_codings} codings", *medians(reader, 10), 300),
            ("selection → saved coding (and its passage drawn again)", *medians(code, 30), 100),
            ("review queue: next item", *medians(next_item, 30), 50),
            ("review queue: a decision (for reference)", *medians(decide, 20), None),
        ]
        served.stop()
        project.close()
    print("qualcode workspace benchmark: median server time (Server-Timing), and the round trip seen by a client")
    for name, ms, trip, target in figures:
        verdict = "" if target is None else ("  ok" if ms < target else "  SLOWER THAN TARGET")
        aim = "" if target is None else f" (target < {target} ms)"
        print(f"  {name}: {ms:.1f} ms{aim}{verdict}; round trip {trip:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
