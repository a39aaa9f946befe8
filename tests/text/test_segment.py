from hypothesis import given, settings, strategies as st

from qualcode.text.segment import Segmenter, pack_tokens, split_sentences, token_spans

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


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60))
def test_tokens_cover_text_exactly_including_non_bmp(text):
    spans = token_spans(pack_tokens(SEG.token_lengths(text)), offset=5)
    assert "".join(text[s - 5 : e - 5] for s, e in spans) == text
    if text:
        assert spans[0][0] == 5 and spans[-1][1] == 5 + len(text)


def test_domain_terms_stay_whole_in_both_scripts():
    for text, term in [("我们的网格党支部成立了", "网格党支部"), ("我們的網格黨支部成立了", "網格黨支部"),
                       ("社区有个互助站", "互助站")]:
        pos = 0
        tokens = []
        for n in SEG.token_lengths(text):
            tokens.append(text[pos : pos + n])
            pos += n
        assert term in tokens, tokens


def test_user_words_change_the_dictionary_version():
    assert Segmenter(["邻里议事厅"]).version != Segmenter([]).version
    assert Segmenter(["邻里议事厅"]).version == Segmenter(["鄰里議事廳"]).version
