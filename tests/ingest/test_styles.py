import pytest

from qualcode.errors import InputFileError
from qualcode.ingest.readers import read_source
from qualcode.ingest.styles import STYLES, detect_style, parse

ER, EE = "interviewer", "interviewee"

FEISHU = """
2025年3月2日 下午 2:10|48分钟 12秒
关键词:
互助站、网格、业委会
文字记录:
说话人 1 00:00 
您好，我们今天主要想了解一下小区互助站的情况。
说话人 2 00:07 
好的，我们这个站是前年成立的……
主要是帮老人买菜、陪诊。
王书记 00:56 
对，我补充一下。
说话人 2 1:02:03 
Wi-Fi 也是业委会装的。
"""


def test_feishu(source, rows):
    doc = parse(source(FEISHU))
    assert doc.style == "feishu"
    assert doc.attributes == {
        "日期": "2025年3月2日 下午 2:10",
        "时长": "48分钟 12秒",
        "date": "2025-03-02",
        "关键词": "互助站、网格、业委会",
    }
    assert rows(doc) == [
        (5, "0:00:00", "说话人 1", None, "您好，我们今天主要想了解一下小区互助站的情况。"),
        (7, "0:00:07", "说话人 2", None, "好的，我们这个站是前年成立的……主要是帮老人买菜、陪诊。"),
        (10, "0:00:56", "王书记", None, "对，我补充一下。"),
        (12, "1:02:03", "说话人 2", None, "Wi-Fi 也是业委会装的。"),
    ]
    assert doc.warnings == []


FEISHU_DAMAGED = """
2025年3月2日 下午 2:10 48分钟 12秒
关键词
互助站、网格、业委会
文字记录
说话人 1 00:00您好，我们今天主要想了解一下互助站。说话人 2 00:07 好的，我们这个站是前年成立的。
张主任 00:56我补充一下，双报到也在做。说话人 1 01:10 那业委会呢？
说话人 2 01:15
业委会是去年换届的。
"""


def test_feishu_damaged(source, rows):
    doc = parse(source(FEISHU_DAMAGED))
    assert doc.style == "feishu"
    assert doc.attributes == {
        "日期": "2025年3月2日 下午 2:10",
        "时长": "48分钟 12秒",
        "date": "2025-03-02",
        "关键词": "互助站、网格、业委会",
    }
    assert rows(doc) == [
        (5, "0:00:00", "说话人 1", None, "您好，我们今天主要想了解一下互助站。"),
        (5, "0:00:07", "说话人 2", None, "好的，我们这个站是前年成立的。"),
        (6, "0:00:56", "张主任", None, "我补充一下，双报到也在做。"),
        (6, "0:01:10", "说话人 1", None, "那业委会呢？"),
        (7, "0:01:15", "说话人 2", None, "业委会是去年换届的。"),
    ]
    assert doc.warnings == ["2 glued turns split"]


def test_feishu_docx(make_docx, rows):
    path = make_docx(["2025年3月2日 下午 2:10|48分钟 12秒", "文字记录:", "说话人 1 00:00 ", "您好。", "说话人 2 00:07 ", "好的。"])
    doc = parse(read_source(path))
    assert doc.style == "feishu"
    assert rows(doc) == [(3, "0:00:00", "说话人 1", None, "您好。"), (5, "0:00:07", "说话人 2", None, "好的。")]


def test_speech_with_a_clock_time_is_not_a_label(source, rows):
    doc = parse(source(
        """
        说话人 1 00:00
        那你们几点开门？
        说话人 2 00:05
        开会 9:30 开始，
        我们 8:00 就到了。
        """
    ))
    assert rows(doc)[1] == (3, "0:00:05", "说话人 2", None, "开会 9:30 开始，我们 8:00 就到了。")


IFLYTEK = """
3月8日 09:41 录音
说话人3 00:12你好，我是学院的老师，想了解一下网格的情况。
说话人4 01:05我们社区一共有六个网格，
每个网格有一个网格长。
说话人4 01:30 网格员都是专职的。
"""


def test_iflytek(source, rows):
    doc = parse(source(IFLYTEK))
    assert doc.style == "iflytek"
    assert doc.attributes == {"日期": "3月8日 09:41", "date": "03-08"}
    assert rows(doc) == [
        (2, "0:00:12", "说话人 3", None, "你好，我是学院的老师，想了解一下网格的情况。"),
        (3, "0:01:05", "说话人 4", None, "我们社区一共有六个网格，每个网格有一个网格长。"),
        (5, "0:01:30", "说话人 4", None, "网格员都是专职的。"),
    ]


