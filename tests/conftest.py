"""Cheap shared fixtures: a fresh project in a temp dir, a CLI runner, transcript writers."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from qualcode.project import Project

QA_TRANSCRIPT = (
    "访谈主题：互助站运行情况 访谈时间：2022年7月21日 访谈地点：社区办公室\n"
    "问：您好，请您介绍一下互助站是怎么成立的？\n"
    "答：我们互助站是二〇一九年成立的。站长是退休的老党员，大家推选出来的。\n"
    "问：居民有事一般找谁？\n"
    "答：有事找站长，站长解决不了就报给网格党支部。\n"
)


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


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path
