"""Fixtures of the workspace tests: a corpus project (built once, copied per test), a running
server over it, and a real headless Chromium driven by Selenium (Debian's chromium and
chromium-driver; .ci/run installs them)."""
from __future__ import annotations

import shutil

import pytest

from qualcode.project import Project
from qualcode.web import bind
from tests.web.helpers import build_corpus_project, chromium_driver


@pytest.fixture(scope="session")
def corpus_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("web") / "template"
    build_corpus_project(root).close()
    return root


@pytest.fixture
def corpus_project(corpus_template, tmp_path):
    root = tmp_path / "study"
    shutil.copytree(corpus_template, root)
    project = Project(root)
    yield project
    project.close()


@pytest.fixture
def served(corpus_project):
    s = bind(corpus_project, port=0, coder="王老师").start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def browser():
    yield from chromium_driver("the workspace")


@pytest.fixture
def page(browser, served):
    """The browser, signed in to ``served`` (the token exchanged for the cookie)."""
    browser.delete_all_cookies()
    browser.get(served.url)
    return browser

