"""A small synthetic study for the evaluation, combined scorer and learning-curve tests.

Answers draw phrases from pools with a known code: deliberation (商量, 议事会 …; the rule
knows only 商量 and 协商会), crisis (疫情, 封控, 核酸 …; the rule knows 疫情 and 封控) and
legitimacy (no rule at all: only the codebook's definition and examples speak for it);
everyday chatter carries nothing. ``gold_csv`` writes the true codes as a gold file.
``stale_gold_rows`` checks a bundled gold file against the passages the importer makes.
"""
from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from qualcode.cli import cli
from qualcode.ingest.pipeline import ImportOptions, import_paths
from qualcode.project import Project
from qualcode.store import queries
from tests.helpers import write_text

DELIB = "mobilization/deliberation"
CRISIS = "context/crisis"
LEGIT = "governance/legitimacy"
POOLS = {
    DELIB: ["我们把楼里的住户叫到一起商量", "议事会上大家你一句我一句", "停车的事情开了三次协商会",
            "业主代表和物业坐下来谈", "最后大家投票定下来", "意见不一样就再商量"],
    CRISIS: ["疫情那会儿小区封控了", "我们挨家挨户送物资", "做核酸排队排到晚上",
             "封楼的时候志愿者守在门口", "隔离的老人要送药", "防疫物资不够就去借"],
    LEGIT: ["居民都认这个书记", "大家信得过他", "他说话居民愿意听", "老百姓服他", "居民心里认可", "有威望说话管用"],
    None: ["我家孩子今年上初中", "早上去菜市场买菜", "这几天天气特别热",
           "退休以后喜欢打太极", "周末带孙子去公园", "晚饭后在楼下散步"],
}
QUESTIONS = ["您能讲讲平时的情况吗？", "后来怎么样了？", "这个您怎么看？", "还有别的吗？"]
CODEBOOK = """\
format: 1
name: combined_test
codes:
  - id: mobilization
    label: 组织动员
    children:
      - id: deliberation
        label: 多元协商
        definition: 居民、业主和物业坐在一起协商议事，共同商量定下办法。
        examples:
          - quote: 议事会上大家把意见摆出来商量，最后投票定下来。
          - quote: 开协商会，业主代表和物业一起坐下来谈。
        rules:
          - id: words
            any: [商量, 协商会]
  - id: governance
    label: 社区善治
    children:
      - id: legitimacy
        label: 合法性
        definition: 居民认可、信得过社区组织和它的负责人，愿意听他们的。
        examples:
          - quote: 居民都认他，信得过，他说话大家愿意听。
          - quote: 老百姓服这个书记，心里认可。
  - id: context
    label: 情境
    children:
      - id: crisis
        label: 危机应对
        definition: 疫情封控、隔离等危机中的应对：送物资、做核酸、守门。
        examples:
          - quote: 封控的时候我们挨家挨户送物资，组织做核酸。
        rules:
          - id: words
            any: [疫情, 封控]
"""


def transcript(rng: random.Random, n: int = 10) -> str:
    lines = []
    for _ in range(n):
        pool = POOLS[rng.choice([DELIB, CRISIS, LEGIT, None])]
        lines += [f"问：{rng.choice(QUESTIONS)}", "答：" + "，".join(rng.sample(pool, 2) + rng.sample(POOLS[None], 1)) + "。"]
    return "\n".join(lines) + "\n"


def true_code(text: str) -> str | None:
    for code in (DELIB, CRISIS, LEGIT):
        if any(phrase in text for phrase in POOLS[code]):
            return code
    return None


def make_study(root: Path, documents: int = 6, turns: int = 10, seed: int = 11) -> Project:
    rng = random.Random(seed)
    for d in range(1, documents + 1):
        write_text(root / "src" / f"访谈{d}.txt", transcript(rng, turns))
    project = Project.init(root / "study")
    project.use_codebook(write_text(root / "study" / "codebooks" / "combined_test.yaml", CODEBOOK))
    import_paths(project, [root / "src"], ImportOptions())
    return project


def gold_csv(project: Project, path: Path, doc_ids: list[int]) -> Path:
    """The true codes of these documents' passages as a gold file (the format of corpus/gold)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["document", "start", "end", "text", "code"])
        for row in queries.passages(project.store, doc_ids=doc_ids):
            code = true_code(row["text"])
            if code:
                w.writerow([row["document"], row["start"], row["end"], row["text"], code])
    return path


GOLD_COLUMNS = ["document", "case", "speaker", "role", "passage", "start", "end", "text",
                "code", "coder", "origin", "status", "evidence"]


def stale_gold_rows(runner, project, gold: Path) -> list[str]:
    """``file:line document start-end`` of every row of ``gold`` whose passage the project's
    importer no longer makes (same offsets, reference, text, speaker, role and case)."""
    result = runner.invoke(cli, ["--project", str(project.root), "export", "passages", "--format", "json",
                                 "-o", "-"])
    assert result.exit_code == 0, result.output
    passages = {(p["document"], p["start"], p["end"]): p for p in json.loads(result.stdout)}
    with open(gold, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and list(rows[0]) == GOLD_COLUMNS
    stale = []
    for line, row in enumerate(rows, start=2):
        passage = passages.get((row["document"], int(row["start"]), int(row["end"])))
        copied = {k: row[k] for k in ("document", "case", "speaker", "role", "passage", "text")}
        if passage is None or {k: str(passage[k]) for k in copied} != copied:
            stale.append(f"{gold.name}:{line} {row['document']} {row['start']}-{row['end']}")
    return stale
