"""The browser workspace: one Starlette application over an open project.

Pages are listed in ``PAGES`` (path → handler) and each renders one template from
``templates/``; adding a page is one handler here and one template. Changes go through
``/api/...`` (JSON in, JSON out) and call the same library functions as the command line
(``annotate.add_coding``, ``decide``, ``change_code``, ``add_memo``, ``undo``, ``new_code``,
``review.ReviewSession``, ``adjudicate.AdjudicationSession``), so the audit log, undo and
the conflict rules are the CLI's:
another coder's decision is reported as a conflict (HTTP 409), never overwritten.

Handlers are ``async`` and call the library directly: one request at a time, in order, on
one thread, which is what a single researcher's session needs and what SQLite likes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from qualcode import annotate
from qualcode.annotate.adjudicate import AdjudicationSession, Item as Disagreement
from qualcode.annotate.review import ORDERS, ReviewSession
from qualcode.errors import EXIT_PARTIAL, NotFound, QualcodeError
from qualcode.reports import Selection, chain, load
from qualcode.reports.chain import ABSENT, PRESENT
from qualcode.store import queries
from qualcode.vocabulary import STATUSES
from qualcode.web import documents, drill, reader
from qualcode.web.i18n import LANGUAGES, language, script_strings, text
from qualcode.web.security import TokenGuard, new_token

HERE = Path(__file__).resolve().parent
LANG_COOKIE = "qualcode_lang"


class Conflict(QualcodeError):
    """Another coder decided first: reported, nothing changed."""


class CachedCodebook:
    """The project as the library sees it, with its codebook parsed once per content of the
    file: every request needs the codebook (labels, colours, the picker) and most library
    calls load it again; re-reading the file and comparing its text keeps an edit made
    elsewhere (``code new`` in a terminal, a text editor) visible at once."""

    def __init__(self, project):
        self._project = project
        self._cached: tuple[str, object] | None = None

    def __getattr__(self, name):
        return getattr(self._project, name)

    def forget(self) -> None:
        """Drop the parsed codebook (before a change that edits the loaded object)."""
        self._cached = None

    def codebook(self, path: Path | None = None):
        if path is not None and path != self._project.codebook_path:
            return self._project.codebook(path)
        source = self._project.codebook_path
        try:
            text = source.read_text(encoding="utf-8") if source is not None else None
        except OSError:
            text = None
        if text is None or self._cached is None or self._cached[0] != text:
            codebook = self._project.codebook()
            self._cached = (text, codebook) if text is not None else None
            return codebook
        return self._cached[1]


@dataclass
class AdjudicationState:
    """What an adjudication session remembers between requests: the items skipped and its own
    settlements (what its undo may take back). The terminal keeps these in one session
    object; the workspace builds the session again per request and hands it these."""

    skipped: list[tuple[str, str]] = field(default_factory=list)
    history: list[int] = field(default_factory=list)


@dataclass
class Workspace:
    """The open project, the coder every change is made as, and the access tokens."""

    project: Any  # a CachedCodebook: the Project with its codebook cached
    coder: str
    token: str = field(default_factory=new_token)
    csrf: str = field(default_factory=new_token)
    lang: str = "zh"
    adjudications: dict[tuple, AdjudicationState] = field(default_factory=dict)

    def codebook(self):
        try:
            return self.project.codebook()
        except QualcodeError:
            return None


_env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True)


def render(ws: Workspace, request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    lang = language(request.cookies.get(LANG_COOKIE, ws.lang))
    codebook = context.get("codebook")
    page = _env.get_template(template).render(
        _=lambda key, **v: text(key, lang, **v), lang=lang, ws=ws, request=request, project=ws.project,
        coder=ws.coder, csrf=ws.csrf, here=request.url.path + (f"?{request.url.query}" if request.url.query else ""), strings=script_strings(lang),
        codes=reader.code_entries(codebook), path=request.url.path,
        query=urlencode, **context)
    return HTMLResponse(page, status_code=status_code)


def fragment(template: str, lang: str, **context) -> str:
    return _env.get_template(template).render(_=lambda key, **v: text(key, lang, **v), lang=lang, **context)


# ---------------------------------------------------------------------------- pages


async def documents_page(ws: Workspace, request: Request):
    return render(ws, request, "documents.html", docs=documents.document_rows(ws.project), codebook=ws.codebook())


async def reader_page(ws: Workspace, request: Request):
    doc_id = reader.document_id(ws.project, request.path_params["doc"])
    q = request.query_params
    filters = reader.Filters.parse(q.get("code"), q.getlist("status"), q.get("coder"))
    codebook = ws.codebook()
    view = reader.reader_view(ws.project, doc_id, filters, codebook, viewer=ws.coder)
    return render(ws, request, "reader.html", codebook=codebook, statuses=STATUSES,
                  coders=annotate.coders(ws.project), focus=q.get("focus", ""), **view)


def _session(ws: Workspace, params) -> ReviewSession:
    order = params.get("order") or "document"
    return ReviewSession(ws.project, coder=ws.coder, code=params.get("code") or None, doc=params.get("doc") or None,
                         order=order)


async def review_page(ws: Workspace, request: Request):
    params = dict(request.query_params)
    session = _session(ws, params)
    item = session.current()
    codebook = ws.codebook()
    code = codebook.get(item.coding["code"]) if item and codebook and item.coding["code"] in codebook else None
    passage = None
    if item is not None and item.passage["passage"]:
        passage = drill.highlight(item.passage["text"], item.passage["start"], [(s, e) for _, s, e in item.evidence])
    color = reader.code_colors(codebook).get(item.coding["code"]) if item is not None else None
    return render(ws, request, "review.html", item=item, code=code, passage=passage, orders=ORDERS, color=color,
                  params={k: params.get(k, "") for k in ("order", "code", "doc")},
                  skipped=session.remaining_skipped() if item is None else 0, codebook=codebook)


async def codebook_page(ws: Workspace, request: Request):
    codebook = ws.codebook()
    rows = queries.codebook_rows(ws.project.store, codebook) if codebook is not None else []
    colors = reader.code_colors(codebook)
    return render(ws, request, "codebook.html", rows=rows, colors=colors, codebook=codebook,
                  codes_by_path={c.path: c for c in codebook.codes} if codebook else {})


def _drill_query(params) -> drill.Query:
    level = params.get("level", "0")
    return drill.Query(proposed=bool(params.get("proposed")), by=params.get("by") or "case",
                       level=int(level) if level.isdigit() else None)


async def reports_page(ws: Workspace, request: Request):
    q = _drill_query(request.query_params)
    return render(ws, request, "reports.html", q=q, t=drill.tables(ws.project, q), codebook=ws.codebook())


async def drill_page(ws: Workspace, request: Request):
    params = request.query_params
    q = _drill_query(params)
    code = params.get("code", "")
    result = drill.passages_behind(ws.project, q, code, group=params.get("group"), other=params.get("other"))
    return render(ws, request, "drill.html", q=q, code=code, group=params.get("group"), other=params.get("other"),
                  result=result, highlight=drill.highlight, codebook=ws.codebook())


def chain_view(table, lang: str) -> tuple[list[dict], list[str]]:
    """The chain report's rows with their status and reason in ``lang`` (``status_text``,
    ``reason_text``), and one summary line per group, as ``reports.chain_summary`` says it in
    English: where the chain breaks, the stage's status and the mechanisms found absent."""
    rows = table.to_dict("records")
    for r in rows:
        r["status_text"] = text(f"chain.status.{r['status']}", lang)
        missing = [m["link"] for m in rows if m["case"] == r["case"] and m["kind"] != "stage"
                   and m["link"].startswith(r["link"] + "/") and m["status"] == ABSENT] if r["reason"] else []
        r["reason_text"] = text("chain.reason_absent", lang, links=text("list.sep", lang).join(missing)) \
            if missing else r["reason"]
    lines = []
    for case in sorted(dict.fromkeys(r["case"] for r in rows)):
        part = [r for r in rows if r["case"] == case]
        at = part[0]["breaks_at"]
        if not at:
            lines.append(text("chain.summary_holds", lang, group=case))
            continue
        r = next(x for x in part if x["link"] == at)
        why = text("chain.reason_sep", lang) + r["reason_text"] if r["reason_text"] else ""
        lines.append(text("chain.summary_breaks", lang, group=case, link=at, label=r["label"],
                          status=r["status_text"] + why))
    return rows, lines


