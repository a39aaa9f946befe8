"""Projects, import, documents, exports, codebook, auto-coding and evaluation."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from qualcode.cli import cli, open_project, output_option, render, write_table
from qualcode.errors import EXIT_PARTIAL


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False), default=".")
@click.option("--db", help="Database: a SQLite file name (default qualcode.db) or a postgresql:// URL.")
@click.option("--name", help="Project name (default: the directory name).")
def init(directory, db, name):
    """Create a project in DIRECTORY: qualcode.toml, qualcode.db, codebooks/, outputs/."""
    from qualcode.project import Project

    project = Project.init(Path(directory), db=db, name=name)
    click.echo(f"Created qualcode project {project.name!r} in {project.root}")
    if project.codebook_path:
        click.echo(f"Codebook: {project.codebook_path.relative_to(project.root)}")


def _parse_attrs(values: tuple[str, ...]) -> dict[str, str]:
    attrs = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="--attr")
        attrs[key.strip()] = val.strip()
    return attrs


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--case", help="Case (e.g. the street, N街道) for every imported document.")
@click.option("--attr", "attrs", multiple=True, metavar="KEY=VALUE", help="Document attribute; repeatable.")
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False),
              help="CSV/XLSX sheet: file (name, path or glob) → case, role, date, other columns.")
@click.option("--case-from-folder", is_flag=True, help="Use each file's folder name as its case.")
@click.option("--encoding", help="Force a text encoding (e.g. gb18030, big5, utf-16) instead of detecting it.")
@click.option("--format", "style", type=click.Choice(["feishu", "iflytek", "bracketed", "timestamp", "merged", "qa",
              "srt", "vtt", "quote", "plain"]), help="Force a transcript style instead of detecting it per file.")
@click.option("--script", type=click.Choice(["keep", "simplified", "traditional"]), default="keep", show_default=True,
              help="Convert the stored text to one script (matching works across scripts either way).")
@click.option("--replace", is_flag=True, help="Replace documents whose file changed (codings are carried over).")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes for parsing and segmentation.")
@click.pass_context
def import_(ctx, paths, case, attrs, manifest, case_from_folder, encoding, style, script, replace, jobs):
    """Import transcripts (files or folders, recursively) into the project.

    \b
    Also: qualcode import qdpx FILE.qdpx | qualcode import qdc FILE.qdc (REFI-QDA).
    """
    if len(paths) == 2 and paths[0] in ("qdpx", "qdc"):
        from qualcode.cli.exchange import import_exchange

        return import_exchange(ctx, paths[0], Path(paths[1]))
    from qualcode.ingest.pipeline import FAILED, ImportOptions, import_paths

    project = open_project(ctx)
    man = None
    if manifest:
        from qualcode.ingest.manifest import load_manifest

        man = load_manifest(Path(manifest))
    options = ImportOptions(case=case, attributes=_parse_attrs(attrs), manifest=man, encoding=encoding,
                            style=style, script=script, case_from_folder=case_from_folder, replace=replace)
    bar: dict[str, Any] = {"obj": None}

    def on_total(n):
        if n > 3 and sys.stderr.isatty():
            bar["obj"] = click.progressbar(length=n, label="Importing", file=sys.stderr)
            bar["obj"].__enter__()

    def progress(result):
        if bar["obj"] is not None and result.status != "skipped":
            bar["obj"].update(1)
        if result.status not in ("imported",):
            if bar["obj"] is None or result.status in ("skipped", FAILED, "changed"):
                click.echo(f"{result.status}: {result.message}", err=result.status in ("skipped", FAILED))

    try:
        report = import_paths(project, [Path(p) for p in paths], options, jobs=jobs, progress=progress, on_total=on_total)
    finally:
        if bar["obj"] is not None:
            bar["obj"].__exit__(None, None, None)
    for r in report.results:
        if r.status == "imported":
            click.echo(f"imported: {r.document} ({r.message})")
    click.echo(report.summary())
    if not report.ok:
        ctx.exit(EXIT_PARTIAL)


@cli.group()
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


@cli.group()
def export():
    """Export tables (passages, codings) as CSV, JSON or XLSX, REFI-QDA (qdc, qdpx) and spaCy training data."""


@export.command("passages")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "xlsx"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), required=True,
              help="File to write; - for standard output (csv, json).")
@click.option("--doc", "docs_", multiple=True, help="Only these documents (id or name); repeatable.")
@click.pass_context
def export_passages(ctx, fmt, output, docs_):
    """Every passage with its document, case, speaker, role, offsets and text."""
    from qualcode.store import queries
    project = open_project(ctx)
    ids = [project.document_id(d) for d in docs_] or None
    rows = queries.passages(project.store, doc_ids=ids)
    write_table(rows, queries.PASSAGE_COLUMNS, fmt, output, sheet="passages", what="passages")


@export.command("codings")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "xlsx"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), required=True,
              help="File to write; - for standard output (csv, json).")
@click.option("--doc", "docs_", multiple=True, help="Only these documents (id or name); repeatable.")
@click.option("--code", help="Only this code and its descendants (path, e.g. governance).")
@click.option("--coder", help="Only this coder's codings.")
@click.option("--status", multiple=True, type=click.Choice(["proposed", "accepted", "rejected"]), help="Repeatable.")
@click.option("--origin", multiple=True, type=click.Choice(["rule", "manual", "model", "import"]), help="Repeatable.")
@click.pass_context
def export_codings(ctx, fmt, output, docs_, code, coder, status, origin):
    """Codings with their document, case, speaker, role, passage, span, text, code and evidence."""
    from qualcode.store import queries
    project = open_project(ctx)
    ids = [project.document_id(d) for d in docs_] or None
    rows = queries.codings(project.store, doc_ids=ids, code=code, coder=coder, status=list(status), origin=list(origin))
    write_table(rows, queries.CODING_COLUMNS, fmt, output, sheet="codings", what="codings")


@cli.group()
def codebook():
    """Validate, show and choose the codebook."""


@codebook.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def codebook_validate(ctx, file):
    """Check FILE and list every problem at once (file:line: YAML path: problem)."""
    from qualcode.codebook.model import load_codebook

    cb = load_codebook(Path(file))
    n_rules = sum(len(c.rules) for c in cb.codes)
    click.echo(f"{file}: OK ({len(cb.codes)} codes, {n_rules} rules, {len(cb.terms())} terms, version {cb.version[:12]})")


@codebook.command("show")
@click.argument("file", type=click.Path(dir_okay=False), required=False)
@output_option
@click.pass_context
def codebook_show(ctx, file, fmt):
    """The code tree with rule and coding counts (the project's codebook by default)."""
    from qualcode.store.queries import codebook_rows

    project = open_project(ctx)
    cb = project.codebook(Path(file) if file else None)
    rows = codebook_rows(project.store, cb)
    if fmt == "table":
        for r in rows:
            click.echo(f"{'  ' * r['depth']}{r['path']}  {r['label']} / {r['label_en']}  "
                       f"rules={r['rules']} proposed={r['proposed']} accepted={r['accepted']} "
                       f"rejected={r['rejected']} manual={r['manual']}")
    else:
        render(rows, ["path", "label", "label_en", "depth", "rules", "proposed", "accepted", "rejected", "manual"], fmt)


@codebook.command("use")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def codebook_use(ctx, file):
    """Validate FILE and make it the project's codebook (copied into codebooks/)."""

    project = open_project(ctx)
    cb = project.use_codebook(Path(file))
    click.echo(f"Codebook is now {project.codebook_path.relative_to(project.root)} ({len(cb.codes)} codes)")


@cli.command()
@click.option("--codebook", "codebook_file", type=click.Path(exists=True, dir_okay=False),
              help="Use this codebook instead of the project's.")
@click.option("--unit", type=click.Choice(["passage", "sentence"]), default="passage", show_default=True)
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@click.pass_context
def autocode(ctx, codebook_file, unit, dry_run):
    """Propose codings from the codebook's rules, with their evidence (idempotent)."""
    from qualcode.autocode.run import autocode as run_autocode

    project = open_project(ctx)
    cb = project.codebook(Path(codebook_file) if codebook_file else None)
    report = run_autocode(project, cb, unit=unit, dry_run=dry_run)
    if dry_run:
        for ch in report.changes:
            click.echo(f"would {ch['change']}: document {ch['document']} [{ch['start']}, {ch['end']}) {ch['code']}")
        click.echo("dry run: " + report.summary())
        return
    click.echo(f"Coded {report.units} {unit}s in {report.documents} documents with {Path(report.codebook).name} "
               f"(version {report.version[:12]})")
    if report.retokenized:
        click.echo(f"Re-segmented {report.retokenized} documents for the changed user dictionary")
    click.echo(report.summary())


@cli.command()
@click.option("--gold", type=click.Path(exists=True, dir_okay=False), required=True,
              help="Hand-coded gold CSV (columns as 'export codings': document, start, end, text, code).")
@click.option("--origin", multiple=True, type=click.Choice(["rule", "manual", "model", "import"]),
              help="Which codings to score (default: rule proposals). Repeatable.")
@click.option("--status", multiple=True, type=click.Choice(["proposed", "accepted", "rejected"]),
              help="Only codings with these statuses (default: all). Repeatable.")
@output_option
@click.pass_context
def evaluate(ctx, gold, origin, status, fmt):
    """Precision, recall and F1 per code and per stage against a gold standard."""
    from qualcode.autocode.evaluate import EVAL_COLUMNS, evaluate as run_evaluate

    project = open_project(ctx)
    rows = run_evaluate(project.store, Path(gold), origins=origin or ("rule",), statuses=status)
    render(rows, EVAL_COLUMNS, fmt)
