"""Creating a project."""
from __future__ import annotations

from pathlib import Path

import click


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


COMMANDS = [init]