async def chain_page(ws: Workspace, request: Request):
    q = _drill_query(request.query_params)
    data = load(ws.project, Selection(proposed=q.proposed))
    table = chain(data, by=q.by)
    rows, summary = chain_view(table, language(request.cookies.get(LANG_COOKIE, ws.lang)))
    return render(ws, request, "chain.html", q=q, rows=rows, breaks=table.attrs.get("breaks", {}),
                  summary=summary, attributes=data.attribute_keys, codebook=ws.codebook(), present=PRESENT)


def _adjudication(ws: Workspace, params) -> tuple[AdjudicationSession, AdjudicationState]:
    """The adjudication of the coders named in ``params`` (``coders`` "王,李", ``doc``,
    ``consensus``), with the workspace's coder as the adjudicator, and its remembered state."""
    coders = [c.strip() for c in str(params.get("coders") or "").replace("，", ",").split(",") if c.strip()]
    docs = [d.strip() for d in str(params.get("doc") or "").replace("，", ",").split(",") if d.strip()]
    session = AdjudicationSession(ws.project, coders, docs=docs or None,
                                  consensus=str(params.get("consensus") or "").strip() or None, adjudicator=ws.coder)
    key = (tuple(session.coders), tuple(session.doc_ids or ()), session.consensus)
    state = ws.adjudications.setdefault(key, AdjudicationState())
    session.skipped, session.history = list(state.skipped), list(state.history)
    return session, state


