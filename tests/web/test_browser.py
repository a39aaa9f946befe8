"""The workspace in a real headless Chromium (Selenium + Debian's chromium-driver): code a
span selected with the mouse, decide a proposal by key, drill from a matrix cell to its
passage, memos stay text; a screenshot of every page goes to the test artifacts folder."""
from __future__ import annotations

import pytest

from qualcode import annotate
from tests.web.helpers import screenshot

pytestmark = pytest.mark.usefixtures("browser")


def _by(css):
    from selenium.webdriver.common.by import By

    return By.CSS_SELECTOR, css


def _wait(driver, condition, timeout=20):
    """Wait for a state of the page. A page replaced while the condition looks at it (a reload
    after a change) leaves stale elements behind: that is "not yet", not a failure."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def _ready(driver):
    """Wait until the page's script is running (a page shows its elements before that)."""
    _wait(driver, lambda d: d.find_elements(*_by("body[data-ready]")))


def _open(driver, url):
    driver.get(url)
    _ready(driver)


def _shown(driver, css: str, attribute: str):
    """An attribute of the element the page shows now, read in one step inside the page (an
    element found first and read later may belong to a page replaced meanwhile)."""
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e && document.body.dataset.ready ? "
        "e.getAttribute(arguments[1]) : null;", css, attribute)


def _uncoded_segment(driver, doc_id: int):
    """An interviewee passage's first segment that no coding covers and is long enough to select in."""
    for seg in driver.find_elements(*_by(".passage .g:not([data-k])")):
        if len(seg.text) >= 12 and seg.text[:8].strip() == seg.text[:8] \
                and seg.find_element("xpath", "ancestor::section").find_elements(*_by(".speaker.role-interviewee")):
            return seg
    raise AssertionError(f"document {doc_id} has no uncoded stretch")


def test_select_a_span_with_the_mouse_pick_a_code_reload_and_see_it(page, served, corpus_project):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _open(page, served.base + "/doc/4")
    seg = _uncoded_segment(page, 4)
    passage = seg.find_element("xpath", "ancestor::section").get_attribute("data-seq")
    # where the segment's 1st and 8th characters are on the screen; the mouse presses on the
    # first, drags to the eighth and lets go, as a person selects
    x1, y1, x2, y2 = page.execute_script("""
        const seg = arguments[0]; seg.scrollIntoView({block: 'center'});
        const node = seg.firstChild, r = document.createRange();
        r.setStart(node, 0); r.setEnd(node, 1); const a = r.getBoundingClientRect();
        r.setStart(node, 7); r.setEnd(node, 8); const b = r.getBoundingClientRect();
        return [a.left + 1, a.top + a.height / 2, b.right - 1, b.top + b.height / 2];""", seg)
    chain = ActionChains(page)
    chain.w3c_actions.pointer_action.move_to_location(int(x1), int(y1)).pointer_down() \
        .move_to_location(int((x1 + x2) / 2), int(y2)).move_to_location(int(x2), int(y2)).pointer_up()
    chain.perform()
    # What the mouse went over; the saved coding and the bar must cover exactly this. (The
    # window's selection itself is not read back: the code picker takes the focus, and with it
    # the selection, as soon as it opens, which on a busy machine may come first.)
    selected = seg.text[:8]
    picker = _wait(page, lambda d: d.find_element(*_by("#picker")) if d.find_element(*_by("#picker")).is_displayed() else None)
    picker.find_element(*_by("input")).send_keys("离退休")  # filter by the Chinese label
    items = page.find_elements(*_by("#picker li.pick"))
    assert [i.get_attribute("data-path") for i in items][:1] == ["embedding/retirees"]
    page.find_element(*_by("#picker input")).send_keys(Keys.ENTER)
    chip = f'#p-{passage} .chip.st-accepted.mine'
    _wait(page, lambda d: d.find_elements(*_by(chip)))
    screenshot(page, "reader-after-coding")

    rows = annotate.list_codings(corpus_project, coder="王老师", origin=["manual"])
    assert len(rows) == 1
    assert rows[0]["code"] == "embedding/retirees" and rows[0]["text"] == selected.strip()
    assert rows[0]["passage"] == f"4:{passage}"

    page.refresh()
    _ready(page)
    chips = page.find_elements(*_by(chip))
    assert [c.text.split("\n")[0] for c in chips] and "离退休党员" in chips[0].text
    covered = page.execute_script(
        "return Array.from(document.querySelectorAll('.g[data-k~=\"' + arguments[0] + '\"]')).map(g => g.textContent).join('')",
        str(rows[0]["id"]))
    assert covered == selected.strip()  # the bar is drawn under exactly the selected text
    assert annotate.audit_log(corpus_project, coder="王老师")[0]["action"] == "code-add"


