"""Coding in a spreadsheet (Excel, WPS): export one row per passage, import the coder's changes.

The workbook has a ``coding`` sheet (row 1: column keys, row 2: Chinese labels, then one row
per passage with its context columns and one column per code), a ``codes`` sheet with the
definitions, and a hidden ``_qualcode`` sheet with the state of every cell at export time.
A code cell holds ✓ (coded), ? (proposed, not yet decided: highlighted, the evidence in a
comment), ✗ (rejected) or nothing; a drop-down offers the three marks, and 1/是/x/√ and
0/否 are read too.

Import compares three states per (passage, code): at export (the hidden sheet), in the
sheet, and in the project now. A cell the coder did not change is left alone; a change is
applied when the project still has the state the sheet was exported with, and reported as
a conflict (not applied) when someone changed the project differently in the meantime.
Rows whose passage text no longer matches the project are refused and named.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select, update

from qualcode import annotate
from qualcode.annotate.audit import Event, record
from qualcode.annotate.codings import insert_manual
from qualcode.errors import InputFileError
from qualcode.exchange.tables import display_width
from qualcode.store import queries, schema as t, utcnow

SHEET, CODES_SHEET, META_SHEET = "coding", "codes", "_qualcode"
CONTEXT = [("passage", "段落"), ("document", "文档"), ("case", "个案"), ("speaker", "说话人"), ("role", "角色"),
           ("timestamp", "时间"), ("text", "原文")]
CODED, PROPOSED, REJECTED = "✓", "?", "✗"
_YES = {"✓", "√", "✔", "1", "x", "y", "yes", "true", "是", "对", "有"}
_NO = {"", "✗", "×", "✘", "0", "n", "no", "false", "否", "无", "-"}
_MAYBE = {"?", "？"}
FORMAT = 1


def cell_state(value) -> str | None:
    """'coded', 'no' or 'proposed' for a cell value; None when it cannot be read."""
    if value is None:
        return "no"
    if isinstance(value, bool):
        return "coded" if value else "no"
    text = str(value).strip().lower()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if text in _YES:
        return "coded"
    if text in _NO:
        return "no"
    if text in _MAYBE:
        return "proposed"
    return None


@dataclass
class SheetExport:
    path: Path
    rows: int
    codes: int
    coded: int
    proposed: int


def _cells(conn, coder: str, doc_ids: list[int] | None) -> dict[tuple[int, str], dict]:
    """(passage row id, code) → {'state', 'rows'} for this coder: coded > proposed > rejected > none."""
    q = select(t.codings).where(t.codings.c.passage_id.is_not(None))
    if doc_ids is not None:
        q = q.where(t.codings.c.document_id.in_(doc_ids))
    out: dict[tuple[int, str], dict] = {}
    decided = set()
    rows = [dict(r) for r in conn.execute(q.order_by(t.codings.c.id)).mappings()]
    for r in rows:
        if r["coder"] == coder and r["status"] != "proposed" and r["origin"] in ("rule", "model"):
            decided.add((r["document_id"], r["start"], r["end"], r["code"], r["unit"]))
    for r in rows:
        cell = out.setdefault((r["passage_id"], r["code"]), {"rows": []})
        key = (r["document_id"], r["start"], r["end"], r["code"], r["unit"])
        if r["status"] == "proposed" and key in decided:
            continue  # this coder already decided it (e.g. in a merged copy)
        if r["status"] == "proposed" or r["coder"] == coder:
            cell["rows"].append(r)
    for cell in out.values():
        statuses = {(r["status"], r["coder"] == coder) for r in cell["rows"]}
        if ("accepted", True) in statuses:
            cell["state"] = "coded"
        elif any(s == "proposed" for s, _ in statuses):
            cell["state"] = "proposed"
        elif ("rejected", True) in statuses:
            cell["state"] = "rejected"
        else:
            cell["state"] = "no"
    return out


def _passages(project, doc_ids):
    rows = queries.passages(project.store, doc_ids=doc_ids)
    with project.store.read() as conn:
        ids = {(r.document_id, r.seq): r.id for r in conn.execute(
            select(t.passages.c.id, t.passages.c.document_id, t.passages.c.seq))}
    for r in rows:
        d, s = r["passage"].split(":")
        r["_pid"] = ids[(int(d), int(s))]
    return rows


def export_sheet(project, output: Path, coder: str | None = None, code: str | None = None,
                 docs: list[str] | None = None) -> SheetExport:
    """Write the coding workbook for ``coder`` (their codings and the open proposals pre-filled)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.worksheet import Worksheet


    coder = annotate.coder_name(project, coder)
    codebook = project.codebook()
    codes = list(codebook.codes)
    if code:
        root = annotate.resolve_code(codebook, code)
        codes = [c for c in codes if c.path == root or c.path.startswith(root + "/")]
    doc_ids = [project.document_id(d) for d in docs] if docs else None
    passages = _passages(project, doc_ids)
    with project.store.read() as conn:
        cells = _cells(conn, coder, doc_ids)

    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook has one worksheet
    ws.title = SHEET
    ws.append([k for k, _ in CONTEXT] + [c.path for c in codes])
    ws.append([zh for _, zh in CONTEXT] + [c.label_zh or c.id for c in codes])
    for cell in ws[1] + ws[2]:
        cell.font = Font(bold=True)
    proposed_fill = PatternFill("solid", fgColor="FFF2CC")
    grey = Font(color="999999")
    first_code = len(CONTEXT) + 1
    base_rows, n_coded, n_proposed = [], 0, 0
    for i, p in enumerate(passages, start=3):
        ws.append([p[k] if p[k] is not None else "" for k, _ in CONTEXT])
        ws.cell(i, len(CONTEXT)).alignment = Alignment(wrap_text=True, vertical="top")
        for j, c in enumerate(codes, start=first_code):
            info = cells.get((p["_pid"], c.path))
            if not info or info["state"] == "no":
                continue
            state = info["state"]
            cell = ws.cell(i, j, {"coded": CODED, "proposed": PROPOSED, "rejected": REJECTED}[state])
            base_rows.append([p["passage"], c.path, state])
            if state == "coded":
                n_coded += 1
            elif state == "proposed":
                n_proposed += 1
                cell.fill = proposed_fill
                cell.comment = Comment(_proposal_note(info["rows"]), "qualcode")
            else:
                cell.font = grey
    last = get_column_letter(max(first_code + len(codes) - 1, first_code))
    if codes and passages:
        dv = DataValidation(type="list", formula1=f'"{CODED},{PROPOSED},{REJECTED}"', allow_blank=True,
                            showErrorMessage=True, errorStyle="warning",
                            error="✓ 编码 coded, ? 待定 proposed, ✗ 否 rejected (or leave empty)")
        dv.add(f"{get_column_letter(first_code)}3:{last}{len(passages) + 2}")
        ws.add_data_validation(dv)
    widths = {"passage": 7, "document": 16, "case": 8, "speaker": 8, "role": 10, "timestamp": 9, "text": 60}
    for j, (k, _) in enumerate(CONTEXT, start=1):
        ws.column_dimensions[get_column_letter(j)].width = widths[k]
    for j, c in enumerate(codes, start=first_code):
        ws.column_dimensions[get_column_letter(j)].width = min(max(display_width(c.label_zh or c.id) + 2, 6), 16)
    ws.freeze_panes = ws.cell(3, first_code).coordinate

    cs = wb.create_sheet(CODES_SHEET)
    cs.append(["path", "label", "label_en", "definition"])
    for c in codes:
        cs.append([c.path, c.label_zh or "", c.label_en or "", (c.definition or "").strip()])
    cs.column_dimensions["A"].width, cs.column_dimensions["D"].width = 30, 90

    meta = wb.create_sheet(META_SHEET)
    meta.sheet_state = "hidden"
    meta.append(["qualcode-sheet", FORMAT])
    meta.append(["coder", coder])
    meta.append(["project", project.name])
    meta.append(["exported_at", utcnow()])
    meta.append([])
    meta.append(["passage", "code", "state"])
    for r in base_rows:
        meta.append(r)

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    wb.save(tmp)
    tmp.replace(output)
    return SheetExport(output, len(passages), len(codes), n_coded, n_proposed)