def _remember(session: AdjudicationSession, state: AdjudicationState) -> None:
    state.skipped, state.history = list(session.skipped), list(session.history)


def adjudication_columns(ws: Workspace, item: Disagreement) -> list[dict]:
    """Each coder's side of a disagreement for the page: vote, and per coding its text cut into
    (piece, evidence) pieces at the evidence's own offsets (a rule's pattern matched there),
    the matched terms, how it was made and its memos."""
    columns = []
    with ws.project.store.read() as conn:
        for n, view in enumerate(item.coders, start=1):
            codings = []
            for c in view.codings:
                coded, start = c.get("text", ""), c["start"]
                spans = [(s, e) for s, e in reader.evidence_spans(annotate.resolve_coding(conn, c["id"]))
                         if start <= s < e <= c["end"]]
                terms = list(dict.fromkeys(coded[s - start:e - start] for s, e in sorted(spans)))
                codings.append(dict(c, pieces=drill.highlight(coded, start, spans), terms=terms))
            columns.append({"n": n, "coder": view.coder, "vote": view.vote, "codings": codings})
    return columns


async def adjudicate_page(ws: Workspace, request: Request):
    params = dict(request.query_params)
    names = [c for c in annotate.coders(ws.project) if c != ws.project.consensus_coder]
    with ws.project.store.read() as conn:  # coders who decided or coded something (not the automatic runs)
        seen = queries.seen_documents(conn, names)
    known = [c for c in names if seen[c]]
    chosen = [c.strip() for c in params.get("coders", "").replace("，", ",").split(",") if c.strip()] \
        or [c for c in request.query_params.getlist("coder") if c.strip()]  # the form's check boxes
    params["coders"] = ",".join(chosen)
    form = {"coders": chosen, "doc": params.get("doc", ""), "consensus": params.get("consensus", "")}
    if len(chosen) < 2:
        return render(ws, request, "adjudicate.html", known=known, form=form, item=None, started=False,
                      codebook=ws.codebook())
    session, state = _adjudication(ws, params)
    item = session.current()
    _remember(session, state)
    codebook = ws.codebook()
    code = codebook.get(item.code) if item is not None and codebook is not None and item.code in codebook else None
    passage = None
    if item is not None:
        passage = next((p for p in queries.passages(ws.project.store, doc_ids=[item.document_id])
                        if p["start"] <= item.start < p["end"]), None)
    return render(ws, request, "adjudicate.html", known=known, form=form, started=True, session=session,
                  summary=session.summary(), item=item, code=code, passage=passage,
                  columns=adjudication_columns(ws, item) if item is not None else [],
                  color=reader.code_colors(codebook).get(item.code) if item is not None else None,
                  queue={"coders": ",".join(session.coders), "doc": form["doc"], "consensus": form["consensus"],
                         "unit": item.unit if item is not None else "", "code": item.code if item is not None else ""},
                  codebook=codebook)


