"""Cheap shared fixtures: a fresh project in a temp dir, a CLI runner (helpers: tests/helpers.py)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from qualcode.project import Project

pytest_plugins = ["tests.pg"]  # the PostgreSQL fixtures: pg_url, backend


@pytest.fixture(autouse=True)
def _isolate_env(monkeypatch):
    for var in ("QUALCODE_PROJECT", "QUALCODE_DB", "QUALCODE_CODER"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def project(tmp_path) -> Project:
    p = Project.init(tmp_path / "study")
    yield p
    p.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
