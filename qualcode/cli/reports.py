"""Reports: frequencies, co-occurrence, saturation, cases, quotes, appendix tables, plots (issue 5).

Each command parses its options, loads the selected codings once and makes one library
call; ``report all`` writes every table and plot; ``run`` is the main job end to end.
"""
from __future__ import annotations

from pathlib import Path

import click

from qualcode.cli.options import open_project, output_option, packed_options, render, selection_options
from qualcode.vocabulary import COOCCURRENCE_UNITS


def file_option(f):
    return click.option("--output", "-o", type=click.Path(dir_okay=False),
                        help="Write the table to this file (.csv, .json or .xlsx) instead of printing it.")(f)


def lang_option(f):
    return click.option("--lang", type=click.Choice(["zh", "en"]),
                        help="Language of captions, notes, column headers and plots (default: the project's "
                             "lang setting, zh).")(f)


def codebook_examples_option(f):
    return click.option("--codebook-examples", is_flag=True,
                        help="Where a code has no quote of its own, show the codebook's invented example, "
                             "labelled as such.")(f)


group_by_option = click.option("--by", default="case", show_default=True,
                               help="case, or a document attribute (community, estate, period …).")


def display_lang_option(f):
    def remember(ctx, param, value):
        ctx.meta["report_lang"] = value
        return value

    return click.option("--lang", type=click.Choice(["zh", "en"]), expose_value=False, callback=remember,
                        help="Column headers and code labels in this language, on screen and in an .xlsx file "
                             "(CSV and JSON keep the column ids).")(f)


def _load(ctx, selection):
    from qualcode.reports import load

    project = open_project(ctx)
    data = load(project, selection)
    ctx.meta["report_codes"] = frozenset(data.codes["code"])
    return project, data


def _in_language(df):
    """``df`` with the code labels and id values (``not assessable``, ``overall`` …) in ``--lang``
    and the header to show per column."""
    from qualcode.reports.labels import header, localize
    from qualcode.reports.render.common import code_columns

    ctx = click.get_current_context()
    lang = ctx.meta.get("report_lang")
    columns = [str(c) for c in df.columns]
    if not lang:
        return df, columns
    if lang == "en" and "label" in df.columns and "label_en" in df.columns:
        df = df.assign(label=[en or zh for zh, en in zip(df["label"], df["label_en"])])
    df = localize(df, lang)
    columns = [str(c) for c in df.columns]
    keep = code_columns(columns, ctx.meta.get("report_codes", frozenset()))
    titles = [c if c in keep else header(c, lang) for c in columns]
    return df, [t if titles.count(t) == 1 else f"{t} ({c})" for t, c in zip(titles, columns)]  # never two alike


def _footer(line: str, fmt: str, output) -> None:
    """A note under the table: on standard output under an aligned table, on standard error
    when standard output carries CSV/JSON or the table went to a file."""
    click.echo(("\n" if fmt == "table" and not output else "") + line, err=bool(output) or fmt != "table")


def _emit(df, fmt, output, name):
    from qualcode.exchange.tables import write_rows
    from qualcode.reports.render.common import display_rows, records

    columns = [str(c) for c in df.columns]
    if output:
        suffix = Path(output).suffix.lower().lstrip(".")
        kind = suffix if suffix in ("csv", "json", "xlsx") else "csv"
        if kind == "xlsx":  # for people: headers in --lang
            df, titles = _in_language(df)
            write_rows([dict(zip(titles, r.values())) for r in records(df)], titles, kind, Path(output), sheet=name)
        else:
            write_rows(records(df), columns, kind, Path(output), sheet=name)
        click.echo(f"Wrote {len(df)} rows to {output}")
    elif fmt == "table":
        df, titles = _in_language(df)
        render([dict(zip(titles, r)) for r in display_rows(df)[1]], titles, fmt)
    else:
        render(records(df), columns, fmt)


@click.group()
def report():
    """Tables and plots for the paper, on a chosen set of codings (default: accepted and manual)."""


