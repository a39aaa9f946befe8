"""Fixtures of the workspace tests: a corpus project (built once, copied per test), a running
server over it, and a real headless Chromium driven by Selenium (Debian's chromium and
chromium-driver; .ci/run installs them)."""
from __future__ import annotations

import os
import shutil

import pytest

from qualcode.project import Project
from qualcode.web import bind
from tests.web.helpers import CHROMEDRIVER, CHROMIUM, FLAGS, build_corpus_project


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
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must test the workspace in Chromium: .ci/run installs chromium and chromium-driver")
        pytest.skip("no chromium/chromedriver here (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, served):
    """The browser, signed in to ``served`` (the token exchanged for the cookie)."""
    browser.delete_all_cookies()
    browser.get(served.url)
    return browser

