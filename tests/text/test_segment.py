import pytest
from hypothesis import given, settings, strategies as st

from qualcode.errors import ConfigError
from qualcode.text.segment import Segmenter, pack_tokens, split_sentences, token_spans
from qualcode.vocabulary import SEGMENTERS

ALPHABET = st.sampled_from(list("我们社区网格党支部互助站。！？；…”）\n 𠮷😀ab党建满意不"))


@given(st.text(alphabet=ALPHABET, max_size=80))
def test_sentences_tile_the_text(text):
    spans = split_sentences(text)
    assert "".join(text[s:e] for s, e in spans) == text
    assert all(s < e for s, e in spans)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))


@given(st.text(alphabet=ALPHABET, min_size=1, max_size=60), st.integers(0, 20))
def test_sentences_of_a_slice_stay_inside_it(text, cut):
    start = min(cut, len(text))
    spans = split_sentences(text, start, len(text))
    assert all(start <= s < e <= len(text) for s, e in spans)
    assert "".join(text[s:e] for s, e in spans) == text[start:]


def test_sentence_keeps_closing_quote():
    assert split_sentences("他说：“好的。”然后走了。") == [(0, 8), (8, 13)]


SEG = Segmenter(["网格党支部"])
SEGS = {kind: Segmenter(["网格党支部", "邻里议事厅", "红色物业"], kind) for kind in SEGMENTERS}
ODD = st.sampled_from(list("我们社区网格党支部互助站。！？；…”）\n\r\t 𠮷😀ab1.%党建满意不\u3000\u200b\ufeffé̀"))


def _tokens(seg: Segmenter, text: str) -> list[str]:
    pos, tokens = 0, []
    for n in seg.token_lengths(text):
        tokens.append(text[pos : pos + n])
        pos += n
    return tokens


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60))
def test_tokens_cover_text_exactly_including_non_bmp(text):
    spans = token_spans(pack_tokens(SEG.token_lengths(text)), offset=5)
    assert "".join(text[s - 5 : e - 5] for s, e in spans) == text
    if text:
        assert spans[0][0] == 5 and spans[-1][1] == 5 + len(text)


@pytest.mark.parametrize("kind", SEGMENTERS)
@settings(max_examples=80, deadline=None)
@given(text=st.text(alphabet=ODD, max_size=80))
def test_both_segmenters_tile_the_text_in_code_points(kind, text):
    lengths = SEGS[kind].token_lengths(text)
    assert all(n > 0 for n in lengths)
    assert "".join(_tokens(SEGS[kind], text)) == text  # half-open, no gaps, no overlaps, code points


@pytest.mark.parametrize("kind", SEGMENTERS)
def test_domain_terms_stay_whole_in_both_scripts(kind):
    seg = SEGS[kind]
    for text, term in [("我们的网格党支部成立了", "网格党支部"), ("我們的網格黨支部成立了", "網格黨支部"),
                       ("社区有个互助站", "互助站"), ("楼下的邻里议事厅和红色物业", "邻里议事厅"),
                       ("楼下的邻里议事厅和红色物业", "红色物业"), ("鄰里議事廳開會", "鄰里議事廳")]:
        assert term in _tokens(seg, text), (kind, _tokens(seg, text))


def test_the_segmenters_differ_in_version_but_jieba_keeps_its_old_one():
    words = ["邻里议事厅"]
    assert Segmenter(words, "jieba-rs").version != Segmenter(words, "jieba").version
    assert Segmenter(words).version == Segmenter(words, "jieba").version  # existing projects: no re-segmenting


def test_an_unknown_segmenter_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown segmenter 'pkuseg'"):
        Segmenter([], "pkuseg")


def test_user_words_change_the_dictionary_version():
    assert Segmenter(["邻里议事厅"]).version != Segmenter([]).version
    assert Segmenter(["邻里议事厅"]).version == Segmenter(["鄰里議事廳"]).version
