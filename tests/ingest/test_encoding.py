import codecs

import pytest

from qualcode.errors import InputFileError
from qualcode.ingest.encoding import decode

SHORT = "您好，我们想了解一下互助站。"  # ~14 characters: detectors guess badly here
LONG = (
    "我们街道从二零一六年开始推行网格化管理，每个网格配一名专职网格员，"
    "平时主要负责入户走访、收集居民诉求，协调物业和业委会之间的矛盾。"
) * 4
SHORT_TRAD = "您好，我們想了解一下互助站。"
LONG_TRAD = "網格黨支部每個月開一次會，業委會和物業也會參加，在職黨員雙報到以後回社區服務。" * 4


@pytest.mark.parametrize("text", [SHORT, LONG, "业委会", "双报到以后，在职党员回社区报到服务。"])
def test_gb18030(text):
    assert decode(text.encode("gb18030"), "a.txt") == (text, "gb18030")


@pytest.mark.parametrize("text", [SHORT_TRAD, LONG_TRAD, "業委會", "網格黨支部每個月開一次會。"])
def test_big5(text):
    assert decode(text.encode("big5"), "a.txt") == (text, "big5")


def test_gbk_file_with_rare_gb18030_character():
    text = "居民说：“𠮷野家的外卖员也来双报到了。”"  # 𠮷 needs a four-byte GB18030 sequence
    assert decode(text.encode("gb18030"), "a.txt") == (text, "gb18030")


@pytest.mark.parametrize("text", [SHORT, LONG])
def test_utf8_with_and_without_bom(text):
    assert decode(text.encode("utf-8"), "a.txt") == (text, "utf-8")
    assert decode(codecs.BOM_UTF8 + text.encode("utf-8"), "a.txt") == (text, "utf-8-sig")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(codec):
    bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
    text = "说话人 1 00:00\r\n" + SHORT
    assert decode(bom + text.encode(codec), "a.txt") == (text, "utf-16")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("text", ["问：" + SHORT + "\n答：好的。", SHORT])
def test_utf16_without_bom(codec, text):
    assert decode(text.encode(codec), "a.txt") == (text, codec)


def test_forced_encoding():
    assert decode(SHORT.encode("gb18030"), "a.txt", forced="gbk") == (SHORT, "gbk")


def test_forced_encoding_that_fails_names_file_and_offset():
    data = "互助站".encode() + b"\xff\xfe"
    with pytest.raises(InputFileError) as err:
        decode(data, "访谈/a.txt", forced="utf-8")
    assert str(err.value) == "访谈/a.txt: not valid utf-8 (undecodable bytes at offset 9)"
    assert "--encoding" in err.value.hint


def test_unknown_forced_encoding():
    with pytest.raises(InputFileError, match=r"^a.txt: unknown encoding 'gb-what'$"):
        decode(b"abc", "a.txt", forced="gb-what")


@pytest.mark.parametrize("data", [b"\x80\x81 hello \xff", "互助站".encode()[:-1] + b" ok"])
def test_undecodable(data):
    with pytest.raises(InputFileError) as err:
        decode(data, "a.txt")
    assert str(err.value) == "a.txt: cannot decode text (not UTF-8, GB18030, Big5 or UTF-16)"
    assert err.value.hint.startswith("pass --encoding")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a.txt: this is a PDF, not a text transcript"),
        (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x00\xff\x10" * 20, "a.txt: binary data, not a text transcript"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "a.txt: this is an image, not a text transcript"),
        (b"PK\x03\x04\x14\x00", "a.txt: this is a zip archive (a renamed .docx or .xlsx?), not a text transcript"),
    ],
)
def test_binary_and_pdf(data, message):
    with pytest.raises(InputFileError) as err:
        decode(data, "a.txt")
    assert str(err.value) == message
