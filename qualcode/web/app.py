"""The browser workspace: one Starlette application over an open project.

Pages are listed in ``PAGES`` (path → handler) and each renders one template from
``templates/``; adding a page is one handler here and one template. Changes go through
``/api/...`` (JSON in, JSON out) and call the same library functions as the command line
(``annotate.add_coding``, ``decide``, ``change_code``, ``add_memo``, ``undo``, ``new_code``,
``review.ReviewSession``), so the audit log, undo and the conflict rules are the CLI's:
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
from qualcode.annotate.review import ORDERS, ReviewSession
from qualcode.errors import EXIT_PARTIAL, NotFound, QualcodeError
from qualcode.reports import Selection, chain, chain_summary, load
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
class Workspace:
    """The open project, the coder every change is made as, and the access tokens."""

    project: Any  # a CachedCodebook: the Project with its codebook cached
    coder: str
    token: str = field(default_factory=new_token)
    csrf: str = field(default_factory=new_token)
    lang: str = "zh"

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


async def chain_page(ws: Workspace, request: Request):
    q = _drill_query(request.query_params)
    data = load(ws.project, Selection(proposed=q.proposed))
    table = chain(data, by=q.by)
    return render(ws, request, "chain.html", q=q, rows=table.to_dict("records"), breaks=table.attrs.get("breaks", {}),
                  summary=chain_summary(table), attributes=data.attribute_keys, codebook=ws.codebook())


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


def api_doc_role(ws: Workspace, body: dict) -> dict:
    n = documents.set_role(ws.project, int(body["doc"]), str(body.get("speaker", "")), str(body.get("role", "")))
    return {"message": f"{n} passages"}


API = {
    "code": api_code, "decide": api_decide, "recode": api_recode, "remove": api_remove, "memo": api_memo,
    "undo": api_undo, "new-code": api_new_code, "review": api_review, "doc-meta": api_doc_meta,
    "doc-role": api_doc_role,
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