BRACKETED = """
关键词：网格建党、双报到
[00:00:00.000] 采访者：今天主要请您谈谈网格党支部的情况。
[00:00:41.520] 受访者：我们街道从二〇一六年开始建网格党支部。
[00:01:02.300] 这个是第二段，没有角色标签。
[00:01:10.000] 受访者大家好，我补充一点。
[00:01:20.000] 受访者（第二位）：我是楼长。[00:01:30.000] 采访者：那双报到呢？[00:01:35.000] 受访者：双报到是在职党员回社区。
[00:01:50.000] 受访者：那您觉得这个效果怎么样？
[00:02:00.000] 受访者：效果还可以。
"""


def test_bracketed(source, rows):
    doc = parse(source(BRACKETED))
    assert doc.style == "bracketed"
    assert doc.attributes == {"关键词": "网格建党、双报到"}
    assert rows(doc) == [
        (2, "0:00:00.000", "采访者", ER, "今天主要请您谈谈网格党支部的情况。"),
        (3, "0:00:41.520", "受访者", EE, "我们街道从二〇一六年开始建网格党支部。"),
        (4, "0:01:02.300", None, None, "这个是第二段，没有角色标签。"),
        (5, "0:01:10.000", "受访者", EE, "大家好，我补充一点。"),
        (6, "0:01:20.000", "受访者（第二位）", EE, "我是楼长。"),
        (6, "0:01:30.000", "采访者", ER, "那双报到呢？"),
        (6, "0:01:35.000", "受访者", EE, "双报到是在职党员回社区。"),
        (7, "0:01:50.000", "受访者", EE, "那您觉得这个效果怎么样？"),
        (8, "0:02:00.000", "受访者", EE, "效果还可以。"),
    ]
    assert doc.warnings == ["2 glued turns split", "question labelled 受访者 at line 7"]


def test_bracketed_markdown_in_docx(make_docx, rows):
    path = make_docx([
        "**[00:00:07.540] 采访者：**",
        "业委会和物业的关系怎么处理？",
        "**[00:00:15.000] 受访者：**",
        "",
        "我们每个月开一次联席会。",
        "业委会、物业、网格党支部都参加。",
    ])
    doc = parse(read_source(path))
    assert doc.style == "bracketed"
    assert rows(doc) == [
        (1, "0:00:07.540", "采访者", ER, "业委会和物业的关系怎么处理？"),
        (3, "0:00:15.000", "受访者", EE, "我们每个月开一次联席会。业委会、物业、网格党支部都参加。"),
    ]


def test_timestamp_only(source, rows):
    doc = parse(source(
        """
        00:00
        您好，今天想了解一下业委会。
        00:31
        业委会是二〇二一年成立的，
        一共七个委员。
        1:02:03
        (ok) 就这些。
        """
    ))
    assert doc.style == "timestamp"
    assert rows(doc) == [
        (1, "0:00:00", None, None, "您好，今天想了解一下业委会。"),
        (3, "0:00:31", None, None, "业委会是二〇二一年成立的，一共七个委员。"),
        (6, "1:02:03", None, None, "(ok) 就这些。"),
    ]


MERGED = """
音频文件: 0308_社区访谈.mp3
处理时间: 2024-05-01 10:00
==============================
【访谈者】请您介绍一下互助站。
【受访者】互助站主要是党员志愿者在运营。
每周二、周四开放。【访谈者】志愿者怎么招募？
【受访者】主要靠双报到的在职党员。
"""


def test_merged(source, rows):
    doc = parse(source(MERGED))
    assert doc.style == "merged"
    assert doc.attributes == {"音频文件": "0308_社区访谈.mp3", "处理时间": "2024-05-01 10:00"}
    assert rows(doc) == [
        (4, None, "访谈者", ER, "请您介绍一下互助站。"),
        (5, None, "受访者", EE, "互助站主要是党员志愿者在运营。每周二、周四开放。"),
        (6, None, "访谈者", ER, "志愿者怎么招募？"),
        (7, None, "受访者", EE, "主要靠双报到的在职党员。"),
    ]
    assert doc.warnings == ["1 glued turn split"]


SRT = """
1
00:00:01,000 --> 00:00:04,200
说话人1：您好，今天想了解一下网格党支部。

2
00:00:04,500 --> 00:00:09,000
说话人 2：好的，我们社区有六个网格，
每个网格都建了党支部。

3
00:00:09,100 --> 00:00:12,000
说话人 2：书记由网格长兼任。

4
00:00:12,100 --> 00:00:13,000
<i>嗯。</i>
"""


