"""Coding in a spreadsheet (Excel, WPS): export one row per passage, import the coder's changes.

The workbook has a ``coding`` sheet (row 1: column keys, row 2: Chinese labels, then one row
per passage with its context columns and one column per code), a ``codes`` sheet with the
definitions, and a hidden ``_qualcode`` sheet with the state of every cell at export time.
A code cell holds ✓ (coded), ? (proposed, not yet decided: highlighted, the evidence in a
comment), ✗ (rejected), ⊘ (absent: the passage says the mechanism is missing or only on
paper, negative evidence) or nothing; a drop-down offers the four marks, and 1/是/x/√, 0/否
and 缺 are read too.

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

from qualcode import annotate, files
from qualcode.annotate.adjudicate import AdjudicationImport, import_disagreements, is_disagreement_sheet
from qualcode.annotate.audit import Event, record
from qualcode.annotate.codings import insert_manual
from qualcode.annotate.decisions import apply_decision, is_proposal, own_decision, proposal_view
from qualcode.errors import InputFileError, QualcodeError
from qualcode.exchange.tables import display_width, text_cells
from qualcode.store import queries, schema as t, utcnow
from qualcode.store.locking import lock_rows

SHEET, CODES_SHEET, META_SHEET = "coding", "codes", "_qualcode"
CONTEXT = [("passage", "段落"), ("document", "文档"), ("case", "个案"), ("speaker", "说话人"), ("role", "角色"),
           ("timestamp", "时间"), ("text", "原文")]
CODED, PROPOSED, REJECTED, ABSENT = "✓", "?", "✗", "⊘"
_YES = {"✓", "√", "✔", "1", "x", "y", "yes", "true", "是", "对", "有"}
_NO = {"", "✗", "×", "✘", "0", "n", "no", "false", "否", "无", "-"}
_MAYBE = {"?", "？"}
_ABSENT = {"⊘", "缺", "缺失", "absent"}
FORMAT = 1


def cell_state(value) -> str | None:
    """'coded', 'no', 'absent' or 'proposed' for a cell value; None when it cannot be read."""
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
    if text in _ABSENT:
        return "absent"
    return None


@dataclass
class SheetExport:
    path: Path
    rows: int
    codes: int
    coded: int
    proposed: int


def _cells(conn, coder: str, doc_ids: list[int] | None) -> dict[tuple[int, str], dict]:
    """(passage row id, code) → {'state', 'rows'} for this coder: coded > absent > proposed > rejected > none."""
    q = select(t.codings).where(t.codings.c.passage_id.is_not(None))
    if doc_ids is not None:
        q = q.where(t.codings.c.document_id.in_(doc_ids))
    out: dict[tuple[int, str], dict] = {}
    decided = set()
    rows = [dict(r) for r in conn.execute(q.order_by(t.codings.c.id)).mappings()]
    for r in rows:
        if r["coder"] == coder and r["status"] != "proposed" and r["origin"] in ("rule", "model"):
            decided.add((r["document_id"], r["start"], r["end"], r["code"], r["unit"]))
    # decisions are per coder: a proposal another coder decided is still open for this one
    # (shown as the open proposal it is for them, once), unless a pending row of it is here
    pending_keys = {(r["document_id"], r["start"], r["end"], r["code"], r["unit"]) for r in rows
                    if r["status"] == "proposed"}
    for r in rows:
        cell = out.setdefault((r["passage_id"], r["code"]), {"rows": []})
        key = (r["document_id"], r["start"], r["end"], r["code"], r["unit"])
        if r["status"] == "proposed" and key in decided:
            continue  # this coder already decided it (e.g. in a merged copy)
        if r["status"] == "proposed" or r["coder"] == coder:
            cell["rows"].append(r)
        elif is_proposal(r) and key not in decided and key not in pending_keys:
            pending_keys.add(key)
            cell["rows"].append(proposal_view(r))
    for cell in out.values():
        statuses = {(r["status"], r["coder"] == coder) for r in cell["rows"]}
        mine = [r for r in cell["rows"] if r["status"] == "accepted" and r["coder"] == coder]
        if any(not r["absent"] for r in mine):
            cell["state"] = "coded"
        elif mine:
            cell["state"] = "absent"
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
            cell = ws.cell(i, j, {"coded": CODED, "proposed": PROPOSED, "rejected": REJECTED, "absent": ABSENT}[state])
            base_rows.append([p["passage"], c.path, state])
            if state in ("coded", "absent"):
                n_coded += 1
            elif state == "proposed":
                n_proposed += 1
                cell.fill = proposed_fill
                cell.comment = Comment(_proposal_note(info["rows"]), "qualcode")
            else:
                cell.font = grey
    last = get_column_letter(max(first_code + len(codes) - 1, first_code))
    if codes and passages:
        dv = DataValidation(type="list", formula1=f'"{CODED},{PROPOSED},{REJECTED},{ABSENT}"', allow_blank=True,
                            showErrorMessage=True, errorStyle="warning",
                            error="✓ 编码 coded, ? 待定 proposed, ✗ 否 rejected, ⊘ 缺失 absent (or leave empty)")
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
    text_cells(wb)  # passage text such as "=_=" stays text, never a formula
    files.write_with(output, wb.save, suffix=".xlsx")
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
        lines.append(("ABSENT 缺失: " if r["absent"] else "") + f"proposed by {r['origin']} {r['rule'] or ''} (score {r['score'] or '-'})"
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


def import_sheet(project, path: Path, coder: str | None = None,
                 dry_run: bool = False) -> SheetImport | AdjudicationImport:
    """Apply the differences a coder made in an exported workbook (see the module docstring).
    A filled-in disagreements sheet settles disagreements instead (``annotate.adjudicate``),
    with ``coder`` as the adjudicator."""
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
    if is_disagreement_sheet(wb):  # a filled-in 'qualcode disagreements' sheet: adjudication
        return import_disagreements(project, wb, adjudicator=coder, dry_run=dry_run)
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
                                         "project": "", "reason": f"cannot read {value!r} (use ✓, ?, ✗ or ⊘)"})
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
    ins: list[dict] = []
    upd: list[dict] = []
    dele: list[tuple[dict, list[dict]]] = []
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
            if sheet in ("coded", "absent"):
                absent = sheet == "absent"
                report.added += 1
                # the other mark goes: its open proposals rejected, this coder's codings of it removed
                other = [r for r in pending if bool(r["absent"]) != absent]
                upd += _set_status(conn, other, "rejected", coder, now)
                _remove(conn, [r for r in mine if bool(r["absent"]) != absent], coder, now, upd, dele)
                same = [r for r in pending if bool(r["absent"]) == absent]
                redo = same or [r for r in mine if r["status"] == "rejected" and r["origin"] in ("rule", "model")
                                and bool(r["absent"]) == absent]
                if redo:
                    report.accepted += 1
                    upd += _set_status(conn, redo, "accepted", coder, now)
                else:
                    span = annotate.Span(_doc_of(conn, p["_pid"]), p["_pid"], p["start"], p["end"], "passage")
                    ins.append(insert_manual(conn, span, code, coder, now, version, absent=absent))
            else:  # sheet says not coded
                report.removed += 1
                if pending:
                    report.rejected += 1
                    upd += _set_status(conn, pending, "rejected", coder, now)
                _remove(conn, mine, coder, now, upd, dele)
        if dry_run:
            raise _DryRun
        ins += [u["inserted"] for u in upd if "inserted" in u]  # this coder's copies of proposals
        upd = [u for u in upd if "inserted" not in u]
        if ins or upd or dele:
            deleted = {"codings": [r for r, _ in dele], "memos": [m for _, ms in dele for m in ms]}
            report.audit_id = record(conn, coder, Event.sheet_import(name, ins, upd, deleted, report.summary()))


def _remove(conn, mine: list[dict], coder: str, now: str, upd: list, dele: list) -> None:
    """This coder's accepted codings go: decided proposals are rejected, manual ones deleted."""
    decided = [r for r in mine if r["status"] == "accepted" and r["origin"] in ("rule", "model")]
    upd += _set_status(conn, decided, "rejected", coder, now)
    for r in [r for r in mine if r["status"] == "accepted" and r["origin"] not in ("rule", "model")]:
        memos = [dict(m) for m in conn.execute(select(t.memos).where(
            t.memos.c.target_type == "coding", t.memos.c.target == str(r["id"]))).mappings()]
        conn.execute(delete(t.memos).where(t.memos.c.id.in_([m["id"] for m in memos])))
        conn.execute(delete(t.codings).where(t.codings.c.id == r["id"]))
        dele.append((r, memos))


