"""Manual coding, review, spreadsheets, memos, audit log, undo and merge (issue 4)."""
from __future__ import annotations

from pathlib import Path

import click

from qualcode.cli.options import (
    coder_option,
    open_project,
    origin_option,
    output_option,
    render,
    status_option,
)
from qualcode.errors import EXIT_PARTIAL
from qualcode.vocabulary import MEMO_TARGETS


def _short(text: str, n: int = 40) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


@click.group()
def code():
    """Code by hand: add, remove and list codings; add emergent (in-vivo) codes."""


@code.command("add")
@click.argument("args", nargs=-1, required=True, metavar="[PASSAGE] CODE")
@click.option("--doc", help="Document (id or name) for --quote or --start/--end.")
@click.option("--quote", help="Code this exact text (found in the document, or in PASSAGE); must occur once.")
@click.option("--start", type=int, help="Span start (character offset in the document).")
@click.option("--end", type=int, help="Span end (exclusive).")
@click.option("--memo", help="Attach a memo to the new coding.")
@click.option("--absent", is_flag=True,
              help="Negative evidence: the text says the mechanism is missing or only on paper (挂个牌子).")
@coder_option
@click.pass_context
def code_add(ctx, args, doc, quote, start, end, memo, absent, coder):
    """Code a passage (3:12), a quote (--doc D --quote 原文) or a span (--doc D --start S --end E)."""
    from qualcode.annotate.codings import add_coding

    if len(args) > 2:
        raise click.UsageError("give at most a passage id and a code")
    passage, code_ref = (args[0], args[1]) if len(args) == 2 else (None, args[0])
    if passage is None and doc is None:
        raise click.UsageError("give a passage id (3:12), or --doc with --quote or --start/--end")
    row = add_coding(open_project(ctx), code_ref, passage=passage, doc=doc, quote=quote, start=start, end=end,
                     coder=coder, memo=memo, absent=absent)
    mark = " (absent)" if row["absent"] else ""
    click.echo(f"coding {row['id']}: {row['code']}{mark} [{row['start']}, {row['end']}) by {row['coder']}")


@code.command("remove")
@click.argument("coding")
@coder_option
@click.pass_context
def code_remove(ctx, coding, coder):
    """Remove a manual or imported coding (proposals are rejected instead)."""
    from qualcode.annotate.codings import remove_coding

    row = remove_coding(open_project(ctx), coding, coder=coder)
    click.echo(f"removed coding {row['id']}: {row['code']} [{row['start']}, {row['end']}) by {row['coder']}")


@code.command("list")
@click.option("--doc", help="Only this document (id or name).")
@click.option("--passage", help="Only this passage (DOC:SEQ).")
@click.option("--code", "code_", help="Only this code and its descendants.")
@click.option("--coder", help="Only this coder's codings.")
@status_option()
@origin_option()
@output_option
@click.pass_context
def code_list(ctx, doc, passage, code_, coder, status, origin, fmt):
    """Codings with their passage, span, code, coder, origin, status and text."""
    from qualcode.annotate.codings import LIST_COLUMNS, list_codings
    from qualcode.store.queries import CODING_COLUMNS

    project = open_project(ctx)
    # blind coding: the person listing (QUALCODE_CODER) sees no other coder's work on their open blind assignments
    rows = list_codings(project, doc=doc, passage=passage, code=code_, coder=coder,
                        status=list(status), origin=list(origin), viewer=project.default_coder)
    if fmt == "table":  # the essentials, text shortened; csv/json carry every column
        render([dict(r, text=_short(r["text"]), code=r["code"] + (" (absent)" if r["absent"] else ""))
                for r in rows], LIST_COLUMNS, fmt)
    else:
        render(rows, ["id"] + [c for c in CODING_COLUMNS if c != "id"] + ["absent", "pin_note"], fmt)


