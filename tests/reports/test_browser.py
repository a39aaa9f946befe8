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


@pytest.fixture(scope="module")
def browser():
    """Chromium driven by Selenium (Debian's chromium and chromium-driver)."""
    from tests.web.helpers import chromium_driver

    yield from chromium_driver("the HTML report")


def _visible_top(driver, element) -> float:
    """Where the element's top is in the window (0 = the window's top edge)."""
    return driver.execute_script("return arguments[0].getBoundingClientRect().top", element)


def test_a_wide_table_scrolls_in_its_box_not_the_page(browser, small_report):
    from selenium.webdriver.common.by import By

    browser.set_window_size(450, 900)  # a phone, or a narrow window: the small project's matrix is wider
    browser.get((small_report[0] / "report.html").as_uri())
    js = browser.execute_script
    assert js("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")  # no page scroll
    box = browser.find_element(By.CSS_SELECTOR, "#cooccurrence_matrix .scroll")
    assert js("return arguments[0].scrollWidth > arguments[0].clientWidth + 100", box)  # the matrix is wider than its box
    js("arguments[0].scrollLeft = 10000", box)
    assert js("return arguments[0].scrollLeft", box) > 50 and js("return window.scrollX") == 0  # the box scrolled


@pytest.mark.parametrize("table", ["cooccurrence_matrix", "framework"])
def test_a_count_opens_the_list_of_its_passages(browser, small_report, table):
    from selenium.webdriver.common.by import By

    browser.set_window_size(1200, 900)
    browser.get((small_report[0] / "report.html").as_uri())
    links = browser.find_elements(By.CSS_SELECTOR, f"#{table} a.n")
    assert links
    link = links[-1]
    count = int(link.text.removeprefix("n="))
    target = browser.find_element(By.ID, link.get_dom_attribute("href").removeprefix("#"))
    assert not target.is_displayed()  # a list shows only when a count opens it
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    assert target.is_displayed() and -2 <= _visible_top(browser, target) < 100  # shown and scrolled to (top)
    items = target.find_elements(By.CSS_SELECTOR, "li")
    assert len(items) == count  # a cell that says n lists n passages
    passage_link = items[0].find_element(By.TAG_NAME, "a")
    passage = browser.find_element(By.ID, passage_link.get_dom_attribute("href").removeprefix("#"))
    passage_link.click()
    # and on to the passage's full text (in view, marked; at the end of the page it cannot reach the top)
    assert browser.execute_script("return arguments[0].matches(':target')", passage)
    assert -2 <= _visible_top(browser, passage) < browser.execute_script("return window.innerHeight") - 40
    assert passage_link.text in passage.text
