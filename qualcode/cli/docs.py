"""``qualcode docs``: list, show and adjust imported documents."""
from __future__ import annotations

import json

import click

from qualcode.cli.options import open_project, output_option, render


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


COMMANDS = [docs]
