"""Hand-built .qdpx files in the style of each tool: lenient names, other offset units, odd layouts."""
from __future__ import annotations

from qualcode.exchange import import_qdpx
from qualcode.store import queries
from tests.exchange.helpers import make_zip, snapshot

NS = 'xmlns="urn:QDA-XML:project:1.0"'
BOM = "\ufeff"


def u16(text: str, sub: str, crlf_as_two: bool = True) -> tuple[int, int]:
    """(start, end) of ``sub`` in UTF-16 code units, as NVivo writes them."""
    if not crlf_as_two:
        text = text.replace("\r\n", "\n")
    i = text.index(sub)
    return len(text[:i].encode("utf-16-le")) // 2, len(text[: i + len(sub)].encode("utf-16-le")) // 2


def cp1(text: str, sub: str) -> tuple[int, int]:
    """(start, end) in code points with CRLF counted as one, as ATLAS.ti writes them."""
    flat = text.replace("\r\n", "\n")
    i = flat.index(sub)
    return i, i + len(sub)


def coded(project) -> set[tuple[str, str, str]]:
    return {(r["code"], r["text"], r["coder"]) for r in queries.codings(project.store)}


NVIVO_TEXT = "访谈者：您好😀，请介绍一下。\r\n受访者：我姓𠮷，是退休党员👍🏽。\r\n访谈者：互助站怎么运行？\r\n受访者：大家商量着办，有事找𠮷站长。"


def test_nvivo_utf16_offsets_bom_crlf_and_braced_upper_case_guids(project, tmp_path):
    a = u16(NVIVO_TEXT, "我姓𠮷，是退休党员👍🏽")
    b = u16(NVIVO_TEXT, "有事找𠮷站长")
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project {NS} name="NVivo 项目" origin="NVivo 12.6 (Windows)" creationDateTime="2021-05-17T10:00:00Z">
  <Users><User guid="{{A1B2C3D4-0000-4000-8000-00000000000A}}" name="Anna"/></Users>
  <CodeBook><Codes>
    <Code guid="{{B1000000-0000-4000-8000-000000000001}}" name="组织嵌入" isCodable="true" color="#375623">
      <Code guid="{{B1000000-0000-4000-8000-000000000002}}" name="离退休党员" isCodable="true"/>
    </Code>
    <Code guid="{{B1000000-0000-4000-8000-000000000003}}" name="Responsiveness" isCodable="true"/>
  </Codes></CodeBook>
  <Variables><Variable guid="C1000000-0000-4000-8000-000000000001" name="年龄" typeOfVariable="Integer"/></Variables>
  <Cases><Case guid="D1000000-0000-4000-8000-000000000001" name="N街道">
    <VariableValue><VariableRef targetGUID="c1000000-0000-4000-8000-000000000001"/><IntegerValue>67</IntegerValue></VariableValue>
    <SourceRef targetGUID="{{E1000000-0000-4000-8000-000000000001}}"/>
  </Case></Cases>
  <Sources>
    <TextSource guid="{{E1000000-0000-4000-8000-000000000001}}" name="访谈01" plainTextPath="internal://E1000000-0000-4000-8000-000000000001.txt">
      <PlainTextSelection guid="{{F1000000-0000-4000-8000-000000000001}}" startPosition="{a[0]}" endPosition="{a[1]}" creatingUser="{{A1B2C3D4-0000-4000-8000-00000000000A}}">
        <Coding guid="{{F2000000-0000-4000-8000-000000000001}}" creatingUser="{{A1B2C3D4-0000-4000-8000-00000000000A}}">
          <CodeRef targetGUID="{{B1000000-0000-4000-8000-000000000002}}"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="{{F1000000-0000-4000-8000-000000000002}}" startPosition="{b[0]}" endPosition="{b[1]}">
        <Coding guid="{{F2000000-0000-4000-8000-000000000002}}" creatingUser="{{A1B2C3D4-0000-4000-8000-00000000000A}}">
          <CodeRef targetGUID="{{B1000000-0000-4000-8000-000000000003}}"/></Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
