"""REFI-QDA export and import (issue 8)."""
from __future__ import annotations

import click

from . import cli, open_project, output_option, render  # noqa: F401
