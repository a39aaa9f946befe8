"""One catalogue, two languages: every string the templates and the script use is in it."""
from __future__ import annotations

import re
from pathlib import Path

from qualcode.web.i18n import CATALOGUE, script_strings, text

WEB = Path(__file__).resolve().parents[2] / "qualcode" / "web"


def test_every_key_the_templates_and_the_script_use_is_in_the_catalogue():
    used = set()
    for template in (WEB / "templates").glob("*.html"):
        used |= set(re.findall(r"_\('([a-z_.]+)'", template.read_text(encoding="utf-8")))
    dynamic = {key for key in used if key.endswith(".")}  # '_('status.' + s)': one key per value
    assert used and used - dynamic - set(CATALOGUE) == set()
    from qualcode.annotate.review import ORDERS
    from qualcode.vocabulary import ORIGINS, SPEAKER_ROLES, STATUSES

    values = {"status.": STATUSES, "origin.": ORIGINS, "role.": (*SPEAKER_ROLES, "none"), "order.": ORDERS}
    assert dynamic <= set(values)
    assert {p + v for p in dynamic for v in values[p]} - set(CATALOGUE) == set()
    script = (WEB / "static" / "app.js").read_text(encoding="utf-8")
    assert set(re.findall(r"\bT\.([a-z_]+)", script)) - set(script_strings("zh")) == set()


def test_every_string_is_in_chinese_and_english():
    for key, (zh, en) in CATALOGUE.items():
        assert zh and en, key
        shown = re.sub(r"\{[a-z_]+\}", "", zh)
        assert re.search(r"[\u4e00-\u9fff]", shown) or key in ("app.title", "nav.language", "list.sep", "chain.reason_sep"), key
    assert text("review.position", "en", position=3, total=9) == "3 of 9"
    assert text("nav.documents") == "文档"  # Chinese is the default
