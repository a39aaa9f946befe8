"""The command line: parse options → one library call → render. No SQL, pandas or jieba here.

One module per command group (``ingest``: import; ``docs``; ``codebook``; ``autocode``:
autocode and evaluate; ``annotate``: code, memo, review, sheets …; ``reports``; ``export``;
``agreement``; ``suggest``), each listing its commands in ``COMMANDS``; shared options in
``options``. Command modules defer every library import to the command body, so that
``qualcode --help`` starts fast. Errors from the library reach the user through
``QualcodeGroup`` only: one message, a hint, a documented exit code.
"""
from __future__ import annotations

import os
import sys

import click

from qualcode import __version__
from qualcode.cli import agreement, annotate, autocode, codebook, docs, export, ingest, project, reports, serve, suggest
from qualcode.errors import EXIT_BROKEN_PIPE, EXIT_INTERNAL, EXIT_INTERRUPTED, NotFound, QualcodeError


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
            known = _known_failure(exc)
            if known is not None:  # a full disk, a read-only or damaged database: not a bug
                click.echo(f"Error: {known.message}", err=True)
                if known.hint:
                    click.echo(f"Hint: {known.hint}", err=True)
                ctx.exit(known.exit_code)
            # the type and where, never the exception's text: it may quote interview text
            click.echo(f"Error: internal error ({type(exc).__name__} at {_where(exc)})", err=True)
            click.echo("Hint: re-run with QUALCODE_DEBUG=1 to see the traceback, and report it", err=True)
            ctx.exit(EXIT_INTERNAL)


def _known_failure(exc: Exception) -> QualcodeError | None:
    """A QualcodeError for failures of the machine rather than of qualcode: an OSError (no
    space, read-only, permission) or a database error (damaged, full, read-only, locked)."""
    from qualcode.files import os_error
    from qualcode.store.failures import explain

    if isinstance(exc, MemoryError):
        return QualcodeError("out of memory", hint="close other programs, or work on fewer or smaller files at once")
    if isinstance(exc, RecursionError):
        return QualcodeError("the input is nested too deeply to read", hint="check the file for runaway nesting")
    if isinstance(exc, OverflowError) or (isinstance(exc, ValueError) and "integer string conversion" in str(exc)):
        return NotFound("a number given is too large to be an id (ids are below 2^63)",
                        hint="list the ids with 'qualcode docs list' or 'qualcode code list'")
    if isinstance(exc, OSError) and exc.errno is not None:
        return os_error(exc, exc.filename if isinstance(exc.filename, str) else "a file")
    return explain(exc)


def _where(exc: BaseException) -> str:
    """module:line of the innermost qualcode frame of the traceback."""
    import traceback

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename).startswith(package)]
    if not frames:
        return "?"
    frame = frames[-1]
    return f"{os.path.relpath(frame.filename, package)}:{frame.lineno}"


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


def _quiet_unraisable(unraisable) -> None:
    """A file object closed late (e.g. openpyxl's zip after a full disk) fails again while it
    is collected; the failure has been reported in one line already, so no traceback."""
    if isinstance(unraisable.exc_value, OSError):
        return
    sys.__unraisablehook__(unraisable)


def main():
    sys.unraisablehook = _quiet_unraisable
    try:
        try:
            cli(prog_name="qualcode")
        finally:
            sys.stdout.flush()  # a pipe closed after our last write breaks here, not at interpreter exit
    except BrokenPipeError:
        _stdout_to_devnull()
        sys.exit(EXIT_BROKEN_PIPE)


for _module in (project, ingest, docs, codebook, autocode, annotate, reports, export, agreement, suggest, serve):
    for _command in _module.COMMANDS:
        cli.add_command(_command)