@code.command("new")
@click.argument("code_id", metavar="ID")
@click.option("--parent", help="Parent code (path, id or label); default: a top-level code.")
@click.option("--label", required=True, help="Chinese label (中文名).")
@click.option("--label-en", help="English label.")
@click.option("--definition", help="Definition.")
@coder_option
@click.pass_context
def code_new(ctx, code_id, parent, label, label_en, definition, coder):
    """Add an emergent (in-vivo) code to the project's codebook file (comments are kept)."""
    from qualcode.annotate.codings import new_code

    project = open_project(ctx)
    c = new_code(project, code_id, parent, label, label_en=label_en, definition=definition, coder=coder)
    click.echo(f"added code {c.path} ({c.label_zh}) to {project.codebook_path.relative_to(project.root)}")


def _decide_command(decision: str):
    verb = "accept" if decision == "accepted" else "reject"

    @click.argument("codings", nargs=-1)
    @click.option("--code", "code_", help="Every matching coding of this code (and its descendants).")
    @origin_option("Only this origin; repeatable.")
    @click.option("--doc", help="Only this document (id or name).")
    @status_option("With filters: codings with this status (default: proposed); repeatable.")
    @coder_option
    @click.pass_context
    def command(ctx, codings, code_, origin, doc, status, coder):
        from qualcode.annotate.codings import decide

        if codings and (code_ or origin or doc or status):
            raise click.UsageError("give coding ids or filters, not both")
        if not codings and not (code_ or origin or doc):
            raise click.UsageError("give coding ids, or filters (--code, --origin, --doc)")
        report = decide(open_project(ctx), decision, list(codings), code=code_, origin=list(origin), doc=doc,
                        status=list(status), coder=coder)
        for c in report.conflicts:
            click.echo(f"conflict: coding {c['id']} ({c['code']}) was already {c['status']} by {c['coder']} "
                       f"at {c['at']}; their decision is kept", err=True)
        click.echo(report.summary())
        if report.conflicts:
            ctx.exit(EXIT_PARTIAL)

    command.__doc__ = f"{verb.capitalize()} codings by id, or every proposal matching the filters."
    return click.command(verb)(command)


accept = _decide_command("accepted")
reject = _decide_command("rejected")


@click.group()
def memo():
    """Memos on codes, documents, passages and codings."""


@memo.command("add")
@click.argument("target_type", type=click.Choice(MEMO_TARGETS))
@click.argument("target")
@click.argument("text")
@coder_option
@click.pass_context
def memo_add(ctx, target_type, target, text, coder):
    """Write a memo on a code (path), doc (id or name), passage (3:12) or coding (id)."""
    from qualcode.annotate.memos import add_memo

    m = add_memo(open_project(ctx), target_type, target, text, coder=coder)
    click.echo(f"memo {m['id']} on {m['target_type']} {m['target']} by {m['coder']}")


@memo.command("list")
@click.option("--type", "target_type", type=click.Choice(MEMO_TARGETS))
@click.option("--target", help="With --type: only memos on this target.")
@click.option("--coder", help="Only this coder's memos.")
@output_option
@click.pass_context
def memo_list(ctx, target_type, target, coder, fmt):
    """Memos, oldest first."""
    from qualcode.annotate.memos import MEMO_COLUMNS, list_memos

    render(list_memos(open_project(ctx), target_type, target, coder), MEMO_COLUMNS, fmt)


@click.command("log")
@click.option("--coder", help="Only this coder's actions.")
@click.option("--limit", type=click.IntRange(1), help="Only the newest N actions.")
@output_option
@click.pass_context
def log_(ctx, coder, limit, fmt):
    """The audit trail, newest first (undone actions are marked)."""
    from qualcode.annotate.audit import LOG_COLUMNS, audit_log

    render(audit_log(open_project(ctx), coder=coder, limit=limit), LOG_COLUMNS, fmt)


@click.command()
@click.argument("n", type=click.IntRange(1), default=1)
@coder_option
@click.pass_context
def undo(ctx, n, coder):
    """Undo your last N actions (codings, decisions, memos, new codes, sheet imports, merges)."""
    from qualcode.annotate.audit import undo as run_undo

    for entry in run_undo(open_project(ctx), n, coder=coder):
        click.echo(f"undid #{entry['id']} {entry['action']} {entry['target']}: {entry['summary']}")