def test_srt(source, rows):
    doc = parse(source(SRT, kind="srt"))
    assert doc.style == "srt"
    assert rows(doc) == [
        (2, "0:00:01.000", "说话人 1", None, "您好，今天想了解一下网格党支部。"),
        # consecutive cues of one speaker (or unlabelled cues after them) stay one turn
        (6, "0:00:04.500", "说话人 2", None, "好的，我们社区有六个网格，每个网格都建了党支部。书记由网格长兼任。嗯。"),
    ]


VTT = """
WEBVTT
Kind: captions
Language: zh-CN

NOTE 通义听悟导出
这一段是备注

1
00:01.000 --> 00:04.000
<v 采访者>您好，请介绍一下业委会。</v>

2
00:04.500 --> 00:09.000 align:start
<v 受访者>业委会是二〇二一年<00:05.000>成立的。

00:09.100 --> 00:10.000
受访者：一共七个委员。
"""


def test_vtt(source, rows):
    doc = parse(source(VTT, kind="vtt"))
    assert doc.style == "vtt"
    assert rows(doc) == [
        (9, "0:00:01.000", "采访者", ER, "您好，请介绍一下业委会。"),
        (13, "0:00:04.500", "受访者", EE, "业委会是二〇二一年成立的。一共七个委员。"),
    ]


def test_srt_content_in_a_txt_file(source):
    assert detect_style(source(SRT, kind="txt")) == "srt"


QA_HEADER_ONE_LINE = """
访谈主题：社区互助站运营 访谈时间：2022年7月21日 访谈地点：社区办公室 受访人：张书记 访谈人：李老师
问：您好，请介绍一下互助站的情况。
答：好的。我们互助站是2020年成立的。
他说：你们得多来几次。
问:那网格党支部呢？
答:网格党支部是去年建的。
"""


def test_qa_with_run_together_header(source, rows):
    doc = parse(source(QA_HEADER_ONE_LINE))
    assert doc.style == "qa"
    assert doc.attributes == {
        "访谈主题": "社区互助站运营",
        "访谈时间": "2022年7月21日",
        "date": "2022-07-21",
        "访谈地点": "社区办公室",
        "受访人": "张书记",
        "访谈人": "李老师",
    }
    assert rows(doc) == [
        (2, None, "问", ER, "您好，请介绍一下互助站的情况。"),
        (3, None, "答", EE, "好的。我们互助站是2020年成立的。他说：你们得多来几次。"),
        (5, None, "问", ER, "那网格党支部呢？"),
        (6, None, "答", EE, "网格党支部是去年建的。"),
    ]


QA_MIXED = """
XX社区书记访谈记录
（片段二）
访谈时间：二〇二二年七月二十一日
访谈地点：社区办公室
受访者：张书记
访谈者：您好，今天想聊聊业委会。
受访者：好的，业委会去年换届了。
王：那物业呢？
张:物业是新来的，
跟业委会关系还行。
社区党组织书记A：我们这边主要靠网格员。
"""


def test_qa_role_words_initials_and_codes(source, rows):
    doc = parse(source(QA_MIXED))
    assert doc.style == "qa"
    assert doc.attributes == {
        "标题": "XX社区书记访谈记录",
        "访谈时间": "二〇二二年七月二十一日",
        "date": "2022-07-21",
        "访谈地点": "社区办公室",
        "受访者": "张书记",
    }
    assert rows(doc) == [
        (6, None, "访谈者", ER, "您好，今天想聊聊业委会。"),
        (7, None, "受访者", EE, "好的，业委会去年换届了。"),
        (8, None, "王", None, "那物业呢？"),
        (9, None, "张", None, "物业是新来的，跟业委会关系还行。"),
        (11, None, "社区党组织书记A", None, "我们这边主要靠网格员。"),
    ]
    assert doc.warnings == ["part marker （片段二） at line 2 (one of several parts of an interview?)"]


def test_qa_header_in_docx_table(make_docx, rows):
    path = make_docx([
        [["访谈时间", "2022年7月21日"], ["访谈地点", "社区办公室"], ["受访人", "社区党组织书记A"]],
        "Q：双报到是怎么落实的？",
        "A：在职党员每年至少参加两次社区活动。",
    ])
    doc = parse(read_source(path))
    assert doc.style == "qa"
    assert doc.attributes == {
        "访谈时间": "2022年7月21日", "date": "2022-07-21", "访谈地点": "社区办公室", "受访人": "社区党组织书记A",
    }
    assert rows(doc) == [
        (4, None, "Q", ER, "双报到是怎么落实的？"),
        (5, None, "A", EE, "在职党员每年至少参加两次社区活动。"),
    ]


