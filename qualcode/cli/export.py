"""``qualcode export``: tables (passages, codings), REFI-QDA (qdc, qdpx) and spaCy training data."""
from __future__ import annotations

from pathlib import Path

import click

from qualcode.cli.options import open_project, origin_option, status_option, write_table
from qualcode.vocabulary import CODING_UNITS


@click.group()
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
@status_option()
@origin_option()
@click.pass_context
def export_codings(ctx, fmt, output, docs_, code, coder, status, origin):
    """Codings with their document, case, speaker, role, passage, span, text, code and evidence."""
    from qualcode.store import queries
    project = open_project(ctx)
    ids = [project.document_id(d) for d in docs_] or None
    rows = queries.codings(project.store, doc_ids=ids, code=code, coder=coder, status=list(status), origin=list(origin))
    write_table(rows, queries.CODING_COLUMNS, fmt, output, sheet="codings", what="codings")


validate_option = click.option(
    "--validate", is_flag=True,
    help="Check the XML against the REFI-QDA schema shipped with qualcode before writing; nothing is written if it fails.")


@export.command("qdc")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--codebook", "codebook_file", type=click.Path(exists=True, dir_okay=False),
              help="Export this YAML codebook instead of the project's.")
@validate_option
@click.pass_context
def export_qdc(ctx, file, codebook_file, validate):
    """Write the codebook as a REFI-QDA .qdc file (NVivo, ATLAS.ti, MAXQDA, QualCoder)."""
    from qualcode.exchange import export_qdc as run

    report = run(open_project(ctx), Path(file), codebook=Path(codebook_file) if codebook_file else None,
                 validate=validate)
    click.echo(f"Wrote {report.summary()} to {file}")


@export.command("qdpx")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--proposed", is_flag=True, help="Also export unreviewed proposals (default: accepted codings only).")
@validate_option
@click.pass_context
def export_qdpx(ctx, file, proposed, validate):
    """Write the whole project as a REFI-QDA .qdpx: sources, codes, codings, coders, cases, attributes, memos."""
    from qualcode.exchange import export_qdpx as run

    report = run(open_project(ctx), Path(file), include_proposed=proposed, validate=validate)
    click.echo(f"Wrote {report.summary()} to {file}")


@export.command("spacy")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--unit", type=click.Choice(CODING_UNITS), default="passage", show_default=True,
              help="One Doc per passage or per sentence.")
@click.option("--doc", "docs_", multiple=True, help="Only these documents (id or name); repeatable.")
@click.option("--code", help="Only this code and its descendants (path, e.g. governance).")
@click.option("--coder", help="Only this coder's codings.")
@status_option("Repeatable (default: accepted).")
@origin_option()
@click.pass_context
def export_spacy(ctx, file, unit, docs_, code, coder, status, origin):
    """Write passages (or sentences) with their codings as a spaCy DocBin (FILE.spacy) for spancat/textcat."""
    from qualcode.exchange.spacy_docs import export_spacy as run

    report = run(open_project(ctx), Path(file), unit=unit, docs=docs_, code=code, coder=coder,
                 statuses=status or ("accepted",), origins=origin)
    click.echo(f"Wrote {report.summary()} to {file}")


COMMANDS = [export]
