import unicodedata

import pytest

from qualcode.ingest.normalize import clean_line, iso_date, suspect_mojibake


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("领(lǐng)导说要搞双报到", "领导说要搞双报到"),
        ("领（lǐng）导", "领导"),
        ("领(ling3)导", "领导"),
        ("网格(wǎng gé)党支部", "网格党支部"),
        ("放一下PPT(PPT)好吗", "放一下PPT(PPT)好吗"),
        ("这个汇报(PPT)做得好", "这个汇报(PPT)做得好"),
        ("业委会(ok)", "业委会(ok)"),
        ("社区（D社区）", "社区（D社区）"),
        ("互助站\u200b开放\u00a0时间\ufeff  \t", "互助站开放 时间"),
        ("\ufeff说话人 1 00:00 ", "说话人 1 00:00"),
        ("e\u0301", "é"),
        ("家庭👨\u200d👩\u200d👧合影", "家庭👨\u200d👩\u200d👧合影"),
        ("响铃\x07了", "响铃了"),
    ],
)
def test_clean_line(raw, clean):
    assert clean_line(raw) == clean
    assert unicodedata.is_normalized("NFC", clean_line(raw))


NORMAL = [
    "好的，我们这个站是前年成立的，主要服务社区里的老人。",
    "網格黨支部每個月開一次會，業委會也會參加。",
    "双报到以后，在职党员回社区报到服务😀，𠮷野家也来了。",
    "嗯，对。",
    "璩主任说：鑫鑫超市的老板也是志愿者。",
    "佢哋唔知互助站喺边度。",
    "嗐，甭提了。",
    "我们今天主要想了解一下小区互助站的情况, OK? Café 也算一个点。",
    "",
]


@pytest.mark.parametrize("text", NORMAL)
def test_normal_text_is_not_mojibake(text):
    assert suspect_mojibake(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("互助站\ufffd\ufffd开放", "contains U+FFFD replacement characters"),
        ("锟斤拷锟斤拷", "contains '锟斤拷' (bytes lost in an earlier wrong decode)"),
        ("烫烫烫烫", "contains '烫烫烫' (bytes lost in an earlier wrong decode)"),
        ("屯屯屯屯", "contains '屯屯屯' (bytes lost in an earlier wrong decode)"),
        ("cafÃ© and â€œquotesâ€", "Latin-1 mojibake such as 'Ã©' or 'â€œ' (UTF-8 read as Latin-1?)"),
    ],
)
def test_mojibake_reasons(text, reason):
    assert suspect_mojibake(text) == reason


@pytest.mark.parametrize("text", ["鍦ㄨ繖涓", "娴嬭瘯", *NORMAL[:3]])
def test_utf8_read_as_gbk(text):
    garbled = text if not text.isascii() and text in ("鍦ㄨ繖涓", "娴嬭瘯") else (
        text.encode("utf-8").decode("gbk", errors="ignore")
    )
    assert "UTF-8 read as GBK" in suspect_mojibake(garbled)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2022年7月21日", "2022-07-21"),
        ("二〇二二年七月二十一日", "2022-07-21"),
        ("2025年3月2日 下午 2:10", "2025-03-02"),
        ("2022/7/21", "2022-07-21"),
        ("20220721", "2022-07-21"),
        ("2022年7月", "2022-07"),
        ("3月8日 09:41", "03-08"),
        ("社区办公室", None),
    ],
)
def test_iso_date(text, iso):
    assert iso_date(text) == iso


def test_shipped_common_characters_are_those_of_the_jieba_dictionary():
    """qualcode/data/common_cjk.txt saves every process 0.4 s; it must stay the derivation."""
    from qualcode.ingest.normalize import common_cjk_chars, derive_common_cjk_chars

    shipped = common_cjk_chars()
    assert shipped == derive_common_cjk_chars(), (
        "regenerate with: python -c 'from qualcode.ingest.normalize import write_common_cjk_chars as w; w()'")
    assert {"的", "社", "区", "党"} <= shipped and "鍦" not in shipped
