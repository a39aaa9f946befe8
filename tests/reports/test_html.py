"""The HTML report's tables: one language, wide tables in a scrolling box, and every count of
a matrix linked to the list of exactly the passages it counts (checked on the small project,
tests/reports/helpers.py)."""
from __future__ import annotations

import re

import pytest


def _page(project, lang="zh"):
    from lxml import html as lxml_html

    from qualcode.reports import load
    from qualcode.reports.bundle import ReportOptions, build_tables
    from qualcode.reports.render.html import html_report

    text = html_report(build_tables(load(project), ReportOptions(lang=lang)))
    return text, lxml_html.fromstring(text)


def _list_of(tree, link):
    target = link.get("href").removeprefix("#")
    found = tree.xpath(f'//div[@class="cell"][@id="{target}"]')
    assert len(found) == 1, target
    return found[0]


def test_every_table_scrolls_in_its_own_box(small):
    _, tree = _page(small)
    tables = tree.xpath("//table")
    assert tables and all(t.getparent().get("class") == "scroll" for t in tables)
    text, _ = _page(small)
    assert re.search(r"\.scroll \{[^}]*overflow-x: auto", text)


def test_each_count_links_to_a_list_of_as_many_passages(small):
    _, tree = _page(small)
    checked = 0
    for table in ("cooccurrence_matrix", "framework", "subcodes"):
        links = tree.xpath(f'//section[@id="{table}"]//a[@class="n"]')
        assert links, table
        for link in links:
            n = int(link.text_content().removeprefix("n="))
            assert len(_list_of(tree, link).xpath(".//li")) == n, (table, link.get("href"))
            checked += 1
    ids = tree.xpath("//@id")
    assert len(ids) == len(set(ids))  # stable ids, each once
    assert checked >= 10


def test_a_cell_lists_the_passages_it_counts(small):
    _, tree = _page(small)
    # 组织网络 × 东街道 in the code × case matrix: 甲-书记A p2 and 甲-站长B p2
    link = tree.xpath('//section[@id="case_matrix"]//a[@href="#cell-construction.network--东街道"]')[0]
    items = _list_of(tree, link).xpath(".//li")
    assert [i.xpath("a")[0].text for i in items] == ["1:2", "2:2"]
    assert "社区党组织书记A" in items[0].text_content() and "互助站站长B" in items[1].text_content()
    assert "退休党员当楼组长" in items[0].text_content()
    # each listed passage links to its full text below
    assert tree.xpath('//div[@class="p"][@id="p-1-2"]')
    # 组织网络 × 离退休党员 in the co-occurrence matrix: the one passage holding both
    pair = tree.xpath('//section[@id="cooccurrence_matrix"]//a[@href="#pair-construction.network--embedding.retirees"]')
    assert pair and pair[0].text == "1"
    assert [i.xpath("a")[0].text for i in _list_of(tree, pair[0]).xpath(".//li")] == ["1:2"]


def test_a_count_of_zero_links_nowhere(small):
    _, tree = _page(small)
    row = tree.xpath('//section[@id="case_matrix"]//tr[td[1]="construction/hub"]')[0]
    assert not row.xpath(".//a")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_is_in_one_language(small, lang):
    text, tree = _page(small, lang)
    assert tree.get("lang") == ("en" if lang == "en" else "zh-CN")
    headings = [h.text_content() for h in tree.xpath("//h1|//h2|//caption")]
    if lang == "en":
        assert "Coded passages" in headings and "Passages behind the counts" in headings
        assert "Embedding" in text and not any(re.search(r"[\u4e00-\u9fff]{2}", h.split(":")[-1]) for h in headings[1:])
    else:
        assert "编码段落" in headings and "计数对应的段落" in headings and "Coded passages" not in text
        assert any(h.startswith("表1\u3000") for h in headings)
