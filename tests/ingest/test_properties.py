"""Invariants over arbitrary input: cleaning is stable and parsing never half-works."""
from hypothesis import given, settings, strategies as st

from qualcode.errors import InputFileError
from qualcode.ingest.model import ROLES, RawSource
from qualcode.ingest.normalize import clean_line
from qualcode.ingest.styles import STYLES, parse

# Pieces of real transcripts, so that random lines hit labels, timestamps and headers.
PIECES = [
    "说话人 1 00:00", "说话人2 01:05", "王书记 00:56", "[00:00:41.520]", "受访者：", "采访者：", "问：", "答:",
    "【访谈者】", "00:31", "-->", "00:00:01,000 --> 00:00:02,000", "WEBVTT", "<v 受访者>", "（社区党组织书记A，访谈资料）",
    "访谈时间：2022年7月21日", "关键词:", "（片段二）", "=====", "音频内容为空", "互助站", "网格党支部", "双报到",
    "业委会", "。", "？", "，", " ", "\t", "领(lǐng)导", "(PPT)", "𠮷", "😀", "\u200b", "\u00a0", "A", "1",
]
line = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("领导(（)）lǐngPT3a 互助站\u200b\u00a0\ufeff👨\u200d👩e\u0301"), max_size=30))
def test_clean_line_is_idempotent(s):
    assert clean_line(clean_line(s)) == clean_line(s)


@settings(max_examples=300, deadline=None)
@given(st.lists(line, max_size=12), st.sampled_from(["txt", "docx", "srt", "vtt", "md"]))
def test_parse_gives_clean_turns_or_a_clear_error(lines, kind):
    src = RawSource("x." + kind, kind, [clean_line(s) for s in lines], "utf-8")
    try:
        doc = parse(src)
    except InputFileError as err:
        assert str(err).startswith(f"x.{kind}: no transcript text after cleaning (")
        return
    assert doc.style in STYLES
    for turn in doc.turns:
        assert turn.text and turn.text == turn.text.strip()
        assert 1 <= turn.line <= len(lines)
        assert turn.role in ROLES or turn.role is None
