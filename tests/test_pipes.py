"""A reader that closes the pipe early (head, less, grep -m) ends the command quietly with
128 + SIGPIPE, the status shells report for other tools in the same place."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from qualcode.errors import EXIT_BROKEN_PIPE
from qualcode.ingest.pipeline import ImportOptions, import_paths
from tests.helpers import QA_TRANSCRIPT, write_text


@pytest.fixture
def imported(project, tmp_path):
    # Long enough that the output cannot all fit in the pipe's buffer before the reader leaves.
    text = QA_TRANSCRIPT + "".join(f"问：第{i}个问题是什么？\n答：第{i}个回答，讲社区党支部和居民议事会。\n" for i in range(3000))
    assert import_paths(project, [write_text(tmp_path / "long.txt", text)], ImportOptions(case="N街道")).ok
    return project


def run_into_closed_pipe(project, *args: str) -> subprocess.CompletedProcess:
    """Run qualcode with its standard output a pipe whose reading end is already closed."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "qualcode.cli", "--project", str(project.root), *args],
                              stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    return proc


@pytest.mark.parametrize("args", [("docs", "show", "1"), ("export", "passages", "--output", "-"),
                                  ("export", "codings", "--format", "json", "--output", "-")])
def test_closed_pipe_ends_quietly(imported, args):
    proc = run_into_closed_pipe(imported, *args)
    assert proc.returncode == EXIT_BROKEN_PIPE == 141
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr and "Exception" not in proc.stderr


def test_head_reads_the_first_line(imported):
    shell = (f"{sys.executable} -m qualcode.cli --project '{imported.root}' docs show 1 | head -n 1; "
             "echo status=${PIPESTATUS[0]}")
    out = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120)
    first, status = out.stdout.splitlines()
    assert first.startswith("1  long") and status in ("status=0", "status=141")  # 0 when it all fit the buffer
    assert out.stderr == ""


def test_dash_writes_the_table_to_standard_output(imported, runner):
    from qualcode.cli import cli

    result = runner.invoke(cli, ["--project", str(imported.root), "export", "passages", "--output", "-"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("passage,document,case,speaker")
    assert not (imported.root / "-").exists()
    bad = runner.invoke(cli, ["--project", str(imported.root), "export", "passages", "--format", "xlsx", "--output", "-"])
    assert bad.exit_code == 2 and "xlsx cannot go to standard output" in bad.output