@click.command()
@click.option("--code", "code_", help="Only proposals of this code (and its descendants).")
@click.option("--doc", help="Only proposals in this document.")
@click.option("--order", type=click.Choice(["document", "confidence", "uncertainty"]), default="document",
              show_default=True, help="Reading order, most likely first, or closest to 50/50 first.")
@click.option("--context", type=click.IntRange(0, 10), default=1, show_default=True,
              help="Turns shown before and after the passage.")
@click.option("--reset", is_flag=True, help="Forget skipped proposals and start the queue again.")
@coder_option
@click.pass_context
def review(ctx, code_, doc, order, context, reset, coder):
    """Review proposals one at a time with single keys; quitting saves, re-running resumes."""
    from qualcode.annotate.review import ReviewSession
    from qualcode.cli.review import run_review

    session = ReviewSession(open_project(ctx), coder=coder, code=code_, doc=doc, order=order, context=context)
    if reset:
        session.reset()
    click.echo(run_review(session))


@click.group()
def sheet():
    """Code in Excel/WPS: export a coding sheet, import the coder's changes."""


@sheet.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True, help="The .xlsx file to write.")
@click.option("--code", "code_", help="Only this code and its descendants as columns.")
@click.option("--doc", "docs_", multiple=True, help="Only these documents (id or name); repeatable.")
@coder_option
@click.pass_context
def sheet_export(ctx, output, code_, docs_, coder):
    """One row per passage, one column per code; your codings and open proposals pre-filled."""
    from qualcode.annotate.sheets import export_sheet

    r = export_sheet(open_project(ctx), Path(output), coder=coder, code=code_, docs=list(docs_))
    click.echo(f"Wrote {r.rows} passages × {r.codes} codes to {output} ({r.coded} coded, {r.proposed} proposed)")


@sheet.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@coder_option
@click.pass_context
def sheet_import(ctx, file, dry_run, coder):
    """Apply the differences in FILE as the coder's codings; report conflicts and refused rows."""
    from qualcode.annotate.sheets import import_sheet
    from qualcode.errors import EXIT_PARTIAL

    r = import_sheet(open_project(ctx), Path(file), coder=coder, dry_run=dry_run)
    for col in r.unknown_columns:
        click.echo(f"ignored column {col!r}: not a code in the codebook", err=True)
    for row in r.refused:
        click.echo(f"refused row {row['row']} ({row['passage']}): {row['reason']}", err=True)
    for c in r.conflicts:
        click.echo(f"conflict {c['passage']} {c['code']}: sheet says {c['sheet']}, project has "
                   f"{c['project'] or '-'} ({c['reason']})", err=True)
    click.echo(("dry run: " if dry_run else "") + r.summary())
    if r.refused or r.conflicts:
        ctx.exit(EXIT_PARTIAL)


@click.command()
@click.argument("other", type=click.Path(file_okay=False))
@coder_option
@output_option
@click.pass_context
def merge(ctx, other, coder, fmt):
    """Bring OTHER project's coders, codings and memos in (documents matched by content)."""
    from qualcode.annotate.merge import CONFLICT_COLUMNS, merge_project
    from qualcode.errors import EXIT_PARTIAL

    r = merge_project(open_project(ctx), Path(other), coder=coder)
    click.echo(f"Matched {r.documents_matched} documents; coders: {', '.join(r.coders) or '-'}")
    if r.documents_missing:
        click.echo(f"{len(r.documents_missing)} documents are not in this project (import them first): "
                   + ", ".join(r.documents_missing), err=True)
    if r.unknown_codes:
        click.echo("codes not in this codebook: " + ", ".join(r.unknown_codes), err=True)
    if r.proposals_skipped:
        click.echo(f"{r.proposals_skipped} undecided proposals not copied (run autocode here)")
    if r.memos_skipped:
        click.echo(f"{r.memos_skipped} memos skipped: their target is not in this project", err=True)
    click.echo(r.summary())
    if r.conflicts:
        click.echo("Conflicts (this project's version kept):")
        render(r.conflicts, CONFLICT_COLUMNS, fmt)
        ctx.exit(EXIT_PARTIAL)


