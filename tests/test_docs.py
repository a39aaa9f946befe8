"""Every command is documented (README or docs/), and the README starts with the two commands."""
from pathlib import Path

import click

from qualcode.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def _commands(group: click.Group, prefix: str = ""):
    for name, cmd in sorted(group.commands.items()):
        yield f"{prefix}{name}"
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, f"{prefix}{name} ")


def test_every_command_is_documented():
    text = (ROOT / "README.md").read_text(encoding="utf-8") + "".join(
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))
    missing = [c for c in _commands(cli) if f"qualcode {c}" not in text and f"`{c}`" not in text]
    assert missing == []


def test_readme_starts_with_the_two_commands():
    lines = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if line.strip()]
    block = lines[lines.index("```") + 1: lines.index("```", lines.index("```") + 1)]
    assert [line.split("#")[0].strip() for line in block] == ["make demo", "make test"]
