"""The command line: parse options → one library call → render. No SQL, pandas or jieba here.

Commands live in modules by area (``core``: projects, import, documents, codebook,
autocode); each registers itself on ``cli``. Errors from the library reach the user
through ``QualcodeGroup`` only.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from qualcode import __version__
from qualcode.errors import EXIT_BROKEN_PIPE, EXIT_INTERNAL, EXIT_INTERRUPTED, QualcodeError

OUTPUT_FORMATS = ("table", "csv", "json")


class QualcodeGroup(click.Group):
    """Turns library exceptions into one message, a hint and an exit code, in one place."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QualcodeError as exc:
            for problem in getattr(exc, "problems", ()):  # e.g. every problem of a codebook, one per line
                click.echo(problem, err=True)
            click.echo(f"Error: {exc.message}", err=True)
            if exc.hint:
                click.echo(f"Hint: {exc.hint}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted; every finished step is saved.", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            _stdout_to_devnull()
            ctx.exit(EXIT_BROKEN_PIPE)
        except Exception as exc:  # a bug: say so in one line; the traceback on request
            if os.environ.get("QUALCODE_DEBUG"):
                raise
            click.echo(f"Error: internal error ({type(exc).__name__}: {exc})", err=True)
            click.echo("Hint: re-run with QUALCODE_DEBUG=1 to see the traceback, and report it", err=True)
            ctx.exit(EXIT_INTERNAL)


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


def open_project(ctx):
    """The project named by --project / QUALCODE_PROJECT, else found from the cwd upward."""
    from qualcode.project import Project, find_root

    root = ctx.find_root().params.get("project")
    return Project(find_root(Path(root)) if root else find_root())


@click.group(cls=QualcodeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qualcode")
@click.option("--project", type=click.Path(file_okay=False), envvar="QUALCODE_PROJECT",
              help="Project directory (default: the current directory or a parent; env QUALCODE_PROJECT).")
def cli(project):
    """Code Chinese field-interview transcripts: import, segment, auto-code, review, report."""


def _stdout_to_devnull() -> None:
    """After the reader closed the pipe: send what is still buffered nowhere, so that the
    interpreter's final flush does not complain (the recipe of the Python docs on SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main():
    try:
        try:
            cli(prog_name="qualcode")
        finally:
            sys.stdout.flush()  # a pipe closed after our last write breaks here, not at interpreter exit
    except BrokenPipeError:
        _stdout_to_devnull()
        sys.exit(EXIT_BROKEN_PIPE)


from qualcode.cli import agreement, annotate, core, exchange, reports, suggest  # noqa: E402,F401  (register commands)