@click.group()
def quote():
    """Exemplar quotes chosen by hand: pinned codings are quoted first in the reports."""


@quote.command("pin")
@click.argument("coding")
@click.option("--note", help="Why this quote (kept with the pin, shown in 'quote list').")
@coder_option
@click.pass_context
def quote_pin(ctx, coding, note, coder):
    """Pin CODING (an id from 'code list') as the exemplar quote of its code."""
    from qualcode.annotate.quotes import pin_quote

    row = pin_quote(open_project(ctx), coding, note=note, coder=coder)
    click.echo(f"pinned coding {row['id']}: {row['code']} [{row['start']}, {row['end']})"
               + (f" — {row['pin_note']}" if row["pin_note"] else ""))


@quote.command("unpin")
@click.argument("coding")
@coder_option
@click.pass_context
def quote_unpin(ctx, coding, coder):
    """Take the pin off CODING."""
    from qualcode.annotate.quotes import unpin_quote

    row = unpin_quote(open_project(ctx), coding, coder=coder)
    click.echo(f"unpinned coding {row['id']}: {row['code']} [{row['start']}, {row['end']})")


@quote.command("list")
@click.option("--code", "code_", help="Only this code and its descendants.")
@output_option
@click.pass_context
def quote_list(ctx, code_, fmt):
    """The pinned quotes with their note, who pinned them and the quoted text."""
    from qualcode.annotate.quotes import PIN_COLUMNS, pinned_quotes
    from qualcode.annotate.resolve import resolve_code

    project = open_project(ctx)
    path = resolve_code(project.codebook(), code_) if code_ else None
    rows = pinned_quotes(project, path)
    if fmt == "table":
        rows = [dict(r, text=_short(r["text"])) for r in rows]
    render(rows, PIN_COLUMNS, fmt)


@click.command()
@click.option("--coders", required=True, help="The coders whose disagreements are settled, comma-separated (e.g. 王,李).")
@click.option("--doc", "docs_", multiple=True, help="Only this document (id or name); repeatable.")
@click.option("--unit", type=click.Choice(["passage", "sentence", "document"]), default="passage", show_default=True,
              help="The units compared (as in 'qualcode agreement').")
@click.option("--codes", "codes", multiple=True, metavar="PATH", help="Only these codes; repeatable or comma-separated.")
@click.option("--roles", default="interviewee,unknown", show_default=True,
              help="Whose turns are units: speakers' roles, comma-separated, or 'all'.")
@click.option("--consensus", help="Coder name of the agreed codings (default: [team] consensus_coder, 'consensus').")
@click.option("--list", "list_", is_flag=True, help="List what was settled (with the reasons) instead of walking.")
@click.option("--status", "status_", is_flag=True, help="Say where the adjudication stands, carrying agreements in.")
@coder_option
@output_option
@click.pass_context
def adjudicate(ctx, coders, docs_, unit, codes, roles, consensus, list_, status_, coder, fmt):
    """Settle the coders' disagreements one at a time into the consensus coder, with a reason each;
    their agreements are carried into the consensus automatically."""
    from qualcode.annotate.adjudicate import ADJUDICATION_COLUMNS, AdjudicationSession
    from qualcode.cli.agreement import _coders, _codes, _roles

    session = AdjudicationSession(open_project(ctx), _coders(coders), docs=list(docs_) or None, unit=unit,
                                  codes=_codes(codes), consensus=consensus, adjudicator=coder, roles=_roles(roles))
    if list_:
        render(session.settled(), ADJUDICATION_COLUMNS, fmt)
        return
    carried = session.carry_agreements()
    if carried:
        click.echo(f"Carried {carried} agreements of {', '.join(session.coders)} into {session.consensus}")
    if status_:
        click.echo(session.summary().line())
        return
    from qualcode.cli.adjudication import run_adjudication

    click.echo(run_adjudication(session))


COMMANDS = [code, accept, reject, memo, log_, undo, review, sheet, merge, quote, adjudicate]
