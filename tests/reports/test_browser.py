"""The HTML report in a real headless browser: it loads offline, shows the coded passages
with their labels, and renders the inline plots (Chromium from Debian, installed by .ci/run)."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def chromium():
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must test the HTML report in Chromium: .ci/run installs the chromium package")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    return CHROMIUM


def _run(chromium, tmp_path, *args):
    profile = tmp_path / "profile"
    return subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, timeout=120, check=True)


def test_report_renders_in_a_headless_browser(chromium, small_report, tmp_path):
    from PIL import Image

    page = (small_report[0] / "report.html").as_uri()
    dom = _run(chromium, tmp_path, "--dump-dom", page).stdout.decode("utf-8")
    # what the browser built, not just the file: passages, their labels, the inline plots
    assert dom.count('class="p"') >= 1 and "离退休党员</span>" in dom
    assert dom.count("<svg") == 6
    shot = tmp_path / "shot.png"
    _run(chromium, tmp_path, f"--screenshot={shot}", "--window-size=1200,1600", page)
    image = Image.open(shot).convert("L")
    lo, hi = image.getextrema()
    assert image.size == (1200, 1600) and hi - lo > 100  # a drawn page, not a blank one
