"""``qualcode agreement``, ``disagreements`` and ``assign``: inter-coder agreement and who codes what."""
from __future__ import annotations

from pathlib import Path

import click

from qualcode.cli.options import open_project, output_option, render
from qualcode.vocabulary import AGREEMENT_UNITS


def _coders(value: str) -> list[str]:
    coders = [c.strip() for c in value.split(",") if c.strip()]
    if len(coders) < 2:
        raise click.BadParameter("give at least two coders, separated by commas (e.g. 王,李)", param_hint="--coders")
    return coders


def _codes(values: tuple[str, ...]) -> list[str] | None:
    codes = [c.strip() for v in values for c in v.split(",") if c.strip()]
    return codes or None


def _project_codebook(project, path):
    from qualcode.errors import ConfigError

    if path:
        return project.codebook(Path(path))
    try:
        return project.codebook()
    except ConfigError:  # no codebook: per-code figures only, no exclusive groups
        return None


_common = [
    click.option("--coders", required=True, help="Coders to compare, separated by commas (e.g. 王,李,张)."),
    click.option("--unit", type=click.Choice(AGREEMENT_UNITS), default="passage",
                 show_default=True, help="What is compared: passages, sentences, whole documents or characters."),
    click.option("--codes", "codes", multiple=True, metavar="PATH",
                 help="Only these codes (and their descendants); repeatable or comma-separated."),
    click.option("--codebook", "codebook_file", type=click.Path(exists=True, dir_okay=False),
                 help="Codebook for exclusive groups (default: the project's)."),
]


def common_options(f):
    for option in reversed(_common):
        f = option(f)
    return f


@click.command()
@common_options
@click.option("--none-as-value", is_flag=True, help="In exclusive groups, count 'none of the children' as a value.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "xlsx"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file (required for xlsx).")
@click.option("--bootstrap", "n_boot", type=click.IntRange(100, 100000), default=1000, show_default=True,
              help="Bootstrap resamples for alpha's 95% interval.")
@click.option("--seed", type=int, default=None, help="Bootstrap seed (default: fixed, so reruns match).")
@click.pass_context
def agreement(ctx, coders, unit, codes, codebook_file, none_as_value, fmt, output, n_boot, seed):
    """Inter-coder agreement per code and per exclusive group (percent, kappa, alpha)."""
    from qualcode.agreement.coefficients import SEED
    from qualcode.agreement.compare import compute
    from qualcode.exchange.tables import write_workbook

    if fmt == "xlsx" and not output:
        raise click.UsageError("--format xlsx needs --output FILE")
    project = open_project(ctx)
    report = compute(project.store, _coders(coders), unit=unit, codes=_codes(codes),
                     codebook=_project_codebook(project, codebook_file), none_as_value=none_as_value,
                     n_boot=n_boot, seed=SEED if seed is None else seed)
    if fmt == "json":
        text = report.to_json() + "\n"
        if output:
            Path(output).write_text(text, encoding="utf-8")
            click.echo(f"Wrote agreement for {len(report.codes)} codes to {output}", err=True)
        else:
            click.echo(text, nl=False)
        return
    if fmt == "xlsx":
        write_workbook(Path(output), [("codes", report.code_rows(), report.CODE_COLUMNS),
                                         ("groups", report.group_rows(), report.GROUP_COLUMNS)])
        click.echo(f"Wrote agreement for {len(report.codes)} codes and {len(report.groups)} groups to {output}")
        return
    seen = ", ".join(f"{c} {n}" for c, n in report.documents.items())
    lines = [f"Agreement of {', '.join(report.coders)} by {unit}; documents seen: {seen} "
             f"({report.common_documents} by all). 'units' = units with at least two coders' values"
             + (" (characters of the documents all coders saw)" if unit == "char" else "") + "."]
    from qualcode.exchange.tables import text_table

    lines.append(text_table(report.code_rows(), report.CODE_COLUMNS) if report.codes else "No codings by these coders.")
    if report.groups:
        lines += ["", "Exclusive groups" + (" ('none' counted as a value)" if none_as_value else "") + ":",
                  text_table(report.group_rows(), report.GROUP_COLUMNS)]
    text = "\n".join(lines) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"Wrote agreement to {output}")
    else:
        click.echo(text, nl=False)


@click.command()
@common_options
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True,
              help="Review workbook to write (.xlsx; .csv writes CSV).")
@click.pass_context
def disagreements(ctx, coders, unit, codes, codebook_file, output):
    """Units where the coders disagree on a code, as a sheet for the reconciliation meeting."""
    from qualcode.agreement.compare import disagreements as find_disagreements
    from qualcode.exchange.tables import write_rows, write_workbook

    if unit == "char":
        raise click.BadParameter("use passage, sentence or document", param_hint="--unit")
    project = open_project(ctx)
    rows, columns = find_disagreements(project.store, _coders(coders), unit=unit, codes=_codes(codes),
                                       codebook=_project_codebook(project, codebook_file))
    if output.lower().endswith(".csv"):
        write_rows(rows, columns, "csv", Path(output))
    else:
        write_workbook(Path(output), [("disagreements", rows, columns)])
    click.echo(f"Wrote {len(rows)} disagreements to {output}")


@click.command()
@click.argument("docs", nargs=-1)
@click.option("--coder", help="Coder the documents are given to (default: --coder / QUALCODE_CODER / the project's).")
@click.option("--remove", is_flag=True, help="Take the documents away from the coder instead.")
@click.option("--list", "list_", is_flag=True, help="List the assignments.")
@output_option
@click.pass_context
def assign(ctx, docs, coder, remove, list_, fmt):
    """Assign documents (ids or names) to a coder: their uncoded units count as 'not coded' in agreement."""
    from qualcode.agreement.assignments import assign as assign_documents, assignments

    project = open_project(ctx)
    if list_:
        render(assignments(project.store), ["document", "name", "coder", "assigned_at"], fmt)
        return
    if not docs:
        raise click.UsageError("name the documents to assign (or use --list)")
    coder = coder or project.default_coder
    ids = [project.document_id(d) for d in docs]
    n = assign_documents(project.store, ids, coder, remove=remove)
    click.echo(f"{'Removed' if remove else 'Assigned'} {n} document{'s' if n != 1 else ''} "
               f"{'from' if remove else 'to'} {coder}")


COMMANDS = [agreement, disagreements, assign]
