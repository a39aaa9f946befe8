"""Learned suggestions: train, evaluate, apply, similar (issue 7)."""
from __future__ import annotations

import click

from . import cli, open_project, output_option, render  # noqa: F401