def _doc_of(conn, passage_id: int) -> int:
    return conn.execute(select(t.passages.c.document_id).where(t.passages.c.id == passage_id)).scalar_one()


def _set_status(conn, rows: list[dict], status: str, coder: str, now: str) -> list[dict]:
    """This coder's decision on each row: {id, before, after} per changed row, and
    {"inserted": row} for the coder's own copy of a proposal another coder took."""
    out: list[dict] = []
    for r in rows:
        actual = dict(lock_rows(conn, t.codings, t.codings.c.id == r["id"])[0])  # not the view shown
        if is_proposal(actual):
            own = own_decision(conn, actual, coder)
            if own is not None and own["status"] == status:
                continue
            change, copy = apply_decision(conn, actual, status, coder, now, own=own)
            out += [change] if change is not None else [{"inserted": copy}]
            continue
        after = dict(status=status, coder=coder, decided_by=coder, decided_at=now, updated_at=now)
        conn.execute(update(t.codings).where(t.codings.c.id == r["id"]).values(**after))
        out.append({"id": r["id"], "before": {k: actual[k] for k in after}, "after": after})
    return out


def _norm(text) -> str:
    return "" if text is None else str(text).replace("\r\n", "\n").strip()


class SheetCoderMismatch(QualcodeError):
    """A workbook exported for one coder imported as another: it would rewrite their codings."""

    def __init__(self, sheet_coder: str, coder: str):
        super().__init__(f"this sheet was exported for {sheet_coder}; importing it as {coder} would replace "
                         f"{coder}'s codings with {sheet_coder}'s",
                         hint=f"import it as its coder (--coder {sheet_coder}), or export a sheet for {coder}")


def _base_states(wb, coder: str) -> dict[tuple[str, str], str] | None:
    """Cell states at export time, if the workbook was exported for this coder."""
    if META_SHEET not in wb.sheetnames:
        return None
    meta = wb[META_SHEET]
    rows = list(meta.iter_rows(values_only=True))
    info = {r[0]: r[1] for r in rows[:5] if r and r[0]}
    if info.get("qualcode-sheet") is None:
        return None
    if info.get("coder") and str(info["coder"]) != coder:  # read by import_sheet before this
        raise SheetCoderMismatch(str(info["coder"]), coder)
    out = {}
    for r in rows[6:]:
        if r and r[0] and r[1]:
            out[(str(r[0]), str(r[1]))] = str(r[2])
    return out


__all__ = ["export_sheet", "import_sheet", "SheetExport", "SheetImport", "cell_state"]
