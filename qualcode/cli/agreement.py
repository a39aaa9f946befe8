"""``qualcode agreement``, ``disagreements`` and ``assign``: inter-coder agreement and who codes what."""
from __future__ import annotations

from pathlib import Path

import click

from qualcode.cli.options import open_project, output_option, render
from qualcode.vocabulary import AGREEMENT_UNITS, SCOPE_ROLES


def _coders(value: str) -> list[str]:
    coders = [c.strip() for c in value.split(",") if c.strip()]
    if len(coders) < 2:
        raise click.BadParameter("give at least two coders, separated by commas (e.g. 王,李)", param_hint="--coders")
    return coders


def _roles(value: str) -> tuple[str, ...] | None:
    """--roles: comma-separated speakers' roles, or 'all' (every turn)."""
    roles = tuple(dict.fromkeys(r.strip() for r in value.split(",") if r.strip()))
    if roles == ("all",):
        return None
    bad = [r for r in roles if r not in SCOPE_ROLES]
    if bad or not roles:
        raise click.BadParameter(f"use 'all' or roles among {', '.join(SCOPE_ROLES)}", param_hint="--roles")
    return roles


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
    click.option("--roles", "roles", default="interviewee,unknown", show_default=True,
                 help="Whose turns are units: speakers' roles, comma-separated "
                      f"({', '.join(SCOPE_ROLES)}), or 'all'. Headers are left out unless --headers."),
    click.option("--headers", is_flag=True, help="Also compare headers (lines without a speaker before the dialogue)."),
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
def agreement(ctx, coders, unit, codes, codebook_file, roles, headers, none_as_value, fmt, output, n_boot, seed):
    """Inter-coder agreement per code and per exclusive group (percent, kappa, alpha)."""
    from qualcode import files
    from qualcode.agreement.coefficients import SEED
    from qualcode.agreement.compare import compute
    from qualcode.exchange.tables import write_workbook

    if fmt == "xlsx" and not output:
        raise click.UsageError("--format xlsx needs --output FILE")
    project = open_project(ctx)
    report = compute(project.store, _coders(coders), unit=unit, codes=_codes(codes),
                     codebook=_project_codebook(project, codebook_file), none_as_value=none_as_value,
                     n_boot=n_boot, seed=SEED if seed is None else seed, roles=_roles(roles), headers=headers)
    if fmt == "json":
        text = report.to_json() + "\n"
        if output:
            files.write_text(Path(output), text)
            click.echo(f"Wrote agreement for {len(report.codes)} codes to {output}", err=True)
        else:
            click.echo(text, nl=False)
        return
    if fmt == "xlsx":
        write_workbook(Path(output), [("codes", report.code_rows(), report.CODE_COLUMNS),
                                         ("groups", report.group_rows(), report.GROUP_COLUMNS),
                                         ("units", report.unit_rows(), report.UNIT_COLUMNS)])
        click.echo(f"Wrote agreement for {len(report.codes)} codes and {len(report.groups)} groups to {output}")
        return
    seen = ", ".join(f"{c} {n}" for c, n in report.documents.items())
    lines = [f"Agreement of {', '.join(report.coders)} by {unit}; documents seen: {seen} "
             f"({report.common_documents} by all). 'units' = units with at least two coders' values"
             + (" (characters of the compared passages of the documents all coders saw)" if unit == "char" else "")
             + ".", report.scope()]
    from qualcode.exchange.tables import text_table

    lines.append(text_table(report.code_rows(), report.CODE_COLUMNS) if report.codes else "No codings by these coders.")
    if report.groups:
        lines += ["", "Exclusive groups" + (" ('none' counted as a value)" if none_as_value else "") + ":",
                  text_table(report.group_rows(), report.GROUP_COLUMNS)]
    text = "\n".join(lines) + "\n"
    if output:
        files.write_text(Path(output), text)
        click.echo(f"Wrote agreement to {output}")
    else:
        click.echo(text, nl=False)


@click.command()
@common_options
@click.option("--doc", "docs_", multiple=True, help="Only this document (id or name); repeatable.")
@click.option("--consensus", help="Consensus coder the filled-in sheet settles into (default: the project's).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True,
              help="Review workbook to write (.xlsx, to fill in and import with 'qualcode sheet import'; .csv to read).")
@click.pass_context
def disagreements(ctx, coders, unit, codes, codebook_file, roles, headers, docs_, consensus, output):
    """Units where the coders disagree on a code, as a sheet for the reconciliation meeting:
    fill in 'decision' (1 coded, 0 not, or a coder's name) and 'note' (the reason), then
    'qualcode sheet import' settles them into the consensus."""
    from qualcode.annotate.adjudicate import AdjudicationSession, export_disagreements

    if unit == "char":
        raise click.BadParameter("use passage, sentence or document", param_hint="--unit")
    if codebook_file or headers:
        raise click.UsageError("disagreements use the project's codebook and leave headers out")
    project = open_project(ctx)
    session = AdjudicationSession(project, _coders(coders), docs=list(docs_) or None, unit=unit, codes=_codes(codes),
                                  consensus=consensus, roles=_roles(roles))
    n = export_disagreements(session, Path(output))
    click.echo(f"Wrote {n} disagreements to {output}")


@click.command()
@click.argument("docs", nargs=-1)
@click.option("--coder", help="Coder the documents are given to (default: --coder / QUALCODE_CODER / the project's).")
@click.option("--remove", is_flag=True, help="Take the documents away from the coder instead.")
@click.option("--blind", is_flag=True,
              help="Independent coding: until the assignment is closed the coder sees neither the other "
                   "coders' decisions nor their manual codings on these documents.")
@click.option("--close", "close_", is_flag=True,
              help="Close the coder's assignments (these documents, or all): their independent coding is done.")
@click.option("--reopen", is_flag=True, help="Open closed assignments again.")
@click.option("--list", "list_", is_flag=True, help="List the assignments.")
@output_option
@click.pass_context
def assign(ctx, docs, coder, remove, blind, close_, reopen, list_, fmt):
    """Assign documents (ids or names) to a coder: their uncoded units count as 'not coded' in agreement."""
    from qualcode.agreement.assignments import assign as assign_documents, assignments, close_assignments

    project = open_project(ctx)
    if list_:
        render(assignments(project.store), ["document", "name", "coder", "blind", "assigned_at", "closed_at"], fmt)
        return
    if sum(map(bool, (remove, blind, close_ or reopen))) > 1 or (close_ and reopen):
        raise click.UsageError("give one of --remove, --blind, --close, --reopen")
    coder = coder or project.default_coder
    ids = [project.document_id(d) for d in docs]
    if close_ or reopen:
        n = close_assignments(project.store, coder, ids or None, reopen=reopen)
        click.echo(f"{'Reopened' if reopen else 'Closed'} {n} assignment{'s' if n != 1 else ''} of {coder}")
        return
    if not docs:
        raise click.UsageError("name the documents to assign (or use --list)")
    n = assign_documents(project.store, ids, coder, remove=remove, blind=blind)
    click.echo(f"{'Removed' if remove else 'Assigned'} {n} document{'s' if n != 1 else ''} "
               f"{'from' if remove else 'to'} {coder}" + (" (blind)" if blind else ""))


COMMANDS = [agreement, disagreements, assign]