async def log_page(ws: Workspace, request: Request):
    return render(ws, request, "log.html", entries=annotate.audit_log(ws.project, limit=200), codebook=ws.codebook())


async def language_page(ws: Workspace, request: Request):
    lang = request.path_params["lang"]
    target = request.query_params.get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):  # only back to a page of this workspace
        target = "/"
    response = RedirectResponse(target, status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", path="/")
    return response


# A page is a path, a handler and (in the handler) one template.
PAGES = [
    ("/", documents_page),
    ("/doc/{doc}", reader_page),
    ("/review", review_page),
    ("/codebook", codebook_page),
    ("/reports", reports_page),
    ("/drill", drill_page),
    ("/chain", chain_page),
    ("/adjudicate", adjudicate_page),
    ("/log", log_page),
    ("/lang/{lang}", language_page),
]


# ---------------------------------------------------------------------------- changes


def _passages_html(ws: Workspace, lang: str, view: dict, spans: list[tuple[int, int]]) -> dict[str, str]:
    """The reader's passages overlapping ``spans``, drawn again after a change (seq → HTML)."""
    doc_id = int(view.get("doc") or 0)
    if not doc_id:
        return {}
    filters = reader.Filters.parse(view.get("code"), list(view.get("status") or []), view.get("coder"))
    codebook = ws.codebook()
    out = {}
    for start, end in spans:
        data = reader.reader_view(ws.project, doc_id, filters, codebook, span=(start, end), viewer=ws.coder)
        for p in data["passages"]:
            out[str(p.seq)] = fragment("passage.html", lang, p=p, coder=ws.coder)
    return out


def _coding(ws: Workspace, coding_id) -> dict:
    with ws.project.store.read() as conn:
        return annotate.resolve_coding(conn, coding_id)


def api_code(ws: Workspace, body: dict) -> dict:
    row = annotate.add_coding(ws.project, str(body.get("code", "")), doc=str(int(body["doc"])),
                              start=int(body["start"]), end=int(body["end"]), coder=ws.coder,
                              memo=(body.get("memo") or None))
    return {"message": f"{row['code']} [{row['start']}, {row['end']})", "coding": row["id"],
            "spans": [(row["start"], row["end"])]}


def api_decide(ws: Workspace, body: dict) -> dict:
    decision = {"accept": "accepted", "reject": "rejected"}.get(str(body.get("decision")))
    if decision is None:
        raise QualcodeError("decision must be accept or reject")
    row = _coding(ws, body.get("id"))
    report = annotate.decide(ws.project, decision, [row["id"]], coder=ws.coder)
    if report.conflicts:
        c = report.conflicts[0]
        raise Conflict(f"coding {c['id']} was already {c['status']} by {c['coder']}; not overwritten")
    return {"message": report.summary(), "spans": [(row["start"], row["end"])]}


def api_recode(ws: Workspace, body: dict) -> dict:
    row = _coding(ws, body.get("id"))
    old, new = annotate.change_code(ws.project, row["id"], str(body.get("code", "")), coder=ws.coder)
    return {"message": f"{old['code']} → {new['code']}", "spans": [(row["start"], row["end"])]}


def api_remove(ws: Workspace, body: dict) -> dict:
    row = _coding(ws, body.get("id"))
    annotate.remove_coding(ws.project, row["id"], coder=ws.coder)
    return {"message": f"removed {row['code']}", "spans": [(row["start"], row["end"])]}


def api_memo(ws: Workspace, body: dict) -> dict:
    kind, target = str(body.get("type", "")), str(body.get("target", ""))
    memo = annotate.add_memo(ws.project, kind, target, str(body.get("text", "")), coder=ws.coder)
    spans = []
    if kind == "coding":
        row = _coding(ws, memo["target"])
        spans = [(row["start"], row["end"])]
    elif kind == "passage":
        store = ws.project.store
        p = next(r for r in queries.passages(store, doc_ids=[int(memo["target"].split(":")[0])])
                 if r["passage"] == memo["target"])
        spans = [(p["start"], p["end"])]
    return {"message": "memo", "spans": spans}


def api_undo(ws: Workspace, body: dict) -> dict:
    done = annotate.undo(ws.project, 1, coder=ws.coder)
    return {"message": f"{done[0]['action']}: {done[0]['summary']}", "reload": True}


def api_new_code(ws: Workspace, body: dict) -> dict:
    ws.project.forget()  # new_code adds the code to the codebook object it loads
    code = annotate.new_code(ws.project, str(body.get("id", "")).strip(), body.get("parent") or None,
                             str(body.get("label", "")), label_en=body.get("label_en") or None,
                             definition=body.get("definition") or None, coder=ws.coder)
    out: dict = {"message": code.path, "code": code.path, "reload": True}
    if body.get("doc") and body.get("end") is not None:
        out.update(api_code(ws, {"code": code.path, "doc": body["doc"], "start": body["start"], "end": body["end"]}))
    return out


def api_review(ws: Workspace, body: dict) -> dict:
    session = _session(ws, body)
    action, value = str(body.get("action", "")), str(body.get("value") or "")
    actions = {
        "accept": session.accept, "reject": session.reject, "skip": session.skip, "undo": session.undo,
        "change": lambda: session.change_code(value), "add": lambda: session.add_code(value),
        "memo": lambda: session.memo(value),
    }
    if action == "reset":
        session.reset()
        return {"message": "reset"}
    if hasattr(session, "mark_absent"):  # b: the passage says the mechanism is missing
        actions["absent"] = session.mark_absent
    if action not in actions:
        raise QualcodeError(f"unknown review action {action!r}")
    return {"message": actions[action]()}


def api_adjudicate(ws: Workspace, body: dict) -> dict:
    """One key of the adjudication page: ``settle`` (``value`` "coded" or "not coded", with a
    ``reason``), ``take`` (``value`` a coder, with a ``reason``), ``skip``, ``undo``, ``carry``.
    The page names the item it shows (``unit``, ``code``): if the session's current item is
    another one (settled meanwhile by someone else), nothing is changed (409)."""
    session, state = _adjudication(ws, body)
    action, value, reason = str(body.get("action", "")), str(body.get("value") or ""), str(body.get("reason") or "")
    lang = language(body.get("lang"))
    item = None
    try:
        carried = session.carry_agreements()  # as the terminal does on starting; idempotent
        if action in ("settle", "take", "skip"):
            item = session.current()
            if item is None:
                raise QualcodeError("no disagreement left to settle")
            if (item.unit, item.code) != (str(body.get("unit", "")), str(body.get("code", ""))):
                raise Conflict(f"the page showed {body.get('code')} on {body.get('unit')}, which is no longer the "
                               f"next disagreement (settled meanwhile?)", hint="the page is drawn again")
        if action == "settle":
            if value not in ("coded", "not coded"):
                raise QualcodeError("settle needs value 'coded' or 'not coded'")
            session.settle(value == "coded", reason)
        elif action == "take":
            session.take(value, reason)
        if item is not None and action in ("settle", "take"):
            coded = value == "coded" if action == "settle" else bool(item.votes.get(value))
            message = text("adj.msg_settled", lang, code=item.code, unit=item.unit, consensus=session.consensus,
                           result=text("adj.coded" if coded else "adj.not_coded", lang))
        elif action == "skip":
            session.skip()
            message = text("adj.msg_skipped", lang, code=item.code if item else "", unit=item.unit if item else "")
        elif action == "undo":
            before = len(session.history)
            done = session.undo()  # "undid: <summary>" or "nothing to undo …"
            message = text("adj.msg_undone", lang, what=done.split(": ", 1)[-1]) if len(session.history) < before \
                else text("adj.msg_nothing", lang)
        elif action == "carry":
            message = text("js.carried", lang) + str(carried)
        else:
            raise QualcodeError(f"unknown adjudication action {action!r}")
    finally:
        _remember(session, state)
    return {"message": message, "carried": carried, "summary": session.summary().line()}


def api_doc_meta(ws: Workspace, body: dict) -> dict:
    doc_id = int(body["doc"])
    current = next((r for r in documents.document_rows(ws.project) if r["id"] == doc_id), None)
    if current is None:
        raise NotFound(f"no document {doc_id}")
    attrs = documents.parse_attributes(str(body.get("attributes", "")))
    attrs.update({k: "" for k in current["attributes"] if k not in attrs and k != "role"})
    attrs["role"] = str(body.get("role_code", ""))
    row = documents.set_metadata(ws.project, doc_id, case=str(body.get("case", "")), attributes=attrs)
    return {"message": "saved", "case": row["case"], "role_code": row["role_code"], "attributes": row["attributes"]}


def api_doc_remove(ws: Workspace, body: dict) -> dict:
    """Remove a document; ``confirm`` must be its name, as typed by the researcher."""
    removed = documents.remove(ws.project, int(body["doc"]), str(body.get("confirm", "")), coder=ws.coder)
    return {"message": text("docs.removed", body.get("lang", ws.lang), name=removed.name, codings=removed.codings,
                            memos=removed.memos, backup=removed.backup),
            "backup": removed.backup, "reload": True}


def api_doc_role(ws: Workspace, body: dict) -> dict:
    n = documents.set_role(ws.project, int(body["doc"]), str(body.get("speaker", "")), str(body.get("role", "")))
    return {"message": f"{n} passages"}


API = {
    "code": api_code, "decide": api_decide, "recode": api_recode, "remove": api_remove, "memo": api_memo,
    "undo": api_undo, "new-code": api_new_code, "review": api_review, "doc-meta": api_doc_meta,
    "doc-role": api_doc_role, "doc-remove": api_doc_remove, "adjudicate": api_adjudicate,
}


async def api_endpoint(ws: Workspace, request: Request) -> Response:
    handler = API.get(request.path_params["action"])
    if handler is None:
        return JSONResponse({"error": "no such action"}, status_code=404)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return JSONResponse({"error": "the request body must be a JSON object"}, status_code=400)
    body["lang"] = language(request.cookies.get(LANG_COOKIE, ws.lang))  # for messages said in the page's language
    try:
        result = handler(ws, body)
    except QualcodeError as exc:
        if isinstance(exc, Conflict) or exc.exit_code == EXIT_PARTIAL:  # the library's conflicts (exit 4)
            return JSONResponse({"error": exc.message, "hint": exc.hint or "", "conflict": True}, status_code=409)
        return JSONResponse({"error": exc.message, "hint": exc.hint or ""}, status_code=400)
    except (KeyError, TypeError, ValueError) as exc:
        return JSONResponse({"error": f"bad request: {exc}"}, status_code=400)
    spans = result.pop("spans", [])
    if isinstance(body.get("view"), dict) and spans and not result.get("reload"):
        lang = language(request.cookies.get(LANG_COOKIE, ws.lang))
        result["passages"] = _passages_html(ws, lang, body["view"], spans)
    return JSONResponse(result)


# ---------------------------------------------------------------------------- the application


def _page(ws: Workspace, handler):
    async def endpoint(request: Request):
        try:
            return await handler(ws, request)
        except QualcodeError as exc:
            status = 404 if isinstance(exc, NotFound) else 400
            return render(ws, request, "error.html", status_code=status, message=exc.message, hint=exc.hint or "")
    return endpoint


def create_app(project, coder: str | None = None, token: str | None = None,
               lang: str = "zh") -> tuple[TokenGuard, Workspace]:
    """The ASGI application over ``project`` and its :class:`Workspace` (token, CSRF token, coder)."""
    ws = Workspace(CachedCodebook(project), annotate.coder_name(project, coder), lang=language(lang))
    if token:
        ws.token = token
    routes: list[BaseRoute] = [Route(path, _page(ws, handler), methods=["GET", "HEAD"]) for path, handler in PAGES]

    async def api(request: Request) -> Response:
        return await api_endpoint(ws, request)

    routes.append(Route("/api/{action}", api, methods=["POST"]))
    routes.append(Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"))

    async def not_found(request: Request, exc) -> Response:
        return render(ws, request, "error.html", status_code=404, message=text("error.not_found", ws.lang), hint="")

    app = Starlette(routes=routes, exception_handlers={404: not_found})
    return TokenGuard(app, ws.token, ws.csrf), ws
