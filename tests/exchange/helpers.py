"""Helpers for the REFI-QDA tests: snapshots of a project, hand-built archives, direct inserts."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from sqlalchemy import insert, select

from qualcode.store import queries, schema as t, utcnow


def qde_of(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read("project.qde")


def make_zip(path: Path, members: dict[str, bytes | str]) -> Path:
    """A zip with exactly these members (str members are UTF-8 encoded)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)
    path.write_bytes(buf.getvalue())
    return path


def doc_id(project, name: str) -> int:
    with project.store.read() as conn:
        return conn.execute(select(t.documents.c.id).where(t.documents.c.name == name)).scalar_one()


def add_coding(project, doc: str, start: int, end: int, code: str, coder: str = "王研究员", status: str = "accepted") -> int:
    now = utcnow()
    with project.store.transaction() as conn:
        return conn.execute(insert(t.codings).values(
            document_id=doc_id(project, doc), start=start, end=end, code=code, coder=coder, origin="manual",
            status=status, unit="span", created_at=now, updated_at=now,
        ).returning(t.codings.c.id)).scalar_one()


def add_memo(project, target_type: str, target: str, text: str, coder: str = "王研究员") -> None:
    with project.store.transaction() as conn:
        conn.execute(insert(t.memos).values(target_type=target_type, target=target, coder=coder, text=text,
                                            created_at="2024-03-01T08:00:00+00:00"))


def snapshot(project) -> dict:
    """What a user compares after a round trip, keyed by names rather than row ids."""
    docs = {}
    names = {}
    for row in queries.list_documents(project.store):
        info = queries.document_detail(project.store, row["id"])
        with project.store.read() as conn:
            text = conn.execute(select(t.documents.c.text).where(t.documents.c.id == row["id"])).scalar_one()
        names[str(row["id"])] = row["name"]
        docs[row["name"]] = {
            "text": text, "case": info["case"], "attributes": info["attributes"],
            "speakers": sorted((s["label"], s["role"]) for s in info["speakers"]),
            "passages": [(p["start"], p["end"], p["speaker"]) for p in info["passages"]],
        }
    codings = sorted((r["document"], r["start"], r["end"], r["code"], r["coder"]) for r in queries.codings(project.store))
    by_id = {str(r["id"]): (r["document"], r["start"], r["end"], r["code"], r["coder"]) for r in queries.codings(project.store)}
    memos = []
    with project.store.read() as conn:
        for m in conn.execute(select(t.memos)).mappings():
            target = m["target"]
            if m["target_type"] == "doc":
                target = names[target]
            elif m["target_type"] == "passage":
                d, _, seq = target.partition(":")
                target = f"{names[d]}:{seq}"
            elif m["target_type"] == "coding":
                target = by_id[target]
            memos.append((m["target_type"], str(target), m["coder"], m["text"]))
    cases = []
    with project.store.read() as conn:
        cases = sorted(n for (n,) in conn.execute(select(t.cases.c.name)))
    codes = []
    if project.codebook_path is not None:
        codes = [(c.path, c.parent, c.label_zh, c.label_en, (c.definition or "").strip(), c.color)
                 for c in project.codebook().codes]
    return {"docs": docs, "codings": codings, "memos": sorted(memos), "cases": cases, "codes": codes}
