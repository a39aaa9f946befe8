"""Property tests: passages, sentences and tokens tile the stored text; offsets round-trip."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from qualcode.ingest.pipeline import ImportOptions, prepare
from qualcode.text.segment import Segmenter, token_spans

SEG = Segmenter()
SPEECH = st.text(alphabet=st.sampled_from(list("我们社区网格党支部互助站满意。！？，𠮷😀🏘️ab12 ")), min_size=1, max_size=40).filter(
    lambda s: s.strip() and s.strip() == s)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SPEECH, min_size=1, max_size=6))
def test_passages_sentences_and_tokens_tile_the_text(turns):
    lines = [f"{'问' if i % 2 == 0 else '答'}：{body}" for i, body in enumerate(turns)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        doc = prepare(path, ImportOptions(style="qa"), SEG)
    text = doc.text
    # passages, in order, separated by exactly one newline, cover the whole text
    assert "\n".join(text[p.start:p.end] for p in doc.passages) == text
    assert [text[p.start:p.end] for p in doc.passages] == turns
    for p in doc.passages:
        body = text[p.start:p.end]
        assert "".join(body[s:e] for s, e in p.sentences) == body
        assert "".join(text[s:e] for s, e in token_spans(p.tokens, p.start)) == body