def _proposal_note(rows: list[dict]) -> str:
    lines = []
    for r in rows:
        if r["status"] != "proposed":
            continue
        terms = []
        try:
            terms = [x[0] for x in json.loads(r["evidence"] or "{}").get("terms", [])]
        except (ValueError, TypeError, AttributeError, IndexError):
            pass
        lines.append(f"proposed by {r['origin']} {r['rule'] or ''} (score {r['score'] or '-'})"
                     + (f": {', '.join(terms)}" if terms else "") + f" [coding {r['id']}]")
    return "\n".join(lines)


@dataclass
class SheetImport:
    coder: str
    added: int = 0
    removed: int = 0
    unchanged: int = 0
    accepted: int = 0  # of added: proposals accepted
    rejected: int = 0  # of removed: proposals rejected
    conflicts: list[dict] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)  # rows: row, passage, reason
    unknown_columns: list[str] = field(default_factory=list)
    audit_id: int | None = None

    def summary(self) -> str:
        return (f"{self.added} added ({self.accepted} proposals accepted), {self.removed} removed "
                f"({self.rejected} proposals rejected), {self.unchanged} unchanged, "
                f"{len(self.conflicts)} conflicts, {len(self.refused)} rows refused")


def import_sheet(project, path: Path, coder: str | None = None, dry_run: bool = False) -> SheetImport:
    """Apply the differences a coder made in an exported workbook (see the module docstring)."""
    from openpyxl import load_workbook
    from openpyxl.worksheet.worksheet import Worksheet

    coder = annotate.coder_name(project, coder)
    path = Path(path)
    try:
        wb = load_workbook(path, data_only=True)
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except Exception as exc:  # openpyxl raises several types for a file that is not xlsx
        raise InputFileError(f"{path}: not an Excel workbook ({exc})", hint="save it as .xlsx") from None
    ws = wb[SHEET] if SHEET in wb.sheetnames else wb.active
    if not isinstance(ws, Worksheet):
        raise InputFileError(f"{path}: no worksheet {SHEET!r}", hint="import a workbook made by 'qualcode sheet export'")
    header = [str(c.value).strip() if c.value is not None else "" for c in ws[1]]
    if "passage" not in header or "text" not in header:
        raise InputFileError(f"{path}: sheet {ws.title!r} has no 'passage' and 'text' columns in row 1",
                             hint="import a workbook made by 'qualcode sheet export'")
    codebook = project.codebook()
    code_cols = {}
    report = SheetImport(coder)
    for j, h in enumerate(header):
        if h and h not in dict(CONTEXT) and h not in ("passage", "text"):
            if h in codebook:
                code_cols[j] = h
            else:
                report.unknown_columns.append(h)
    base = _base_states(wb, coder)
    i_passage, i_text = header.index("passage"), header.index("text")

    all_passages = {p["passage"]: p for p in _passages(project, None)}
    wanted: list[tuple[dict, str, str, str | None]] = []  # (passage, code, sheet state, base state)
    for n, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        ref = str(row[i_passage]).strip() if i_passage < len(row) and row[i_passage] is not None else ""
        if not ref or (n == 2 and ref == dict(CONTEXT)["passage"]):
            continue
        p = all_passages.get(ref)
        if p is None:
            report.refused.append({"row": n, "passage": ref, "reason": "no such passage in this project"})
            continue
        text = row[i_text] if i_text < len(row) else None
        if _norm(text) != _norm(p["text"]):
            report.refused.append({"row": n, "passage": ref, "reason": "the passage text no longer matches the project"})
            continue
        for j, code in code_cols.items():
            value = row[j] if j < len(row) else None
            state = cell_state(value)
            if state is None:
                report.conflicts.append({"row": n, "passage": ref, "code": code, "sheet": str(value),
                                         "project": "", "reason": f"cannot read {value!r} (use ✓, ? or ✗)"})
                continue
            wanted.append((p, code, state, base.get((ref, code)) if base is not None else None))

    try:
        _apply(project, codebook.version, wanted, base is not None, report, path.name, dry_run)
    except _DryRun:
        pass
    return report


