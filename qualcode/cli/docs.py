"""``qualcode docs``: list, show and adjust imported documents."""
from __future__ import annotations

import json

import click

from qualcode.cli.options import open_project, output_option, parse_attrs, render


@click.group()
def docs():
    """List, show and adjust imported documents."""


DOC_COLUMNS = ["id", "name", "case", "speakers", "passages", "characters", "encoding", "style", "warnings"]


@docs.command("list")
@output_option
@click.pass_context
def docs_list(ctx, fmt):
    """Documents with case, speakers, passages, characters, encoding, style and warnings."""
    from qualcode.store import queries
    render(queries.list_documents(open_project(ctx).store), DOC_COLUMNS, fmt)


@docs.command("show")
@click.argument("doc")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def docs_show(ctx, doc, fmt):
    """The segmented document: passages with ids, speakers, roles, offsets and sentences."""
    from qualcode.store import queries
    project = open_project(ctx)
    info = queries.document_detail(project.store, project.document_id(doc))
    if fmt == "json":
        click.echo(json.dumps(info, ensure_ascii=False, indent=1))
        return
    click.echo(f"{info['id']}  {info['name']}  case={info['case'] or '-'}  style={info['style']}  "
               f"encoding={info['encoding']}  script={info['script']}  {info['n_chars']} characters")
    for key, value in sorted(info["attributes"].items()):
        click.echo(f"  {key}: {value}")
    for sp in info["speakers"]:
        click.echo(f"  speaker {sp['label']}: {sp['role'] or 'unknown role'}")
    for note in info["notes"]:
        click.echo(f"  inferred: {note}")
    for w in info["warnings"]:
        click.echo(f"  warning: {w}")
    for p in info["passages"]:
        who = f"{p['speaker']} ({p['role'] or '?'})" if p["speaker"] else "-"
        stamp = f" [{p['timestamp']}]" if p["timestamp"] else ""
        click.echo(f"\n{p['passage']}  [{p['start']}, {p['end']}){stamp}  {who}  {len(p['sentences'])} sentences")
        click.echo(f"  {p['text']}")


@docs.command("set-role")
@click.argument("doc")
@click.argument("speaker")
@click.argument("role")
@click.pass_context
def docs_set_role(ctx, doc, speaker, role):
    """Set SPEAKER's ROLE in DOC (interviewer, interviewee or other; 采访者/受访者 accepted)."""
    from qualcode.ingest.speakers import parse_role
    from qualcode.store import queries

    try:
        role = parse_role(role)
    except ValueError:
        raise click.BadParameter(f"{role!r}; use interviewer, interviewee or other", param_hint="ROLE") from None
    project = open_project(ctx)
    n = queries.set_speaker_role(project.store, project.document_id(doc), speaker, role)
    click.echo(f"{speaker} is now {role} ({n} passages)")


@docs.command("remove")
@click.argument("refs", nargs=-1, required=True, metavar="DOC...")
@click.option("--coder", default=None, help="Who removes them (default: the project's coder).")
@click.pass_context
def docs_remove(ctx, refs, coder):
    """Remove documents; their codings and memos are first saved to outputs/removed-<doc>-<time>.csv.

    Each removal is in the audit log; 'qualcode undo' puts the document back."""
    from qualcode.annotate.documents import remove_documents
    project = open_project(ctx)
    for r in remove_documents(project, [project.document_id(ref) for ref in refs], coder):
        click.echo(f"removed {r.name} (document {r.document}): {r.codings} codings, {r.memos} memos "
                   f"saved to {r.backup}")


@docs.command("set")
@click.argument("doc")
@click.option("--case", default=None, help="The document's case ('' clears it).")
@click.option("--attr", "attrs", multiple=True, metavar="KEY=VALUE",
              help="Set an attribute (KEY= removes it); repeatable.")
@click.option("--name", default=None, help="A new document name.")
@click.option("--coder", default=None, help="Who changes it (default: the project's coder).")
@click.pass_context
def docs_set(ctx, doc, case, attrs, name, coder):
    """Change DOC's case, attributes (the interviewee code is 'role') or name; audited, undoable."""
    from qualcode.annotate.documents import set_document
    project = open_project(ctx)
    change = set_document(project, project.document_id(doc), case=case, attributes=parse_attrs(attrs),
                          name=name, coder=coder)
    click.echo("\n".join(change.changes) if change.changes else f"{change.name}: unchanged")


COMMANDS = [docs]
