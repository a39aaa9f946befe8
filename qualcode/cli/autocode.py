"""``qualcode autocode`` and ``qualcode evaluate``: propose codings from the rules, and score them."""
from __future__ import annotations

from pathlib import Path

import click

from qualcode.cli.options import open_project, origin_option, output_option, render, status_option
from qualcode.vocabulary import CODING_UNITS


@click.command()
@click.option("--codebook", "codebook_file", type=click.Path(exists=True, dir_okay=False),
              help="Use this codebook instead of the project's.")
@click.option("--unit", type=click.Choice(CODING_UNITS), default="passage", show_default=True)
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@click.pass_context
def autocode(ctx, codebook_file, unit, dry_run):
    """Propose codings from the codebook's rules, with their evidence (idempotent)."""
    from qualcode.autocode.run import autocode as run_autocode
    from qualcode.autocode.scoring import clear_confidence, scorer_setting

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
    if scorer_setting(project) == "combined":
        from qualcode.autocode.suggest import attach_confidence

        click.echo(f"Combined scorer: {attach_confidence(project, cb).summary()}")
    else:
        clear_confidence(project.store)


@click.command()
@click.option("--gold", type=click.Path(exists=True, dir_okay=False), required=True,
              help="Hand-coded gold CSV (columns as 'export codings': document, start, end, text, code).")
@origin_option("Which codings to score (default: rule proposals). Repeatable.")
@status_option("Only codings with these statuses (default: all). Repeatable.")
@click.option("--learning-curve", is_flag=True,
              help="Simulate reviewing the gold documents' passages in uncertainty order, retraining as decisions "
                   "come in; F1 of rules, model and combined scorer on the unreviewed passages after 25, 50, 100, "
                   "200 decisions.")
@click.option("--step", type=click.IntRange(1, None), default=5, show_default=True,
              help="With --learning-curve: passages reviewed between two retrainings.")
@click.option("--seed", type=int, default=0, show_default=True, help="With --learning-curve: random seed.")
@output_option
@click.pass_context
def evaluate(ctx, gold, origin, status, learning_curve, step, seed, fmt):
    """Precision, recall and F1 per code and per stage against a gold standard.

    Micro averages pool every code's counts; macro averages are the mean over every code in
    the gold file or the predictions, an undefined value (no prediction, no gold) counting 0.
    """
    project = open_project(ctx)
    if learning_curve:
        from qualcode.autocode.curve import CURVE_COLUMNS, learning_curve as run_curve

        report = run_curve(project, Path(gold), step=step, seed=seed)
        click.echo(f"{report.passages} passages in {len(report.documents)} documents "
                   f"({', '.join(report.documents)}); one decision = one reviewed passage; retrained every "
                   f"{report.step}; threshold {report.threshold:g}", err=fmt != "table")
        if report.tuned:
            click.echo(f"Warning: the rules were tuned on {', '.join(report.tuned)} ([autocode] tuned_on): "
                       "their figures here are optimistic", err=True)
        render(report.rows, CURVE_COLUMNS, fmt)
        return
    from qualcode.autocode.evaluate import EVAL_COLUMNS, evaluate as run_evaluate

    rows = run_evaluate(project.store, Path(gold), origins=origin or ("rule",), statuses=status)
    render(rows, EVAL_COLUMNS, fmt)


COMMANDS = [autocode, evaluate]