</Project>"""
    qdpx = make_zip(tmp_path / "nvivo.qdpx", {
        "project.qde": qde,
        "Sources/E1000000-0000-4000-8000-000000000001.txt": (BOM + NVIVO_TEXT).encode("utf-8"),
    })
    report = import_qdpx(project, qdpx)
    assert "UTF-16" in report.units["访谈01"]
    cb = project.codebook()
    retirees = next(c.path for c in cb.codes if c.label_zh == "离退休党员")
    assert coded(project) == {(retirees, "我姓𠮷，是退休党员👍🏽", "Anna"), ("responsiveness", "有事找𠮷站长", "Anna")}
    doc = snapshot(project)["docs"]["访谈01"]
    assert doc["text"] == NVIVO_TEXT.replace("\r\n", "\n")  # no BOM, LF line ends
    assert doc["case"] == "N街道" and doc["attributes"] == {"年龄": "67"}
    assert len(doc["passages"]) == 4
    cb = project.codebook()
    assert [(c.label_zh, c.color) for c in cb.codes] == [("组织嵌入", "#375623"), ("离退休党员", None), ("Responsiveness", None)]
    assert all(c.id.isascii() for c in cb.codes) and cb.codes[1].parent == cb.codes[0].path


ATLAS_TEXT = "I: 你们怎么选站长？\r\nR: 大家推选的，他有威信。\r\nI: 遇到𠮷难怎么办？\r\nR: 开协商会。"


def test_atlasti_project_named_qde_crlf_as_one_and_selection_memos(project, tmp_path):
    a = cp1(ATLAS_TEXT, "大家推选的，他有威信。")
    b = cp1(ATLAS_TEXT, "开协商会。")
    qde = f"""<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<Project {NS} name="Trial" origin="ATLAS.ti 26.0.0">
  <Users><User guid="AAAAAAAA-1111-4111-8111-111111111111" name="Ben"/></Users>
  <CodeBook><Codes>
    <Code guid="BBBBBBBB-1111-4111-8111-111111111111" name="合法性" isCodable="true"><Description>居民认可带头人</Description></Code>
    <Code guid="BBBBBBBB-2222-4222-8222-222222222222" name="协商" isCodable="true"/>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="CCCCCCCC-1111-4111-8111-111111111111" name="Interview 1.docx" richTextPath="internal://CCCCCCCC-1111-4111-8111-111111111111.docx" plainTextPath="internal://CCCCCCCC-1111-4111-8111-111111111111.txt">
      <PlainTextSelection guid="DDDDDDDD-1111-4111-8111-111111111111" name="大家推选的，他有威信。" startPosition="{a[0]}" endPosition="{a[1]}" creatingUser="AAAAAAAA-1111-4111-8111-111111111111">
        <Description>典型说法</Description>
        <Coding guid="EEEEEEEE-1111-4111-8111-111111111111" creatingUser="AAAAAAAA-1111-4111-8111-111111111111"><CodeRef targetGUID="BBBBBBBB-1111-4111-8111-111111111111"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="DDDDDDDD-2222-4222-8222-222222222222" name="开协商会。" startPosition="{b[0]}" endPosition="{b[1]}" creatingUser="AAAAAAAA-1111-4111-8111-111111111111">
        <Coding guid="EEEEEEEE-2222-4222-8222-222222222222" creatingUser="AAAAAAAA-1111-4111-8111-111111111111"><CodeRef targetGUID="BBBBBBBB-2222-4222-8222-222222222222"/></Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
