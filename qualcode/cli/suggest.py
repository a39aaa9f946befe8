"""Learned suggestions: train, evaluate, apply, similar (issue 7)."""
from __future__ import annotations

import click

from qualcode.cli.options import open_project, output_option, render

_codes_option = click.option(
    "--codes", multiple=True, metavar="PATH",
    help="Only these codes and their sub-codes (repeatable or comma-separated; default: every code).")
_coder_option = click.option("--coder", help="Learn only from this coder's accepted codings (default: everyone's).")
_seed_option = click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same model).")
_min_option = click.option("--min-examples", type=click.IntRange(3, None), default=5, show_default=True,
                           help="Coded passages (and passages without the code) a code needs to be learned.")


def _echo_skipped(skipped: list[dict], unlisted: int, err: bool = False) -> None:
    from qualcode.autocode.suggest import shortfall_message

    if skipped:
        click.echo("Skipped (too few examples):", err=err)
        for row in skipped:
            click.echo(f"  {shortfall_message(row)}", err=err)
    if unlisted:
        click.echo(f"{unlisted} other codes have no coded passage yet", err=err)


@click.group()
def suggest():
    """Learn codes from your own codings, check how well, and suggest them as proposals."""


@suggest.command("train")
@_codes_option
@_coder_option
@_seed_option
@_min_option
@click.pass_context
def suggest_train(ctx, codes, coder, seed, min_examples):
    """Train the suggestion model on accepted and manual codings; store it in models/."""
    from qualcode.autocode.suggest import train

    project = open_project(ctx)
    report = train(project, codes=codes, coder=coder, random_state=seed, min_examples=min_examples)
    click.echo(f"Trained {report.model} on {report.passages} passages in {report.documents} documents "
               f"({'coder ' + coder if coder else 'all coders'}): {len(report.codes)} codes")
    for code in report.codes:
        click.echo(f"  {code}  {report.examples[code]} coded passages")
    _echo_skipped(report.skipped, report.unlisted)
    if report.outside_codebook:
        click.echo(f"Ignored codes not in the codebook: {', '.join(report.outside_codebook)}")
    click.echo(f"Saved {report.path.relative_to(project.root)} (codebook version {report.codebook_version[:12]})")


@suggest.command("evaluate")
@_codes_option
@_coder_option
@click.option("--folds", type=click.IntRange(2, None), default=5, show_default=True,
              help="Cross-validation folds, grouped by document (at most one per coded document).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Probability from which the model counts as proposing a code.")
@click.option("--tuned-on", multiple=True, metavar="DOC|GOLD.csv",
              help="A document the rules were tuned on, or a gold CSV whose documents were (repeatable; "
                   "added to [autocode] tuned_on). Such documents are never scored.")
@_seed_option
@_min_option
@output_option
@click.pass_context
def suggest_evaluate(ctx, codes, coder, folds, threshold, tuned_on, seed, min_examples, fmt):
    """Cross-validated precision, recall and F1 per code of the model, the rules and the
    combined scorer, all scored on the same documents: ones the model was not trained on
    (in that fold) and the rules were not tuned on. Macro averages are over every code with
    a gold or predicted passage, an undefined value counting 0."""
    from qualcode.autocode.suggest import EVAL_COLUMNS, evaluate

    project = open_project(ctx)
    report = evaluate(project, codes=codes, coder=coder, folds=folds, threshold=threshold, tuned_on=tuned_on,
                      random_state=seed, min_examples=min_examples)
    notes = fmt != "table"  # keep CSV/JSON on stdout clean
    click.echo(f"{len(report.folds)} folds grouped by document over {report.passages} passages in "
               f"{report.documents} documents; model threshold {report.threshold:g}", err=notes)
    click.echo(f"Scored on {report.tested_passages} passages of {len(report.tested)} documents neither the model "
               f"was trained on nor the rules tuned on: {', '.join(report.tested)}", err=notes)
    click.echo("Rules tuned on (never scored): " + (", ".join(report.tuned) or
               "none declared (set [autocode] tuned_on or --tuned-on)"), err=notes)
    render(report.rows, EVAL_COLUMNS, fmt)
    _echo_skipped(report.skipped, report.unlisted, err=notes)


@suggest.command("apply")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Propose a code when its probability is at least this.")
@click.option("--top", type=click.IntRange(1, None), help="At most K suggestions per passage (the most probable).")
@click.pass_context
def suggest_apply(ctx, threshold, top):
    """Propose codes (origin model, with a probability) for passages of uncoded documents."""
    from qualcode.autocode.suggest import apply

    project = open_project(ctx)
    report = apply(project, threshold=threshold, top=top)
    click.echo(f"Suggested with {report.model} for {report.passages} passages in {report.documents} documents "
               f"(threshold {report.threshold:g}{f', top {report.top}' if report.top else ''}; "
               f"{report.training_documents} training documents left out)")
    for code, n in sorted(report.per_code.items()):
        click.echo(f"  {code}  {n}")
    click.echo(report.summary())


@suggest.group("scorer")
def suggest_scorer():
    """The combined scorer: rule evidence and text in one model, giving rule proposals their
    confidence when qualcode.toml has [autocode] scorer = "combined"."""


@suggest_scorer.command("train")
@_coder_option
@_seed_option
@click.pass_context
def scorer_train(ctx, coder, seed):
    """Retrain it on the codebook's examples and the decisions so far (accepted and manual =
    yes, rejected = no); store it in models/. Run autocode afterwards to re-score proposals."""
    from qualcode.autocode.suggest import train_scorer

    project = open_project(ctx)
    report = train_scorer(project, coder=coder, seed=seed)
    click.echo(f"Trained {report.model} on {report.codebook_examples} codebook examples and "
               f"{report.decisions} decisions ({'coder ' + coder if coder else 'all coders'})")
    click.echo(f"Saved {report.path.relative_to(project.root)} (codebook version {report.codebook_version[:12]})")


@suggest_scorer.command("show")
@output_option
@click.pass_context
def scorer_show(ctx, fmt):
    """Per code: the examples it learned from and how far it trusts the rules (the weight of
    'a rule for this code fired'; empty: too few examples, the rules' own score is used)."""
    from qualcode.autocode.suggest import SCORER_COLUMNS, scorer_info, scorer_rows

    project = open_project(ctx)
    info = scorer_info(project)
    click.echo(f"{info['model']} trained {info['created_at']} on {info['codebook_examples']} codebook examples and "
               f"{info['decisions']} decisions (codebook version {info['codebook_version'][:12]})", err=fmt != "table")
    render(scorer_rows(info), SCORER_COLUMNS, fmt)


@click.command()
@click.argument("passage")
@click.option("--k", type=click.IntRange(1, None), default=10, show_default=True, help="How many passages.")
@output_option
@click.pass_context
def similar(ctx, passage, k, fmt):
    """Passages most like PASSAGE (DOC:SEQ), by shared words and character n-grams."""
    from qualcode.autocode.suggest import SIMILAR_COLUMNS, similar as find_similar

    result = find_similar(open_project(ctx), passage, k=k)
    if fmt == "table":
        q = result.query
        click.echo(f"{q['passage']}  {q['document']}  {q['speaker'] or '-'}: {q['text']}\n")
    render(result.rows, SIMILAR_COLUMNS, fmt)


COMMANDS = [suggest, similar]
