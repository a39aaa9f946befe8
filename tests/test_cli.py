"""Exact messages and exit codes a user sees for bad input."""
from qualcode import __version__
from qualcode.cli import cli
from tests.helpers import write_text


def test_version(runner):
    assert runner.invoke(cli, ["--version"]).output == f"qualcode, version {__version__}\n"


def test_outside_a_project(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["docs", "list"])
    assert result.exit_code == 3
    assert result.output.splitlines()[0].startswith("Error: no qualcode project in ")
    assert result.output.splitlines()[1] == "Hint: run 'qualcode init DIR' first, or pass --project DIR"


def test_init_twice(runner, tmp_path):
    assert runner.invoke(cli, ["init", str(tmp_path / "s")]).exit_code == 0
    again = runner.invoke(cli, ["init", str(tmp_path / "s")])
    assert again.exit_code == 1
    assert again.output.splitlines()[0] == f"Error: {tmp_path / 's'} is already a qualcode project"


def test_bad_attr_is_a_usage_error(runner, project, tmp_path):
    f = write_text(tmp_path / "a.txt", "问：你好？\n答：你好。\n")
    result = runner.invoke(cli, ["--project", str(project.root), "import", str(f), "--attr", "时间"])
    assert result.exit_code == 2
    assert "Invalid value for --attr: '时间' is not KEY=VALUE" in result.output


def test_unknown_document_suggests_the_closest(runner, project, tmp_path):
    f = write_text(tmp_path / "N街道-书记A.txt", "问：你好？\n答：你好。\n")
    runner.invoke(cli, ["--project", str(project.root), "import", str(f)])
    result = runner.invoke(cli, ["--project", str(project.root), "docs", "show", "N街道-书记B"])
    assert result.exit_code == 1
    assert result.output == "Error: no doc 'N街道-书记B' in this project\nHint: did you mean N街道-书记A?\n"


def test_missing_file_fails_with_exit_4(runner, project, tmp_path):
    result = runner.invoke(cli, ["--project", str(project.root), "import", str(tmp_path / "nope.txt")])
    assert result.exit_code == 4
    assert f"failed: {tmp_path / 'nope.txt'}: no such file or directory" in result.output
    assert result.output.splitlines()[-1] == "0 imported, 0 unchanged, 0 skipped, 1 failed"


def test_a_bug_is_one_line_not_a_traceback(runner, project, monkeypatch):
    from qualcode.store import queries
    def broken(store):
        raise KeyError("boom")

    monkeypatch.setattr(queries, "list_documents", broken)
    result = runner.invoke(cli, ["--project", str(project.root), "docs", "list"])
    assert result.exit_code == 70
    # the type and the place, never the exception's text (it may quote an interview)
    first, hint = result.output.splitlines()
    assert first.startswith("Error: internal error (KeyError at cli/docs.py:") and "boom" not in first
    assert hint == "Hint: re-run with QUALCODE_DEBUG=1 to see the traceback, and report it"
    monkeypatch.setenv("QUALCODE_DEBUG", "1")
    assert isinstance(runner.invoke(cli, ["--project", str(project.root), "docs", "list"]).exception, KeyError)