</Project>"""
    qdpx = make_zip(tmp_path / "Trial.qdpx", {
        "Trial.qde": qde,
        "sources/CCCCCCCC-1111-4111-8111-111111111111.txt": ATLAS_TEXT,
        "sources/CCCCCCCC-1111-4111-8111-111111111111.docx": b"PK\x03\x04 not read",
    })
    report = import_qdpx(project, qdpx)
    assert "CRLF counted as one" in report.units["Interview 1.docx"]
    assert {(text, coder) for _code, text, coder in coded(project)} == {("大家推选的，他有威信。", "Ben"), ("开协商会。", "Ben")}
    snap = snapshot(project)
    assert [m[0] + ":" + m[3] for m in snap["memos"]] == ["coding:典型说法"]
    assert snap["codes"][0][2:5] == ("合法性", None, "居民认可带头人")


def test_maxqda_relative_paths_case_variables_and_missing_optional_elements(project, tmp_path):
    text = "访谈者：最近小区有什么变化？\r\n受访者：业委会换届了。\r\n"
    s = text.index("业委会换届了")
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "访谈B.txt").write_text(text, encoding="utf-8", newline="")
    qde = f"""<?xml version="1.0" encoding="UTF-8"?>
<Project {NS} name="MAXQDA Projekt" origin="MAXQDA 2022 (Release 22.7.0)" basePath="C:\\Users\\x\\Documents">
  <CodeBook><Codes><Code guid="11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa" name="业委会" isCodable="true" color="#c00"/></Codes></CodeBook>
  <Variables>
    <Variable guid="22222222-aaaa-4aaa-8aaa-aaaaaaaaaaaa" name="访谈日期" typeOfVariable="Date"/>
    <Variable guid="33333333-aaaa-4aaa-8aaa-aaaaaaaaaaaa" name="在职" typeOfVariable="Boolean"/>
  </Variables>
  <Sources>
    <TextSource guid="44444444-aaaa-4aaa-8aaa-aaaaaaaaaaaa" name="访谈B" plainTextPath="relative:///texts/访谈B.txt">
      <PlainTextSelection guid="55555555-aaaa-4aaa-8aaa-aaaaaaaaaaaa" startPosition="{s}" endPosition="{s + 6}">
        <Coding guid="66666666-aaaa-4aaa-8aaa-aaaaaaaaaaaa"><CodeRef targetGUID="11111111-aaaa-4aaa-8aaa-aaaaaaaaaaaa"/></Coding>
      </PlainTextSelection>
      <VariableValue><VariableRef targetGUID="22222222-aaaa-4aaa-8aaa-aaaaaaaaaaaa"/><DateValue>2023-05-12</DateValue></VariableValue>
      <VariableValue><VariableRef targetGUID="33333333-aaaa-4aaa-8aaa-aaaaaaaaaaaa"/><BooleanValue>true</BooleanValue></VariableValue>
    </TextSource>
    <PictureSource guid="77777777-aaaa-4aaa-8aaa-aaaaaaaaaaaa" name="照片" path="internal://77777777-aaaa-4aaa-8aaa-aaaaaaaaaaaa.jpg"/>
  </Sources>