@report.command("frequencies")
@selection_options
@click.option("--by", help="Count passages per group instead: role (role type), case or a document attribute.")
@click.option("--no-rollup", is_flag=True, help="Count each code as coded (parents do not include sub-codes).")
@output_option
@display_lang_option
@file_option
@click.pass_context
def report_frequencies(ctx, selection, by, no_rollup, fmt, output):
    """Codings, passages, documents and cases per code, rolled up to parents; share of passages."""
    from qualcode.reports.frequencies import frequencies, frequencies_by

    _, data = _load(ctx, selection)
    df = frequencies_by(data, by, rollup=not no_rollup) if by else frequencies(data, rollup=not no_rollup)
    _emit(df, fmt, output, "frequencies")


@report.command("cases")
@selection_options
@click.option("--by", default="case", show_default=True, help="case, role (role type) or any document attribute.")
@click.option("--value", type=click.Choice(["codings", "passages", "share", "presence"]), default="codings",
              show_default=True, help="Cell value.")
@output_option
@display_lang_option
@file_option
@click.pass_context
def report_cases(ctx, selection, by, value, fmt, output):
    """Code × case matrix: codings, passages, share of the case's passages, or presence."""
    from qualcode.reports.cases import case_matrix

    _, data = _load(ctx, selection)
    _emit(case_matrix(data, by=by, value=value), fmt, output, f"{by}_{value}")


@report.command("framework")
@selection_options
@click.option("--by", default="case", show_default=True, help="case, role (role type) or any document attribute.")
@output_option
@display_lang_option
@file_option
@click.pass_context
def report_framework(ctx, selection, by, fmt, output):
    """Framework matrix: case × stage with the passage count and the top exemplar quote per cell."""
    from qualcode.reports.framework import framework_matrix

    _, data = _load(ctx, selection)
    _emit(framework_matrix(data, by=by), fmt, output, "framework")


@report.command("cooccurrence")
@selection_options
@click.option("--unit", type=click.Choice(COOCCURRENCE_UNITS), default="passage",
              show_default=True, help="What counts as co-occurring.")
@click.option("--window", type=click.IntRange(1), default=1, show_default=True,
              help="With --unit proximity: codes within this many passages of each other co-occur.")
@click.option("--level", type=click.IntRange(0), help="Roll codes up to this depth first (0 = top-level stages).")
@click.option("--min-count", type=click.IntRange(0), default=1, show_default=True,
              help="Only show pairs co-occurring this often (the BH family stays every pair).")
@click.option("--all-units", is_flag=True,
              help="N = every passage, interviewer turns and headers included (default: codable passages).")
@click.option("--matrix", is_flag=True, help="Print the code × code count matrix instead of the pair table.")
@output_option
@display_lang_option
@file_option
@click.pass_context
def report_cooccurrence(ctx, selection, unit, window, level, min_count, all_units,
                        matrix, fmt, output):
    """Code pairs: counts, Jaccard (= ATLAS.ti c-coefficient), lift, PMI, Fisher exact p, BH q."""
    from qualcode.reports.cooccurrence import cooccurrence, cooccurrence_matrix

    _, data = _load(ctx, selection)
    if matrix:
        df = cooccurrence_matrix(data, unit=unit, window=window, level=level, all_units=all_units)
        _emit(df, fmt, output, "cooccurrence")
        return
    df = cooccurrence(data, unit=unit, window=window, level=level, min_count=min_count, all_units=all_units)
    _emit(df, fmt, output, "cooccurrence")
    _footer(df.attrs["note"], fmt, output)


