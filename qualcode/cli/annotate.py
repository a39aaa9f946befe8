"""Manual coding, review, spreadsheets, memos, audit log, undo and merge (issue 4)."""
from __future__ import annotations

import click

from . import cli, open_project, output_option, render  # noqa: F401
