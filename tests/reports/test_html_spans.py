"""Coded passages in the HTML report, drawn by displacy: the passage text exactly (no spaces
added between Chinese characters, 𠮷 and emoji intact), labels and text escaped, overlaps stacked."""
from __future__ import annotations

from html.parser import HTMLParser

from qualcode.reports.render.html import render_passage


class _Reader(HTMLParser):
    """Text outside labels, label texts, bar tops and every tag seen."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.labels, self.tags, self.tops = [], [], [], []
        self._in_label = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if self._in_label or a.get("class") == "l":
            self._in_label += 1
            if a.get("class") == "l":
                self.labels.append("")
        if a.get("class") == "b":
            self.tops.append(a["style"].split(";")[0])

    def handle_endtag(self, tag):
        if self._in_label:
            self._in_label -= 1

    def handle_data(self, data):
        if self._in_label:
            self.labels[-1] += data
        else:
            self.text.append(data)


def _read(markup: str) -> _Reader:
    reader = _Reader()
    reader.feed(markup)
    return reader


def test_passage_text_is_kept_exactly():
    text = "我叫吉𠮷😀，在网格党支部工作。退休党员也来。"
    spans = [(102, 107, "a"), (105, 112, "b"), (115, 119, "c")]  # document offsets; the passage starts at 100
    page = _read(render_passage(text, 100, spans, {"a": "#1f77b4"}, {"a": "骨干任职", "b": "组织网络", "c": "离退休党员"}))
    assert "".join(page.text) == text
    assert page.labels == ["骨干任职", "组织网络", "离退休党员"]
    assert 'top:24px' in page.tops and 'top:29px' in page.tops  # the overlap is stacked


def test_hostile_text_labels_and_colours_stay_text():
    text = '他说<script>alert("x")</script>&然后'
    spans = [(0, len(text), "x"), (2, 10, "y")]
    markup = render_passage(text, 0, spans, {"x": '"><script>alert(1)</script>'},
                            {"x": "<script>alert(2)</script>", "y": 'a"b'})
    page = _read(markup)
    assert "script" not in page.tags and "<script" not in markup
    assert "".join(page.text) == text
    assert sorted(page.labels) == ["<script>alert(2)</script>", 'a"b']