_SATURATION = [
        click.option("--order", type=click.Choice(["date", "manifest", "name", "import"]), default="date",
                     show_default=True, help="Interview order: the date attribute, manifest rows, name or import."),
        click.option("--manifest", type=click.Path(exists=True, dir_okay=False), help="With --order manifest."),
        click.option("--base", type=click.IntRange(1), default=4, show_default=True, help="Guest et al. base size."),
        click.option("--run", "run_length", type=click.IntRange(1), default=2, show_default=True,
                     help="Guest et al. run length."),
        click.option("--threshold", type=click.FloatRange(0, 1), default=0.05, show_default=True,
                     help="Guest et al. new-information threshold (0.05 = 5%)."),
        click.option("--initial", type=click.IntRange(1), default=10, show_default=True,
                     help="Francis et al. initial analysis sample."),
        click.option("--stop", type=click.IntRange(1), default=3, show_default=True,
                     help="Francis et al. stopping criterion (interviews without new codes)."),
        click.option("--leaf-only", is_flag=True,
                     help="A parent code is not a code of its own when one of its sub-codes occurs."),
]


def saturation_options(f):
    for option in reversed(_SATURATION):
        f = option(f)
    return f


@report.command("saturation")
@selection_options
@saturation_options
@click.option("--level", type=click.IntRange(0), help="Count codes rolled up to this depth (0 = stages).")
@click.option("--curve", is_flag=True, help="Print new and cumulative codes per interview instead of the summary.")
@output_option
@display_lang_option
@file_option
@click.pass_context
def report_saturation(ctx, selection, order, manifest, base, run_length,
                      threshold, initial, stop, leaf_only, level, curve, fmt, output):
    """Code saturation overall and per case: base+run, its order band, 10+3, Chao2 with its interval."""
    from qualcode.reports.saturation import saturation

    _, data = _load(ctx, selection)
    curve_df, summary = saturation(data, order=order, base=base, run=run_length, threshold=threshold,
                                   initial=initial, stop=stop, level=level,
                                   manifest=Path(manifest) if manifest else None, leaf_only=leaf_only)
    warning = summary["warning"].iloc[0] if len(summary) else ""
    if curve or output or fmt != "table":
        _emit(curve_df if curve else summary, fmt, output, "saturation")
        if warning:
            click.echo(f"Warning: {warning}", err=True)
        return
    _emit(summary[["scope", "interviews", "codes_observed", "guest", "band_median", "band_p05", "band_p95",
                   "francis", "chao2_bc", "chao2_lower", "chao2_upper", "coverage"]], fmt, None, "saturation")
    if ctx.meta.get("report_lang") == "zh":  # the sentences in Chinese too
        from qualcode.reports.labels import localize, t

        for _, row in localize(summary, "zh").iterrows():
            click.echo(f"\n{row['scope']}：" + "\n  ".join(s for s in (row["sentence"], row["band"], row["estimate"]) if s))
        if warning:
            click.echo("\n" + t("sat.warning", "zh"))
        return
    for scope, sentence, band, estimate in zip(summary["scope"], summary["sentence"], summary["band"],
                                               summary["estimate"]):
        click.echo(f"\n{scope}: {sentence}" + (f"\n  Order sensitivity: {band}." if band else "") + f"\n  {estimate}")
    if warning:
        click.echo(f"\nWarning: {warning}")


@report.command("quotes")
@selection_options
@click.option("-k", "k", type=click.IntRange(1), default=3, show_default=True, help="Quotes per code.")
@click.option("--code", "codes", multiple=True, help="Only this code (path); repeatable.")
@click.option("--rollup", is_flag=True, help="Parent codes also draw on their sub-codes' codings.")
@click.option("--max-chars", type=click.IntRange(10), default=120, show_default=True, help="Trim quotes to this length.")
@click.option("--context", type=click.IntRange(0), default=30, show_default=True, help="Characters of context each side.")
@output_option
@display_lang_option
@file_option
@click.pass_context
def report_quotes(ctx, selection, k, codes, rollup, max_chars, context,
                  fmt, output):
    """The k best exemplar quotes per code with document, case and interviewee role code."""
    from qualcode.reports.quotes import quotes

    _, data = _load(ctx, selection)
    df = quotes(data, k=k, rollup=rollup, max_chars=max_chars, context=context, codes=list(codes) or None)
    _emit(df, fmt, output, "quotes")