class _DryRun(Exception):
    """Raised inside the transaction of a dry run so that nothing is written."""


def _apply(project, version, wanted, have_base: bool, report: SheetImport, name: str, dry_run: bool) -> None:
    """The changes of one import, in one transaction and one audit entry."""
    coder, now = report.coder, utcnow()
    ins, upd, dele = [], [], []
    with project.store.transaction() as conn:
        cells = _cells(conn, coder, None)
        for p, code, sheet, was in wanted:
            info = cells.get((p["_pid"], code), {"state": "no", "rows": []})
            cur = info["state"]
            cur_n = "no" if cur == "rejected" else cur
            was_n = ("no" if was in (None, "rejected") else was) if have_base else cur_n
            if sheet == "proposed" or sheet == was_n or sheet == cur_n:
                report.unchanged += 1
                continue
            if cur_n != was_n:
                report.conflicts.append({"row": None, "passage": p["passage"], "code": code, "sheet": sheet,
                                         "project": cur, "reason": f"changed in the project since the export (was {was or 'no'})"})
                continue
            mine = [r for r in info["rows"] if r["coder"] == coder]
            pending = [r for r in info["rows"] if r["status"] == "proposed"]
            if sheet == "coded":
                report.added += 1
                redo = pending or [r for r in mine if r["status"] == "rejected" and r["origin"] in ("rule", "model")]
                if redo:
                    report.accepted += 1
                    upd += _set_status(conn, redo, "accepted", coder, now)
                else:
                    span = annotate.Span(_doc_of(conn, p["_pid"]), p["_pid"], p["start"], p["end"], "passage")
                    ins.append(insert_manual(conn, span, code, coder, now, version))
            else:  # sheet says not coded
                report.removed += 1
                if pending:
                    report.rejected += 1
                    upd += _set_status(conn, pending, "rejected", coder, now)
                decided = [r for r in mine if r["status"] == "accepted" and r["origin"] in ("rule", "model")]
                upd += _set_status(conn, decided, "rejected", coder, now)
                gone = [r for r in mine if r["status"] == "accepted" and r["origin"] not in ("rule", "model")]
                for r in gone:
                    memos = [dict(m) for m in conn.execute(select(t.memos).where(
                        t.memos.c.target_type == "coding", t.memos.c.target == str(r["id"]))).mappings()]
                    conn.execute(delete(t.memos).where(t.memos.c.id.in_([m["id"] for m in memos])))
                    conn.execute(delete(t.codings).where(t.codings.c.id == r["id"]))
                    dele.append((r, memos))
        if dry_run:
            raise _DryRun
        if ins or upd or dele:
            deleted = {"codings": [r for r, _ in dele], "memos": [m for _, ms in dele for m in ms]}
            report.audit_id = record(conn, coder, Event.sheet_import(name, ins, upd, deleted, report.summary()))


