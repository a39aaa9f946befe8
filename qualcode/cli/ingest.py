"""``qualcode import``: transcripts by default, REFI-QDA projects and codebooks as sub-commands."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from qualcode.cli.options import DefaultGroup, open_project, parse_attrs
from qualcode.errors import EXIT_PARTIAL


@click.group("import", cls=DefaultGroup, default="files")
def import_():
    """Import transcripts (files or folders, recursively), or a REFI-QDA project or codebook.

    \b
    qualcode import PATH... [OPTIONS]    transcripts (the default command: files)
    qualcode import qdpx FILE.qdpx       a whole project from NVivo, ATLAS.ti, MAXQDA, QualCoder
    qualcode import qdc FILE.qdc         a codebook
    """


@import_.command("files")
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
def import_files(ctx, paths, case, attrs, manifest, case_from_folder, encoding, style, script, replace, jobs):
    """Import transcripts (files or folders, recursively) into the project (the default)."""
    from qualcode.ingest.pipeline import FAILED, ImportOptions, import_paths

    project = open_project(ctx)
    man = None
    if manifest:
        from qualcode.ingest.manifest import load_manifest

        man = load_manifest(Path(manifest))
    options = ImportOptions(case=case, attributes=parse_attrs(attrs), manifest=man, encoding=encoding,
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
    if replace:  # only --replace updates an unchanged file's metadata; annotate is not loaded otherwise
        from qualcode.annotate.documents import apply_import_metadata

        for change in apply_import_metadata(project, report, options):
            click.echo(f"updated metadata: {change.name} ({'; '.join(change.changes)})")
    click.echo(report.summary())
    if not report.ok:
        ctx.exit(EXIT_PARTIAL)


@import_.command("qdpx")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def import_qdpx(ctx, file):
    """Import a REFI-QDA project (.qdpx) into a project with no documents."""
    _import_exchange(ctx, "qdpx", Path(file))


@import_.command("qdc")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def import_qdc(ctx, file):
    """Import a REFI-QDA codebook (.qdc) as YAML and make it the project's codebook."""
    _import_exchange(ctx, "qdc", Path(file))


def _import_exchange(ctx, kind: str, path: Path) -> None:
    """Import a REFI-QDA file and say what was converted."""
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


COMMANDS = [import_]