def test_accept_a_proposal_by_key_in_the_review_queue(page, served, corpus_project):
    _open(page, served.base + "/review?order=uncertainty")
    first = int(page.find_element(*_by(".review")).get_attribute("data-coding"))
    screenshot(page, "review")
    assert page.find_element(*_by(".code-card .definition")).text  # the proposed code's definition beside it
    assert page.find_elements(*_by(".current mark.evidence"))  # its evidence highlighted
    page.find_element(*_by("body")).send_keys("a")
    _wait(page, lambda d: _shown(d, ".review", "data-coding") not in (None, str(first)))
    with corpus_project.store.read() as conn:
        row = annotate.resolve_coding(conn, first)
    assert (row["status"], row["coder"], row["decided_by"]) == ("accepted", "王老师", "王老师")
    # the terminal's session sees the same queue position (resumable, shared state)
    from qualcode.annotate.review import ReviewSession
    session = ReviewSession(corpus_project, coder="王老师", order="uncertainty")
    assert str(session.current().coding["id"]) == _shown(page, ".review", "data-coding")
    # undo by key brings the decision back
    page.find_element(*_by("body")).send_keys("u")
    _wait(page, lambda d: _shown(d, ".review", "data-coding") == str(first))
    with corpus_project.store.read() as conn:
        assert annotate.resolve_coding(conn, first)["status"] == "proposed"


def test_accept_and_reject_in_the_reader_by_key(page, served, corpus_project):
    _open(page, served.base + "/doc/4")
    page.find_element(*_by("body")).send_keys("j")  # the first proposal of the document
    chip = page.find_element(*_by(".chip.sel"))
    cid = chip.get_attribute("data-id")
    assert chip.get_attribute("data-status") == "proposed"
    page.find_element(*_by("body")).send_keys("a")
    _wait(page, lambda d: d.find_elements(*_by(f'.chip[data-id="{cid}"].st-accepted')))
    page.find_element(*_by("body")).send_keys("j")
    other = page.find_element(*_by(".chip.sel")).get_attribute("data-id")
    assert other != cid
    page.find_element(*_by("body")).send_keys("r")
    # rejected codings are hidden by the default filter (proposed, accepted)
    _wait(page, lambda d: not d.find_elements(*_by(f'.chip[data-id="{other}"]')))
    got = {r["id"]: r["status"] for r in annotate.list_codings(corpus_project, doc="4")}
    assert got[int(cid)] == "accepted" and got[int(other)] == "rejected"


def test_drill_from_a_matrix_cell_to_a_passage(page, served, corpus_project):
    annotate.decide(corpus_project, "accepted", code="embedding", coder="李")
    _open(page, served.base + "/reports")
    screenshot(page, "reports")
    cell = page.find_element(*_by("#cases tbody tr td a.cell"))
    value = int(cell.text)
    cell.click()
    _wait(page, lambda d: d.find_elements(*_by("#drill-summary")))
    screenshot(page, "drill")
    hits = page.find_elements(*_by("li.hit"))
    assert hits and f"{value} " in page.find_element(*_by("#drill-summary")).text
    ref = hits[0].get_attribute("data-passage")
    hits[0].find_element(*_by("a.open")).click()
    seq = ref.split(":")[1]
    focused = _wait(page, lambda d: d.find_elements(*_by(f"#p-{seq}.focus")))
    assert focused[0].find_elements(*_by(".chip"))  # the passage opens with its codings
    assert page.current_url.split("/doc/")[1].startswith(ref.split(":")[0] + "?")


def test_a_memo_with_markup_stays_text(page, served, corpus_project):
    _open(page, served.base + "/doc/4")
    page.find_element(*_by("body")).send_keys("j")
    cid = page.find_element(*_by(".chip.sel")).get_attribute("data-id")
    page.find_element(*_by("body")).send_keys("m")
    box = _wait(page, lambda d: d.find_element(*_by(".ask textarea")))
    xss = '<img src=x onerror="window.__xss=1">'
    box.send_keys(xss)
    page.find_element(*_by(".ask button")).click()
    _wait(page, lambda d: d.find_elements(*_by(f'.chip[data-id="{cid}"] .memo-n')))
    page.refresh()
    _ready(page)
    memo = page.find_element(*_by(".memos .memo"))
    assert xss in memo.text
    assert not page.find_elements(*_by(".memos img")) and page.execute_script("return window.__xss") is None
    assert [m["text"] for m in annotate.list_memos(corpus_project, "coding")] == [xss]


def test_documents_page_edits_case_and_role_code_in_place(page, served, corpus_project):
    from qualcode.store import queries

    _open(page, served.base + "/")
    screenshot(page, "documents")
    row = page.find_element(*_by("#doc-2"))
    row.find_element(*_by(".edit-doc")).click()
    editor = page.find_element(*_by("#edit-2"))
    case = editor.find_element(*_by('input[name="case"]'))
    case.clear()
    case.send_keys("N街道<b>x</b>")
    role = editor.find_element(*_by('input[name="role_code"]'))
    role.clear()
    role.send_keys("网格员F")
    editor.find_element(*_by(".save-doc")).click()
    _wait(page, lambda d: d.find_element(*_by("#doc-2 .v-role")).text == "网格员F")
    page.refresh()
    _ready(page)
    assert page.find_element(*_by("#doc-2 .v-case")).text == "N街道<b>x</b>"  # escaped, not bold
    detail = queries.document_detail(corpus_project.store, 2)
    assert detail["case"] == "N街道<b>x</b>" and detail["attributes"]["role"] == "网格员F"