def test_quote(source, rows):
    doc = parse(source(
        """
        “我们搞双报到以后，在职党员回来得多了，互助站也有人手了。”（社区党组织书记A，访谈资料）

        这一观点在其他社区也得到印证。
        业委会换届的时候，居民参与度很高。（D社区居民B，20220721访谈）
        """
    ))
    assert doc.style == "quote"
    assert rows(doc) == [
        (1, None, "社区党组织书记A", EE, "我们搞双报到以后，在职党员回来得多了，互助站也有人手了。"),
        (3, None, None, None, "这一观点在其他社区也得到印证。"),
        (4, None, "D社区居民B", EE, "业委会换届的时候，居民参与度很高。"),
    ]


def test_plain(source, rows):
    doc = parse(source(
        """
        本研究选取C市S街道的三个社区作为案例。

        社区互助站的运营主要依靠党员志愿者，注：数据截至2022年。
        网格党支部覆盖全部楼栋。
        """
    ))
    assert doc.style == "plain"
    assert rows(doc) == [
        (1, None, None, None, "本研究选取C市S街道的三个社区作为案例。"),
        (3, None, None, None, "社区互助站的运营主要依靠党员志愿者，注：数据截至2022年。"),
        (4, None, None, None, "网格党支部覆盖全部楼栋。"),
    ]


def test_plain_with_metadata_header(source, rows):
    doc = parse(source("访谈时间：2022年7月 访谈地点：D社区\n我们社区有六个网格。"))
    assert doc.attributes == {"访谈时间": "2022年7月", "date": "2022-07", "访谈地点": "D社区"}
    assert rows(doc) == [(2, None, None, None, "我们社区有六个网格。")]


@pytest.mark.parametrize(
    ("text", "kind", "style"),
    [
        (FEISHU, "txt", "feishu"),
        (FEISHU_DAMAGED, "txt", "feishu"),
        (IFLYTEK, "txt", "iflytek"),
        (BRACKETED, "txt", "bracketed"),
        (MERGED, "txt", "merged"),
        (SRT, "srt", "srt"),
        (VTT, "vtt", "vtt"),
        (QA_HEADER_ONE_LINE, "txt", "qa"),
        (QA_MIXED, "md", "qa"),
    ],
)
def test_detect_style(source, text, kind, style):
    assert detect_style(source(text, kind=kind)) == style


def test_forced_style(source, rows):
    doc = parse(source("问：您好。\n答：好的。"), style="plain")
    assert doc.style == "plain"
    assert rows(doc) == [(1, None, None, None, "问：您好。"), (2, None, None, None, "答：好的。")]


def test_unknown_style(source):
    with pytest.raises(ValueError):
        parse(source("问：您好。"), style="wechat")


def test_styles_constant():
    assert STYLES == ("feishu", "iflytek", "bracketed", "timestamp", "merged", "qa", "srt", "vtt", "quote", "plain")


# --- nothing to import ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("\n  \n\u200b\n", "the file is blank"),
        ("2025年3月2日 下午 2:10|0分钟 3秒\n音频内容为空", "the transcript only says: 音频内容为空"),
        ("未识别到有效语音。", "the transcript only says: 未识别到有效语音。"),
        ("【该录音无有效内容】", "the transcript only says: 【该录音无有效内容】"),
        ("访谈时间：2022年7月21日\n关键词：互助站\n文字记录：\n说话人 1 00:00", "only header lines"),
    ],
)
def test_no_transcript_text(source, text, why):
    with pytest.raises(InputFileError) as err:
        parse(source(text, path="C市/空.txt"))
    assert str(err.value) == f"C市/空.txt: no transcript text after cleaning ({why})"
    assert err.value.hint


def test_blank_docx(make_docx):
    path = make_docx(["", "  "])
    with pytest.raises(InputFileError, match=r"no transcript text after cleaning \(the file is blank\)$"):
        parse(read_source(path))


def test_srt_without_blank_lines_between_cues(source, rows):
    doc = parse(source("1\n00:00:01,000 --> 00:00:04,200\n您好，今天想了解一下网格党支部。\n2\n00:00:04,500 --> 00:00:09,000\n好的。"))
    assert doc.style == "srt"
    assert rows(doc) == [
        (2, "0:00:01.000", None, None, "您好，今天想了解一下网格党支部。"),
        (5, "0:00:04.500", None, None, "好的。"),
    ]


