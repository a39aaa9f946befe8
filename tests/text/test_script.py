"""Script folding built from OpenCC's tables: simplified and traditional text fold alike."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from qualcode.ingest.normalize import common_cjk_chars
from qualcode.text.script import _dictionary_entries, _single, convert, detect_script, fold


def _one_to_one_pairs() -> dict[str, str]:
    """Simplified → traditional pairs of STCharacters that are one-to-one both ways."""
    forward = {src: t for src, targets in _dictionary_entries("STCharacters.txt") if (t := _single(src, targets))}
    sources: dict[str, int] = {}
    for t in forward.values():
        sources[t] = sources.get(t, 0) + 1
    return {s: t for s, t in forward.items() if sources[t] == 1}


PAIRS = _one_to_one_pairs()
# the one-to-one characters and the common simplified ones (phrases such as 着火 convert as a whole)
SIMPLIFIED = sorted(set(PAIRS) | common_cjk_chars())


def test_examples_from_the_issue_fold_alike():
    assert fold("車棚著了火") == fold("车棚着了火")
    assert fold("於") == fold("于")
    assert fold("裡") == fold("裏") == fold("里")
    assert len(fold("車棚著了火")) == len("車棚著了火")


def test_detect_script_still_tells_traditional_from_simplified():
    # 著, 於 are simplified characters too: they must not make a simplified text "traditional"
    assert detect_script("他著作等身，于是我们在社区里开会") == "simplified"
    assert detect_script("我們在社區裡開會，車棚著了火") == "traditional"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(SIMPLIFIED), min_size=1, max_size=30))
def test_simplified_and_its_opencc_traditional_fold_alike(text):
    traditional = convert(text, "traditional")
    if len(traditional) != len(text):  # a phrase conversion changed the length: not aligned
        return
    for s, t in zip(text, traditional):
        # wherever OpenCC's conversion is the one-to-one mapping (or leaves the character)
        if t == s or PAIRS.get(s) == t:
            assert fold(s) == fold(t), (s, t)


def test_a_standard_simplified_character_never_folds_away():
    """fold maps to the simplified form; a character that already is one stays, so the words
    jieba knows (什么, 覆盖, 了解) survive folding and plain simplified text is left as it is."""
    entries = list(_dictionary_entries("TSCharacters.txt"))
    converted = {src for src, targets in entries if targets and targets[0] != src}
    simplified = {targets[0] for _, targets in entries if targets} - converted
    assert [c for c in sorted(simplified) if fold(c) != c] == []
    assert fold("我们说什么，这么多，覆盖了") == "我们说什么，这么多，覆盖了"
