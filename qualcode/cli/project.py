"""``qualcode init`` and ``qualcode db``: creating a project, and where its database lives."""
from __future__ import annotations

from pathlib import Path

import click

from qualcode.cli.options import open_project


@click.command()
@click.argument("directory", type=click.Path(file_okay=False), default=".")
@click.option("--db", help="Database: a SQLite file name (default qualcode.db) or a postgresql:// URL.")
@click.option("--name", help="Project name (default: the directory name).")
def init(directory, db, name):
    """Create a project in DIRECTORY: qualcode.toml, qualcode.db, codebooks/, outputs/."""
    from qualcode.project import Project

    project = Project.init(Path(directory), db=db, name=name)
    click.echo(f"Created qualcode project {project.name!r} in {project.root}")
    if project.codebook_path:
        click.echo(f"Codebook: {project.codebook_path.relative_to(project.root)}")


@click.group()
def db():
    """The project's database: where it is, and moving it between SQLite and PostgreSQL."""


@db.command("info")
@click.pass_context
def db_info(ctx):
    """The database URL (password hidden), backend and schema version."""
    from qualcode.store import display_url

    store = open_project(ctx).store
    click.echo(f"database: {display_url(store.url)}")
    click.echo(f"backend: {store.engine.dialect.name}")
    click.echo(f"schema version: {store.schema_version()}")


@db.command("copy")
@click.option("--to", "target", required=True, metavar="URL",
              help="An empty database: postgresql://user@host/dbname, sqlite:///path, or a file path.")
@click.option("--use", is_flag=True, help="Then make the copy the project's database (db = … in qualcode.toml).")
@click.pass_context
def db_copy(ctx, target, use):
    """Copy every table (ids and schema version included) into another, empty database."""
    from qualcode.store.copy import copy_database

    project = open_project(ctx)
    url = target if "://" in target else f"sqlite:///{Path(target).resolve()}"
    report = copy_database(project.store, url)
    click.echo(report.summary())
    if use:
        project.set_setting("db", target if "://" in target else str(Path(target).resolve()))
        click.echo(f"The project now uses {report.target}")
    else:
        click.echo(f"To switch: set db = \"{target}\" in qualcode.toml (or QUALCODE_DB), or rerun with --use")


COMMANDS = [init, db]
