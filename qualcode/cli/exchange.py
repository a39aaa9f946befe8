"""REFI-QDA export and import (issue 8): qualcode export qdc|qdpx, qualcode import qdc|qdpx; and
qualcode export spacy (coded passages as spaCy training data)."""
from __future__ import annotations

from pathlib import Path

import click

from qualcode.cli import open_project
from qualcode.cli.core import export

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
@click.option("--unit", type=click.Choice(["passage", "sentence"]), default="passage", show_default=True,
              help="One Doc per passage or per sentence.")
@click.option("--doc", "docs_", multiple=True, help="Only these documents (id or name); repeatable.")
@click.option("--code", help="Only this code and its descendants (path, e.g. governance).")
@click.option("--coder", help="Only this coder's codings.")
@click.option("--status", multiple=True, type=click.Choice(["proposed", "accepted", "rejected"]),
              help="Repeatable (default: accepted).")
@click.option("--origin", multiple=True, type=click.Choice(["rule", "manual", "model", "import"]), help="Repeatable.")
@click.pass_context
def export_spacy(ctx, file, unit, docs_, code, coder, status, origin):
    """Write passages (or sentences) with their codings as a spaCy DocBin (FILE.spacy) for spancat/textcat."""
    from qualcode.exchange.spacy_docs import export_spacy as run

    report = run(open_project(ctx), Path(file), unit=unit, docs=docs_, code=code, coder=coder,
                 statuses=status or ("accepted",), origins=origin)
    click.echo(f"Wrote {report.summary()} to {file}")


def import_exchange(ctx, kind: str, path: Path) -> None:
    """``qualcode import qdpx FILE`` / ``qualcode import qdc FILE`` (dispatched from core.import_)."""
    from qualcode.exchange import import_qdc, import_qdpx

    project = open_project(ctx)
    report = (import_qdpx if kind == "qdpx" else import_qdc)(project, path)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for doc, unit in sorted(report.units.items()):
        click.echo(f"positions in {doc} were {unit}; converted to code points")
    click.echo(f"Imported {report.summary()} from {path}")
    if report.codebook_path is not None:
        click.echo(f"Codebook: {report.codebook_path.relative_to(project.root).as_posix()} (now the project's codebook)")
