"""Reports: frequencies, co-occurrence, saturation, cases, quotes, appendix tables, plots (issue 5)."""
from __future__ import annotations

import click

from . import cli, open_project, output_option, render  # noqa: F401