@report.command("chain")
@selection_options
@group_by_option
@click.option("--max-chars", type=click.IntRange(10), default=80, show_default=True, help="Trim quotes to this length.")
@click.option("--plot", "plot_dir", type=click.Path(file_okay=False),
              help="Also draw one chain figure per case (PNG, SVG and PDF) into this directory, in the "
                   "project's report language.")
@output_option
@display_lang_option
@file_option
@click.pass_context
def report_chain(ctx, selection, by, max_chars, plot_dir, fmt, output):
    """The framework's chain per case: each link present, absent or not discussed, and where it breaks."""
    from qualcode.reports.chain import chain, chain_summary

    project, data = _load(ctx, selection)
    df = chain(data, by=by, max_chars=max_chars)
    if fmt == "table" and not output:
        shown = df[["case", "link", "label", "status", "interviews", "roles", "quote", "quote_by"]]
        _emit(shown.assign(quote=shown["quote"].str.slice(0, 40)), fmt, None, "chain")
    else:
        _emit(df, fmt, output, "chain")
    _footer("\n".join(chain_summary(df)), fmt, output)
    if plot_dir:
        from qualcode.reports.plots import FORMATS, code_labels, write_chain_plots

        lang = project.report_lang
        paths = write_chain_plots(df, Path(plot_dir), lang=lang, labels=code_labels(data.codes, lang))
        click.echo(f"Wrote {len(paths) // len(FORMATS)} chain figures (PNG, SVG and PDF) to {plot_dir}",
                   err=fmt != "table")


@report.command("subcodes")
@selection_options
@group_by_option
@click.option("--long", "long_", is_flag=True,
              help="One row per case and sub-code (codings, passages, interviews, quote) instead of the matrix.")
@click.option("--max-chars", type=click.IntRange(10), default=60, show_default=True, help="Trim quotes to this length.")
@output_option
@display_lang_option
@file_option
@click.pass_context
def report_subcodes(ctx, selection, by, long_, max_chars, fmt, output):
    """Case × sub-code matrix: passages per cell and its strongest quote (pinned first) with the interviewee code."""
    from qualcode.reports.subcodes import subcode_matrix, subcodes

    _, data = _load(ctx, selection)
    long = subcodes(data, by=by, max_chars=max_chars)
    _emit(long if long_ else subcode_matrix(data, by=by, long=long), fmt, output, "subcodes")


@report.command("interviews")
@selection_options
@group_by_option
@click.option("--no-rollup", is_flag=True, help="Count each code as coded (parents do not include sub-codes).")
@click.option("--all", "all_rows", is_flag=True, help="Also list code × role × case cells with no interview.")
@output_option
@display_lang_option
@file_option
@click.pass_context
def report_interviews(ctx, selection, by, no_rollup, all_rows, fmt, output):
    """Code × role × case: how many interviews (documents, not passages) bear each code out."""
    from qualcode.reports.interviews import interviews

    _, data = _load(ctx, selection)
    df = interviews(data, by=by, rollup=not no_rollup)
    _emit(df if all_rows else df[df["interviews"] + df["absent_interviews"] > 0], fmt, output, "interviews")


@report.command("codebook")
@selection_options
@codebook_examples_option
@output_option
@display_lang_option
@file_option
@click.pass_context
def report_codebook(ctx, selection, codebook_examples, fmt, output):
    """The codebook as an appendix table: code, definition, criteria, a quote from the project's codings, counts."""
    from qualcode.reports.codebook import codebook_table

    _, data = _load(ctx, selection)
    _emit(codebook_table(data, codebook_examples=codebook_examples), fmt, output, "codebook")