def test_every_page_in_both_languages(page, served):
    for name, path in [("codebook", "/codebook"), ("log", "/log"), ("chain", "/chain?proposed=1"),
                       ("reader", "/doc/4?focus=5")]:
        _open(page, served.base + path)
        assert page.find_element(*_by(".top nav a")).text == "文档"
        screenshot(page, name)
    page.find_element(*_by("#lang-switch")).click()
    _wait(page, lambda d: d.find_element(*_by(".top nav a")).text == "Documents")
    assert "/doc/4" in page.current_url  # stays on the page it was switched on
    screenshot(page, "reader-en")


def test_settle_a_disagreement_side_by_side_with_a_reason_by_keys(page, served, corpus_project):
    from selenium.webdriver.common.keys import Keys

    from qualcode.annotate.adjudicate import AdjudicationSession
    from tests.web.helpers import two_coders_disagree

    split = two_coders_disagree(corpus_project)  # 王 coded construction/hub where 李 did not
    _open(page, served.base + "/adjudicate")
    page.find_element(*_by('input[name="coder"][value="王"]')).click()
    page.find_element(*_by('input[name="coder"][value="李"]')).click()
    page.find_element(*_by("#adj-form button[type=submit]")).click()
    # opening it carries the two coders' agreements into the consensus, as the terminal does
    _wait(page, lambda d: (_shown(d, "#adj-summary", "data-agreed") or "0") != "0")
    card = page.find_element(*_by(".adjudication"))
    first = (card.get_attribute("data-unit"), card.get_attribute("data-code"))
    assert first == (split[0]["passage"], "construction/hub")
    sides = page.find_elements(*_by(".side"))
    votes = [(s.get_attribute("data-coder"), s.get_attribute("data-vote")) for s in sides]
    assert sorted(votes) == [("李", "0"), ("王", "1")]  # side by side, in the order the form named them
    wang = [c for c, _ in votes].index("王")
    assert sides[wang].find_elements(*_by("mark.evidence"))  # 王's evidence terms, beside 李's "not coded"
    assert page.find_element(*_by(".code-card .definition")).text
    screenshot(page, "adjudicate")

    body = page.find_element(*_by("body"))
    body.send_keys(str(wang + 1))  # as coder N (王) had it: asks for the reason
    box = _wait(page, lambda d: d.find_element(*_by(".ask textarea")))
    box.send_keys(Keys.ENTER)  # no reason: refused, the question stays
    assert page.find_elements(*_by(".ask textarea")) and "理由" in page.find_element(*_by("#flash")).text
    box.send_keys("书记明确说兼职委员制度是整合资源的枢纽")
    box.send_keys(Keys.ENTER)
    _wait(page, lambda d: _shown(d, ".adjudication", "data-unit") not in (None, first[0]))
    assert _shown(page, "#adj-summary", "data-settled") == "1"
    screenshot(page, "adjudicate-next")

    session = AdjudicationSession(corpus_project, ["王", "李"], adjudicator="王老师")
    record = [r for r in session.settled() if r["kind"] == "settled"]
    assert [(r["unit"], r["code"], r["result"], r["reason"], r["decided_by"]) for r in record] == [
        (first[0], "construction/hub", 1, "书记明确说兼职委员制度是整合资源的枢纽", "王老师")]
    consensus = annotate.list_codings(corpus_project, coder="consensus", doc="4", code="construction/hub")
    assert [(r["start"], r["end"]) for r in consensus] == [(split[0]["start"], split[0]["end"])]
    assert session.current().unit == _shown(page, ".adjudication", "data-unit")  # the terminal resumes there

    page.find_element(*_by("body")).send_keys("u")  # undo: the settlement and its consensus coding go
    _wait(page, lambda d: _shown(d, ".adjudication", "data-unit") == first[0])
    assert annotate.list_codings(corpus_project, coder="consensus", doc="4", code="construction/hub") == []


def test_removing_a_document_asks_for_its_name_first(page, served, corpus_project):
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from qualcode.store import queries

    name = queries.document_detail(corpus_project.store, 2)["name"]
    _open(page, served.base + "/")
    for typed in (None, "not the name", name):
        page.find_element(*_by("#doc-2 .remove-doc")).click()
        prompt = WebDriverWait(page, 10).until(ec.alert_is_present())
        assert name in prompt.text
        if typed is None:
            prompt.dismiss()
        else:
            prompt.send_keys(typed)
            prompt.accept()
        if typed != name:
            assert 2 in [d["id"] for d in queries.list_documents(corpus_project.store)]
    _wait(page, lambda d: not d.find_elements(*_by("#doc-2")))
    assert 2 not in [d["id"] for d in queries.list_documents(corpus_project.store)]
    assert annotate.audit_log(corpus_project, limit=1)[0]["action"] == "docs-remove"
