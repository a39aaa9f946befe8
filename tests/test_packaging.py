"""A clone or an installed wheel stands on its own: nothing outside the repository is read,
and the command line starts without the heavy libraries."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from qualcode.data import data_path
from qualcode.project import DEFAULT_CODEBOOK, bundled_codebooks_dir

REPO = Path(__file__).resolve().parents[1]
# Spelled in pieces so that this file does not match itself.
OUTSIDE = re.compile(r"\.\./" + "shared" + r"|/work/" + "shared")


@pytest.mark.parametrize("folder", ["qualcode", "tests"])
def test_no_file_refers_to_a_folder_outside_the_repository(folder):
    offenders = []
    for path in sorted((REPO / folder).rglob("*")):
        if path.is_file() and path.suffix in {".py", ".yaml", ".yml", ".txt", ".md", ".toml", ".csv", ".json", ".xsd"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            offenders += [f"{path.relative_to(REPO)}:{n}" for n, line in enumerate(text.splitlines(), 1)
                          if OUTSIDE.search(line)]
    assert offenders == []


def test_shipped_files_live_inside_the_package():
    package = REPO / "qualcode"
    for path in (bundled_codebooks_dir() / DEFAULT_CODEBOOK, bundled_codebooks_dir() / "template.yaml",
                 data_path("refi_qda", "Project-mrt2019.xsd"), data_path("refi_qda", "Codebook-mrt2019.xsd"),
                 data_path("common_cjk.txt")):
        assert path.is_file() and package in path.resolve().parents, path


def test_repository_codebooks_folder_is_the_packaged_one():
    """``codebooks/`` at the top of the clone shows the very files the wheel ships."""
    top = REPO / "codebooks"
    assert sorted(p.name for p in top.iterdir()) == sorted(p.name for p in bundled_codebooks_dir().iterdir())
    for path in top.iterdir():
        assert path.read_bytes() == (bundled_codebooks_dir() / path.name).read_bytes()


def test_help_imports_no_heavy_library():
    code = ("import sys\n"
            "from qualcode.cli import cli\n"
            "try:\n    cli(['--help'], prog_name='qualcode')\nexcept SystemExit:\n    pass\n"
            "heavy = ('pandas', 'spacy', 'sklearn', 'matplotlib', 'jieba', 'scipy', 'docx', 'openpyxl')\n"
            "print('loaded:', *[m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage: qualcode" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "loaded:"


def test_everyday_commands_import_no_numerical_library():
    """What ``docs list``, ``docs show`` and ``code add`` load (the project, its store, table
    output, manual coding) brings in neither numpy nor scikit-learn nor the REFI-QDA importer."""
    code = ("import sys\n"
            "import qualcode.project, qualcode.store.queries, qualcode.exchange.tables, qualcode.annotate.codings\n"
            "heavy = ('numpy', 'pandas', 'sklearn', 'scipy', 'jieba', 'qualcode.exchange.qdpx')\n"
            "print('loaded:', *[m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "loaded:"
