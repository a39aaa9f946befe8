"""Helpers of the workspace tests: a project from part of the bundled corpus, a browser."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
ARTIFACTS = Path(os.environ.get("QUALCODE_TEST_ARTIFACTS", ROOT / "outputs" / "test-artifacts")) / "web"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic", "--window-size=1400,1000", "--lang=zh-CN"]


def build_corpus_project(root: Path, folders=("N街道", "H街道")):
    """A project with two streets of the bundled corpus imported (with the manifest) and auto-coded."""
    from qualcode.autocode.run import autocode
    from qualcode.ingest import pipeline
    from qualcode.ingest.manifest import load_manifest
    from qualcode.project import Project

    project = Project.init(root)
    report = pipeline.import_paths(project, [CORPUS / f for f in folders],
                                   pipeline.ImportOptions(manifest=load_manifest(CORPUS / "manifest.csv")))
    assert report.ok
    autocode(project, project.codebook())
    return project


def screenshot(driver, name: str) -> Path:
    """A full-page PNG of what the browser shows, for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return Math.min(document.documentElement.scrollHeight, 4000)")
    driver.set_window_size(1400, max(900, int(height)))
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1400, 1000)
    print(f"screenshot: {path}")
    return path


def two_coders_disagree(project, doc: str = "4", code: str = "construction/hub") -> list[dict]:
    """王 and 李 decide every proposal of ``doc`` through the library, the same way except
    ``code``, which 王 accepts and 李 rejects: the disagreements of an adjudication. Returns
    the proposals of ``code`` in the document."""
    from qualcode import annotate

    proposals = annotate.list_codings(project, doc=doc, status=["proposed"])
    split = [r for r in proposals if r["code"] == code]
    rest = [r["id"] for r in proposals if r["code"] != code]
    assert split and rest
    annotate.decide(project, "accepted", [r["id"] for r in proposals], coder="王")
    annotate.decide(project, "accepted", rest, coder="李")
    annotate.decide(project, "rejected", [r["id"] for r in split], coder="李")
    return split


def chromium_driver(what: str):
    """Selenium driving Debian's chromium (for a fixture to ``yield from``): fails in CI and
    skips elsewhere when chromium or chromium-driver is missing; ``what`` names what is tested."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must test {what} in Chromium: .ci/run installs chromium and chromium-driver")
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