def _doc_of(conn, passage_id: int) -> int:
    return conn.execute(select(t.passages.c.document_id).where(t.passages.c.id == passage_id)).scalar_one()


def _set_status(conn, rows: list[dict], status: str, coder: str, now: str) -> list[dict]:
    out = []
    for r in rows:
        after = dict(status=status, coder=coder, decided_by=coder, decided_at=now, updated_at=now)
        conn.execute(update(t.codings).where(t.codings.c.id == r["id"]).values(**after))
        out.append({"id": r["id"], "before": {k: r[k] for k in after}, "after": after})
    return out


def _norm(text) -> str:
    return "" if text is None else str(text).replace("\r\n", "\n").strip()


def _base_states(wb, coder: str) -> dict[tuple[str, str], str] | None:
    """Cell states at export time, if the workbook was exported for this coder."""
    if META_SHEET not in wb.sheetnames:
        return None
    meta = wb[META_SHEET]
    rows = list(meta.iter_rows(values_only=True))
    info = {r[0]: r[1] for r in rows[:5] if r and r[0]}
    if info.get("qualcode-sheet") is None or info.get("coder") != coder:
        return None
    out = {}
    for r in rows[6:]:
        if r and r[0] and r[1]:
            out[(str(r[0]), str(r[1]))] = str(r[2])
    return out


__all__ = ["export_sheet", "import_sheet", "SheetExport", "SheetImport", "cell_state"]
