"""What the command modules share: the project lookup, table output, and option decorators
that build one library object (``@selection_options`` → a ``Selection``)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from qualcode.vocabulary import ORIGINS, STATUSES

OUTPUT_FORMATS = ("table", "csv", "json")
CODER_HELP = "Coder name (default: QUALCODE_CODER, else the project's default coder)."
coder_option = click.option("--coder", help=CODER_HELP)


def open_project(ctx):
    """The project named by --project / QUALCODE_PROJECT, else found from the cwd upward."""
    from qualcode.project import Project, find_root

    root = ctx.find_root().params.get("project")
    return Project(find_root(Path(root)) if root else find_root())


def render(rows: list[dict], columns: list[str], fmt: str) -> None:
    """Print rows as an aligned table, CSV or JSON (the shared --format of listing commands)."""
    from qualcode.exchange.tables import csv_text, json_text, text_table

    if fmt == "json":
        click.echo(json_text(rows, columns), nl=False)
    elif fmt == "csv":
        click.echo(csv_text(rows, columns), nl=False)
    else:
        click.echo(text_table(rows, columns))


def write_table(rows: list[dict], columns: list[str], fmt: str, output: str, sheet: str, what: str) -> None:
    """An export's rows to the file ``output``, or to standard output when it is ``-`` (CSV or
    JSON; the count then goes to standard error so that a pipe carries only the table)."""
    from qualcode.exchange.tables import csv_text, json_text, write_rows

    if output != "-":
        write_rows(rows, columns, fmt, Path(output), sheet=sheet)
        click.echo(f"Wrote {len(rows)} {what} to {output}")
        return
    if fmt == "xlsx":
        raise click.UsageError("xlsx cannot go to standard output; give --output a file name (e.g. out.xlsx)")
    click.echo((json_text if fmt == "json" else csv_text)(rows, columns), nl=False)
    click.echo(f"Wrote {len(rows)} {what} to standard output", err=True)


def output_option(f):
    return click.option("--format", "fmt", type=click.Choice(OUTPUT_FORMATS), default="table", show_default=True,
                        help="Output as an aligned table, CSV or JSON.")(f)


def parse_attrs(values: tuple[str, ...]) -> dict[str, str]:
    attrs = {}
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="--attr")
        attrs[key.strip()] = val.strip()
    return attrs


def status_option(help: str = "Repeatable."):
    return click.option("--status", multiple=True, type=click.Choice(STATUSES), help=help)


def origin_option(help: str = "Repeatable."):
    return click.option("--origin", multiple=True, type=click.Choice(ORIGINS), help=help)


def packed_options(name: str, options: list[Callable], build: Callable[..., Any]):
    """A decorator adding ``options`` to a command and passing the command one keyword
    argument ``name`` = ``build(**their values)`` instead of one argument per option
    (the idea of sqlite-utils' ``output_options``)."""

    def decorator(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            own = {p.name: kwargs.pop(p.name) for p in params}
            kwargs[name] = build(**own)
            return f(*args, **kwargs)

        for option in reversed(options):
            wrapper = option(wrapper)
        params = wrapper.__click_params__[-len(options):]  # type: ignore[attr-defined]
        return wrapper

    return decorator


def _selection(proposed, coders, cases, roles, docs_, interviewee_only):
    from qualcode.reports.selection import Selection

    coders = [c.strip() for value in coders for c in value.split(",") if c.strip()]
    return Selection(proposed=proposed, coders=tuple(coders), cases=tuple(cases), roles=tuple(roles),
                     documents=tuple(docs_), interviewee_only=interviewee_only)


selection_options = packed_options("selection", [
    click.option("--proposed", is_flag=True, help="Also count unreviewed proposals (default: accepted and manual only)."),
    click.option("--coder", "--coders", "coders", multiple=True,
                 help="Whose codings: a coder (repeatable or comma-separated), or 'all' to pool every coder's "
                      "(default: the consensus, else the default coder, else the only coder)."),
    click.option("--case", "cases", multiple=True, help="Only documents of this case; repeatable."),
    click.option("--role", "roles", multiple=True,
                 help="Only interviewees with this role code (社区党组织书记A) or role type (社区党组织书记); repeatable."),
    click.option("--doc", "docs_", multiple=True, help="Only this document (id or name); repeatable."),
    click.option("--interviewee-only", is_flag=True, help="Only passages spoken by interviewees."),
], _selection)
"""The shared options choosing which codings a report counts, passed as one ``selection``."""


class DefaultGroup(click.Group):
    """A group that runs ``default`` when the first argument names none of its commands
    (``qualcode import FILES…`` runs ``import files``; ``qualcode import qdpx F`` the sub-command),
    after Datasette's ``DefaultGroup``."""

    def __init__(self, *args, default: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.default = default

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args.insert(0, self.default)
        return super().parse_args(ctx, args)

    def format_help(self, ctx, formatter):
        super().format_help(ctx, formatter)
        default = self.commands[self.default]
        with formatter.section(f"Options of '{ctx.command_path} {self.default}' (the default command)"):
            formatter.write_dl([r for p in default.params if isinstance(p, click.Option) and (r := p.get_help_record(ctx))])
