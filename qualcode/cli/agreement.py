"""Inter-coder agreement and team database commands (issue 6)."""
from __future__ import annotations

import click

from . import cli, open_project, output_option, render  # noqa: F401
