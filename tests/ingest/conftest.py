"""Cheap fixtures for the ingest tests: RawSource from text, docx and encoded files on disk."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from qualcode.ingest.model import RawSource
from qualcode.ingest.normalize import clean_line


def _source(text: str, kind: str = "txt", path: str | None = None) -> RawSource:
    lines = [clean_line(line) for line in textwrap.dedent(text).strip("\n").splitlines()]
    return RawSource(path=path or f"访谈.{kind}", kind=kind, lines=lines, encoding="utf-8")


def _rows(doc) -> list[tuple]:
    return [(t.line, t.timestamp, t.speaker, t.role, t.text) for t in doc.turns]


@pytest.fixture
def source():
    """Build a RawSource as read_source would from (dedented) text."""
    return _source


@pytest.fixture
def rows():
    """(line, timestamp, speaker, role, text) per turn: what a user sees after import."""
    return _rows


@pytest.fixture
def make_docx(tmp_path):
    """Write a .docx whose body is a list of paragraphs (str) and tables (list of rows)."""
    import docx

    def make(blocks, name: str = "访谈.docx") -> Path:
        document = docx.Document()
        for block in blocks:
            if isinstance(block, str):
                document.add_paragraph(block)
            else:
                table = document.add_table(rows=len(block), cols=max(len(r) for r in block))
                for r, row in enumerate(block):
                    for c, value in enumerate(row):
                        table.cell(r, c).text = value
        path = tmp_path / name
        document.save(path)
        return path

    return make


@pytest.fixture
def write_bytes(tmp_path):
    def write(name: str, data: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write
