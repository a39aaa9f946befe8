"""The reports tests' fixtures: a small hand-built project (tests/reports/helpers.py)."""
from __future__ import annotations

import pytest

from qualcode.project import Project
from tests.reports.helpers import build


@pytest.fixture
def small(tmp_path) -> Project:
    project = build(tmp_path / "small")
    yield project
    project.close()


@pytest.fixture(scope="session")
def small_report(tmp_path_factory):
    """``report all`` of the small project, written once for the output-format tests."""
    from qualcode.reports import report_all

    root = tmp_path_factory.mktemp("outputs")
    project = build(root / "project")
    result = report_all(project, root / "out")
    project.close()
    return root / "out", result