def _report_options(by, unit, window, level, all_units, order, manifest, base, run_length, threshold, initial, stop,
                    leaf_only, k, no_plots, lang, codebook_examples):
    from qualcode.reports.bundle import ReportOptions

    return ReportOptions(by=by, unit=unit, window=window, level=level, order=order,
                         manifest=Path(manifest) if manifest else None, base=base, run=run_length,
                         threshold=threshold, initial=initial, stop=stop, k=k, plots=not no_plots,
                         all_units=all_units, leaf_only=leaf_only, lang=lang or "",
                         codebook_examples=codebook_examples)


report_options = packed_options("options", [
    click.option("--by", default="case", show_default=True, help="Group for the case tables: case, role or an attribute."),
    click.option("--unit", type=click.Choice(COOCCURRENCE_UNITS), default="passage", show_default=True,
                 help="Co-occurrence unit."),
    click.option("--window", type=click.IntRange(1), default=1, show_default=True, help="Co-occurrence proximity window."),
    click.option("--level", type=click.IntRange(0), help="Roll codes up to this depth for co-occurrence and saturation."),
    click.option("--all-units", is_flag=True, help="Co-occurrence N = every passage (default: codable passages)."),
    *_SATURATION,
    click.option("-k", "k", type=click.IntRange(1), default=3, show_default=True, help="Quotes per code."),
    click.option("--no-plots", is_flag=True, help="Skip the PNG/SVG plots (faster)."),
    lang_option,
    codebook_examples_option,
], _report_options)
"""The parameters of ``report all``, passed as one ``ReportOptions``."""


def _print_written(result, root: Path) -> None:
    def show(p: Path) -> str:
        try:
            return str(p.relative_to(root))
        except ValueError:
            return str(p)

    for kind, paths in result.items():
        if kind == "warnings" or not paths:
            continue
        folders = sorted({p.parent for p in paths})
        if len(paths) > 1 and len(folders) == 1:
            click.echo(f"  {kind:9} {show(folders[0])}/ ({len(paths)} files)")
        else:
            click.echo(f"  {kind:9} " + ", ".join(show(p) for p in paths))
    for warning in result["warnings"]:
        click.echo(f"Warning: {warning}", err=True)


@report.command("all")
@selection_options
@click.option("--output", "-o", type=click.Path(file_okay=False), required=True, help="Directory to write into.")
@report_options
@click.pass_context
def report_all_cmd(ctx, selection, output, options):
    """Every table and plot: xlsx, CSV, Markdown, LaTeX, docx, HTML, PNG (300 dpi), SVG and PDF."""
    from dataclasses import replace

    from qualcode.reports.bundle import report_all

    project, data = _load(ctx, selection)
    options = replace(options, lang=options.lang or project.report_lang)
    result = report_all(project, Path(output), options=options, data=data)
    click.echo(f"Reports on {data.selection.describe()} written to {output}:")
    _print_written(result, Path(output))


@click.command("run")
@click.option("--corpus", "corpus", type=click.Path(file_okay=False),
              help="Transcripts to import when the project has none (default: ./corpus, else the bundled corpus).")
@click.option("--manifest", type=click.Path(dir_okay=False), help="Manifest (default: CORPUS/manifest.csv).")
@click.option("--output", "-o", type=click.Path(file_okay=False), help="Report directory (default: the project's outputs/).")
@click.option("--no-plots", is_flag=True, help="Skip the plots.")
@lang_option
@click.pass_context
def run_cmd(ctx, corpus, manifest, output, no_plots, lang):
    """The main job: import the corpus (once), auto-code it, write every report into outputs/."""
    from qualcode.workflow import run_pipeline

    project = open_project(ctx)
    result = run_pipeline(project, corpus=Path(corpus) if corpus else None,
                          manifest=Path(manifest) if manifest else None,
                          output=Path(output) if output else None, plots=not no_plots, lang=lang,
                          progress=lambda line: click.echo(line))
    click.echo(f"Reports written to {result.output}:")
    _print_written(result.written, result.output)
    click.echo(f"Open {result.output / 'report.html'} in a browser, or report.xlsx / report.docx.")


COMMANDS = [report, run_cmd]
