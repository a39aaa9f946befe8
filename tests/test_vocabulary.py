"""The vocabulary is declared once (qualcode/vocabulary.py): every value is documented, and
the command line offers exactly the declared values (as Datasette tests that every setting
is documented)."""
from __future__ import annotations

from pathlib import Path

import click
import pytest

from qualcode import vocabulary as v
from qualcode.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "README.md").read_text(encoding="utf-8") + "".join(
    p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))


@pytest.mark.parametrize("enum", [v.Status, v.Origin, v.Role, v.Unit, v.MemoTarget, v.SegmenterKind], ids=lambda e: e.__name__)
def test_every_value_is_documented(enum):
    missing = [m.value for m in enum if f"`{m.value}`" not in DOCS]
    assert missing == []


def _choices(command: click.Command, option: str) -> tuple[str, ...]:
    param = next(p for p in command.params if p.name == option)
    assert isinstance(param.type, click.Choice)
    return tuple(param.type.choices)


def _command(path: str) -> click.Command:
    command: click.Command = cli
    for name in path.split():
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


@pytest.mark.parametrize("path, option, expected", [
    ("export codings", "status", v.STATUSES), ("export codings", "origin", v.ORIGINS),
    ("export spacy", "status", v.STATUSES), ("export spacy", "unit", v.CODING_UNITS),
    ("code list", "status", v.STATUSES), ("accept", "origin", v.ORIGINS), ("reject", "status", v.STATUSES),
    ("evaluate", "origin", v.ORIGINS), ("autocode", "unit", v.CODING_UNITS),
    ("agreement", "unit", v.AGREEMENT_UNITS), ("report cooccurrence", "unit", v.COOCCURRENCE_UNITS),
    ("report all", "unit", v.COOCCURRENCE_UNITS), ("memo add", "target_type", v.MEMO_TARGETS),
])
def test_the_command_line_offers_the_declared_values(path, option, expected):
    assert _choices(_command(path), option) == expected


def test_members_are_their_plain_strings():
    assert v.Status.ACCEPTED == "accepted" and str(v.Origin.MANUAL) == "manual"
    assert v.STATUSES == ("proposed", "accepted", "rejected")