</Project>"""
    report = import_qdpx(project, make_zip(tmp_path / "maxqda.qdpx", {"project.qde": qde}))
    assert coded(project) == {(project.codebook().codes[0].path, "业委会换届了", "imported")}
    doc = snapshot(project)["docs"]["访谈B"]
    assert doc["attributes"] == {"访谈日期": "2023-05-12", "在职": "true"}
    assert project.codebook().codes[0].color == "#c00"
    assert any("picture" in w for w in report.warnings)


def test_qualcoder_inline_text_notes_whole_source_coding_and_folders(project, tmp_path):
    text = "问：您觉得社区怎么样？\n答：挺好的😀，邻里都认识。"
    s = text.index("邻里都认识")
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project {NS} name="qc" origin="QualCoder 3.4">
  <Users><User guid="9a9a9a9a-0000-4000-8000-000000000001" name="default"/></Users>
  <CodeBook><Codes>
    <Code guid="9b9b9b9b-0000-4000-8000-000000000001" name="情境" isCodable="false">
      <Code guid="9b9b9b9b-0000-4000-8000-000000000002" name="社会资本" isCodable="true" color="#008B8B">
        <Description>信任与互惠</Description><NoteRef targetGUID="9d9d9d9d-0000-4000-8000-000000000002"/>
      </Code>
    </Code>
    <Code guid="9b9b9b9b-0000-4000-8000-000000000003" name="整体印象" isCodable="true"/>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="9c9c9c9c-0000-4000-8000-000000000001" name="居民D">
      <PlainTextContent>{text}</PlainTextContent>
      <PlainTextSelection guid="9e9e9e9e-0000-4000-8000-000000000001" name="邻里都认识" startPosition="{s}" endPosition="{s + 5}" creatingUser="9a9a9a9a-0000-4000-8000-000000000001">
        <Coding guid="9f9f9f9f-0000-4000-8000-000000000001" creatingUser="9a9a9a9a-0000-4000-8000-000000000001"><CodeRef targetGUID="9b9b9b9b-0000-4000-8000-000000000002"/></Coding>
      </PlainTextSelection>
      <Coding guid="9f9f9f9f-0000-4000-8000-000000000002" creatingUser="9a9a9a9a-0000-4000-8000-000000000001"><CodeRef targetGUID="9b9b9b9b-0000-4000-8000-000000000003"/></Coding>
      <NoteRef targetGUID="9d9d9d9d-0000-4000-8000-000000000001"/>
    </TextSource>
  </Sources>
  <Notes>
    <Note guid="9d9d9d9d-0000-4000-8000-000000000001" name="doc memo" creatingUser="9a9a9a9a-0000-4000-8000-000000000001"><PlainTextContent>居民很乐观</PlainTextContent></Note>
    <Note guid="9d9d9d9d-0000-4000-8000-000000000002" name="code memo"><PlainTextContent>熟人社会</PlainTextContent></Note>
    <Note guid="9d9d9d9d-0000-4000-8000-000000000003" name="journal"><PlainTextContent>项目日志</PlainTextContent></Note>
  </Notes>
</Project>"""
    import_qdpx(project, make_zip(tmp_path / "qc.qdpx", {"project.qde": qde}))
    cb = project.codebook()
    social = next(c for c in cb.codes if c.label_zh == "社会资本")
    whole = next(c for c in cb.codes if c.label_zh == "整体印象")
    assert social.parent == cb.codes[0].path and social.definition == "信任与互惠"
    assert coded(project) == {(social.path, "邻里都认识", "default"), (whole.path, text, "default")}
    memos = {(kind, target, body) for kind, target, _coder, body in snapshot(project)["memos"]}
    assert memos == {("doc", "居民D", "居民很乐观"), ("code", social.path, "熟人社会"), ("project", "project", "项目日志")}


def test_unknown_tool_utf16_offsets_detected_from_selection_names(project, tmp_path):
    text = "😀😀😀 开场白。\n答：我们的站长姓𠮷，大家推选的。后面还有很多话，都是居民说的。"
    a = u16(text, "大家推选的")  # read as code points it would still fit, 4 characters off: names decide
    qde = f"""<Project {NS} name="x">
  <CodeBook><Codes><Code guid="12121212-0000-4000-8000-000000000001" name="legitimacy" isCodable="true"/></Codes></CodeBook>
  <Sources><TextSource guid="13131313-0000-4000-8000-000000000001" name="d" plainTextPath="internal://13131313-0000-4000-8000-000000000001.txt">
    <PlainTextSelection guid="14141414-0000-4000-8000-000000000001" name="大家推选的" startPosition="{a[0]}" endPosition="{a[1]}">
      <Coding guid="15151515-0000-4000-8000-000000000001"><CodeRef targetGUID="12121212-0000-4000-8000-000000000001"/></Coding>
    </PlainTextSelection>
    <PlainTextSelection guid="14141414-0000-4000-8000-000000000002" startPosition="900" endPosition="990">
      <Coding guid="15151515-0000-4000-8000-000000000002"><CodeRef targetGUID="12121212-0000-4000-8000-000000000001"/></Coding>
    </PlainTextSelection></TextSource></Sources>
</Project>"""
    report = import_qdpx(project, make_zip(tmp_path / "x.qdpx", {
        "project.qde": qde, "sources/13131313-0000-4000-8000-000000000001.txt": text}))
    assert coded(project) == {("legitimacy", "大家推选的", "imported")}
    assert report.warnings == ["source d: 1 selections lie outside the text (UTF-16 code units, CRLF counted as two); skipped"]