def test_qa_explanatory_colons_are_speech(source, rows):
    doc = parse(source(
        """
        受访者：嗯
        访谈者：互助站有哪些服务？
        受访者：主要有三类。
        比如：助餐、助浴、陪诊。
        第一：助餐是每天中午。
        """
    ))
    assert rows(doc) == [
        (1, None, "受访者", EE, "嗯"),
        (2, None, "访谈者", ER, "互助站有哪些服务？"),
        (3, None, "受访者", EE, "主要有三类。比如：助餐、助浴、陪诊。第一：助餐是每天中午。"),
    ]


def test_plain_text_starting_with_a_date_is_speech(source, rows):
    doc = parse(source("2022年7月21日，我们来到D社区。\n社区书记介绍了互助站的情况。"))
    assert doc.attributes == {}
    assert rows(doc)[0] == (1, None, None, None, "2022年7月21日，我们来到D社区。")


def test_feishu_renamed_speakers_then_roles(source, rows):
    from qualcode.ingest.speakers import infer_roles

    doc = parse(source("小李 00:00\n您好，想了解一下业委会。\n老周 00:05\n业委会去年换届了。\n小李 00:09\n那物业呢？"))
    assert doc.style == "feishu"
    assert infer_roles(doc.turns) == [
        "小李 → interviewer (1 of 2 turns are questions, speaks first)",
        "老周 → interviewee (answers)",
    ]
    assert rows(doc) == [
        (1, "0:00:00", "小李", ER, "您好，想了解一下业委会。"),
        (3, "0:00:05", "老周", EE, "业委会去年换届了。"),
        (5, "0:00:09", "小李", ER, "那物业呢？"),
    ]


DOCX_TABLE_HEADER = """
N街道D社区访谈记录（整理稿）
访谈主题\t社区大党委与互助站
受访人\t社区党组织书记A（女，50岁，2016年起任社区书记）
整理\t访谈者乙，2023年2月24日根据录音整理
访谈者：书记您好，请讲讲组织架构。
受访者：好的，我们是2018年成立大党委的。
"""


def test_metadata_table_rows_above_the_dialogue_are_attributes(source, rows):
    doc = parse(source(DOCX_TABLE_HEADER))
    assert doc.attributes["受访人"] == "社区党组织书记A（女，50岁，2016年起任社区书记）"
    assert doc.attributes["整理"] == "访谈者乙，2023年2月24日根据录音整理"
    assert [t.speaker for t in doc.turns] == ["访谈者", "受访者"]


def _parsed(lines):
    from qualcode.ingest.model import RawSource

    return parse(RawSource("header.txt", "txt", lines, "utf-8"))


def test_header_with_a_parenthesis_and_a_list_of_interviewers_is_metadata():
    doc = _parsed([
        "受访人：河东街道办事处副主任（男，45岁，分管党建、社区治理）", "访谈人：W、Z",
        "访谈时间：2023年5月6日", "", "问：你好，说说您的工作吧？", "答：好的，我们社区老人多。",
    ])
    assert [t.speaker for t in doc.turns] == ["问", "答"]  # the header block is not a turn
    assert doc.attributes["受访人"] == "河东街道办事处副主任（男，45岁，分管党建、社区治理）"
    assert doc.attributes["访谈人"] == "W、Z"
    assert (doc.attributes["性别"], doc.attributes["年龄"], doc.attributes["date"]) == ("男", "45", "2023-05-06")


def test_traditional_header_keys_and_half_width_colons():
    doc = _parsed([
        "訪談時間：2023年5月6日", "受訪人:王主任（女，50歲）", "訪談地點：河東街道", "訪談人:W、Z", "",
        "問：你好？", "答：好的，我們社區。",
    ])
    assert [(t.speaker, t.role) for t in doc.turns] == [("問", "interviewer"), ("答", "interviewee")]
    assert doc.attributes["date"] == "2023-05-06"
    assert doc.attributes["访谈地点"] == "河東街道"  # the key is the simplified one, the value as written
    assert doc.attributes["受访人"] == "王主任（女，50歲）"
    assert doc.attributes["访谈人"] == "W、Z"


def test_a_long_role_line_is_still_speech():
    doc = _parsed(["受访人：我觉得吧，社区这几年变化很大，大家都说好。", "访谈人：那具体说说？"])
    assert [t.speaker for t in doc.turns] == ["受访人", "访谈人"]
