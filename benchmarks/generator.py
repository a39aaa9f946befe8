"""Deterministic synthetic corpus for benchmarks: N interviews in the bundled corpus's styles.

The bundled corpus (``corpus/``, 20 synthetic interviews) is read through qualcode's own
readers and parsers to get speaker turns; each generated interview recombines questions
and answer sentences from those turns and perturbs them (numbers, fillers, street letters,
sentence order), then renders them in one of the transcript styles of
``docs/formats.md``: Feishu (txt, damaged txt, docx), iFlytek, bracketed
milliseconds (txt, Markdown-in-docx), timestamp-only, merged pipeline text, Q/A with a
run-together header, GB18030, Big5 traditional, UTF-8 BOM with role codes, surname
initials, docx with a metadata table, plain docx Q/A, SRT, WebVTT, published quotes.

Interview ``i`` depends only on (seed, i, chars): a smaller run is a prefix of a larger
one. Every file's bytes are distinct (the importer skips identical bytes by content hash).

Layout written under ``out``::

    manifest.csv                 file, case, role, date, interviewer, place (UTF-8 BOM)
    <case>/<file>                the interviews
    .generator/index.csv         file, style, encoding, turns, speech_chars, sha256
                                 (in a hidden folder, which 'qualcode import' does not walk)

Usage: python benchmarks/generator.py OUT [--interviews N] [--seed S] [--chars C]
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.util
import io
import json
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "corpus"
INTERVIEWER, INTERVIEWEE = "interviewer", "interviewee"

# (style id, extension, encoding as written, rough share of a real folder)
STYLES = (
    ("feishu_txt", ".txt", "utf-8", 3),
    ("feishu_damaged_txt", ".txt", "utf-8", 1),
    ("feishu_docx", ".docx", "docx", 2),
    ("iflytek", ".txt", "utf-8", 3),
    ("bracketed", ".txt", "utf-8", 2),
    ("bracketed_md_docx", ".docx", "docx", 1),
    ("timestamp_only", ".txt", "utf-8", 1),
    ("merged", ".txt", "utf-8", 1),
    ("qa_header", ".txt", "utf-8", 2),
    ("qa_gb18030", ".txt", "gb18030", 1),
    ("qa_big5", ".txt", "big5", 1),
    ("qa_rolecode_bom", ".txt", "utf-8-sig", 1),
    ("qa_initials", ".txt", "utf-8", 1),
    ("qa_table_docx", ".docx", "docx", 2),
    ("qa_docx", ".docx", "docx", 2),
    ("srt", ".srt", "utf-8", 1),
    ("vtt", ".vtt", "utf-8", 1),
    ("quote_md", ".md", "utf-8", 1),
)
STYLE_NAMES = tuple(s[0] for s in STYLES)
# qualcode's name for the style each generated file is written in (what 'docs list' shows).
EXPECTED_STYLE = {
    "feishu_txt": "feishu", "feishu_damaged_txt": "feishu", "feishu_docx": "feishu", "iflytek": "iflytek",
    "bracketed": "bracketed", "bracketed_md_docx": "bracketed", "timestamp_only": "timestamp", "merged": "merged",
    "qa_header": "qa", "qa_gb18030": "qa", "qa_big5": "qa", "qa_rolecode_bom": "qa", "qa_initials": "qa",
    "qa_table_docx": "qa", "qa_docx": "qa", "srt": "srt", "vtt": "vtt", "quote_md": "quote",
}

STREET_LETTERS = "ABCDEFGHJKLMNPQRSTWXYZ"
ROLES = ("社区党组织书记", "居委会主任", "网格员", "互助站站长", "业委会主任", "业委会委员", "楼组长", "居民",
         "在职党员", "志愿者", "物业项目经理", "街道办事处副主任", "能人", "志愿服务队队长")
ROLE_TITLE = {"社区党组织书记": "书记", "居委会主任": "主任", "街道办事处副主任": "主任", "业委会主任": "主任",
              "物业项目经理": "经理", "志愿服务队队长": "队长", "互助站站长": "站长"}
SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈"
            "曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段")
INTERVIEWERS = ("访谈者甲", "访谈者乙", "访谈者丙", "访谈者丁", "访谈者戊")
PLACES = ("社区办公室", "社区党群服务中心", "受访者家中", "小区凉亭", "街道办事处会议室", "互助站活动室",
          "物业服务中心", "邻里中心", "小区门口咖啡店", "社区活动室")
FILLERS = ("嗯，", "对，", "就是说，", "然后", "其实", "怎么说呢，", "这个，", "那个，", "你知道的，", "说实话，")
TAILS = ("", "", "", "", "吧。", "，你知道吧。", "，大概就是这样。", "……")
KEYWORDS = ("互助站", "网格党支部", "业委会", "物业费", "联席会", "双报到", "在职党员", "楼组长", "志愿者",
            "堡垒指数", "能人库", "议事会", "老旧小区改造", "停车", "疫情", "共建单位", "微心愿", "亮身份")
SECTION_TITLES = ("加入的契机", "日常的工作", "和社区的关系", "遇到的困难", "对以后的想法", "疫情期间", "邻里之间")


# -- the pool of turns from the bundled corpus ----------------------------------------------
@dataclass
class Pool:
    questions: list[str] = field(default_factory=list)
    answers: list[list[str]] = field(default_factory=list)  # each answer as its sentences
    chars: int = 0


def load_pool(corpus: Path = BUNDLED) -> Pool:
    """Speaker turns of the bundled corpus, read with qualcode's readers and parsers."""
    from qualcode.ingest.readers import read_source
    from qualcode.ingest.speakers import infer_roles, is_question
    from qualcode.ingest.styles import parse
    from qualcode.text.script import convert
    from qualcode.text.segment import split_sentences

    pool = Pool()
    with open(corpus / "manifest.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        parsed = parse(read_source(corpus / row["file"]))
        infer_roles(parsed.turns)
        for turn in parsed.turns:
            text = convert(turn.text.strip(), "simplified")  # the Big5 interview is traditional
            if not text:
                continue
            pool.chars += len(text)
            role = turn.role or (INTERVIEWER if is_question(text) and len(text) < 60 else INTERVIEWEE)
            if role == INTERVIEWER:
                pool.questions.append(text)
            else:
                sentences = [text[s:e].strip() for s, e in split_sentences(text)]
                sentences = [s for s in sentences if s]
                if sentences:
                    pool.answers.append(sentences)
    if not pool.questions or not pool.answers:
        raise RuntimeError(f"no turns found in {corpus}")
    return pool


# -- one interview ---------------------------------------------------------------------------
@dataclass
class Interview:
    index: int
    style: str
    case: str
    community: str
    estate: str
    role: str  # manifest role, e.g. 社区党组织书记A
    role_base: str
    date: tuple[int, int, int]
    interviewer: str
    place: str
    interviewer_surname: str
    surname: str
    turns: list[tuple[str, str]]  # (role, text)
    keywords: list[str]
    start_clock: tuple[int, int]


_DIGITS = re.compile(r"\d+")
_STREET = re.compile(r"[NSHL](?=街道)")
_COMMUNITY = re.compile(r"[DKQT](?=社区)")
_ESTATE = re.compile(r"[MPRW](?=小区)")


def _perturb_digits(rng: random.Random, text: str) -> str:
    def sub(m: re.Match) -> str:
        s = m.group()
        if rng.random() < 0.5:
            return s
        if len(s) == 4 and s[:2] in ("19", "20"):
            return str(rng.randint(2008, 2023))
        return str(rng.randint(10 ** (len(s) - 1) if len(s) > 1 else 1, 10 ** len(s) - 1))

    return _DIGITS.sub(sub, text)


def _perturb(rng: random.Random, sentence: str, iv: Interview) -> str:
    s = _perturb_digits(rng, sentence)
    s = _STREET.sub(iv.case[0], s)
    s = _COMMUNITY.sub(iv.community, s)
    s = _ESTATE.sub(iv.estate, s)
    if rng.random() < 0.15:
        s = rng.choice(FILLERS) + s
    if rng.random() < 0.05 and s.endswith("。"):
        s = s[:-1] + rng.choice(TAILS[4:])
    return s


def _answer(rng: random.Random, pool: Pool, iv: Interview) -> str:
    first = rng.choice(pool.answers)
    i = rng.randrange(len(first))
    parts = first[i:i + rng.randint(1, 6)]
    if rng.random() < 0.4:  # graft the middle of another answer
        other = rng.choice(pool.answers)
        j = rng.randrange(len(other))
        parts = parts + other[j:j + rng.randint(1, 3)]
    if len(parts) > 2 and rng.random() < 0.2:
        parts = parts[:1] + rng.sample(parts[1:], len(parts) - 1)
    return "".join(_perturb(rng, s, iv) for s in parts)


def style_for(seed: int, index: int) -> str:
    """The first interviews cover every style once (seeded order); the rest follow the weights."""
    order = list(STYLE_NAMES)
    random.Random(f"qualcode-benchmark-styles:{seed}").shuffle(order)
    if index < len(order):
        return order[index]
    return random.Random(f"qualcode-benchmark-style:{seed}:{index}").choices(
        STYLE_NAMES, weights=[s[3] for s in STYLES])[0]


def make_interview(pool: Pool, seed: int, index: int, chars: int = 6000, style: str | None = None) -> Interview:
    """Interview ``index`` of the corpus with ``seed``; about ``chars`` characters of speech."""
    rng = random.Random(f"qualcode-benchmark:{seed}:{index}")
    style = style or style_for(seed, index)
    letter = STREET_LETTERS[rng.randrange(len(STREET_LETTERS))]
    role_base = rng.choice(ROLES)
    surnames = rng.sample(SURNAMES, 2)
    iv = Interview(
        index=index, style=style, case=f"{letter}街道", community=rng.choice("ABCDEFGHJKMNPQRTWXY"),
        estate=rng.choice("ABCDEFGHJKMNPQRTWXY"), role=f"{role_base}{rng.choice('ABCDEF')}",
        role_base=role_base, date=(rng.randint(2019, 2024), rng.randint(1, 12), rng.randint(1, 28)),
        interviewer=rng.choice(INTERVIEWERS), place=rng.choice(PLACES), interviewer_surname=surnames[0],
        surname=surnames[1], turns=[], keywords=rng.sample(KEYWORDS, rng.randint(4, 8)),
        start_clock=(rng.randint(8, 17), rng.randint(0, 59)),
    )
    target = int(chars * rng.uniform(0.75, 1.25))
    total = 0
    while total < target:
        q = _perturb(rng, rng.choice(pool.questions), iv)
        a = _answer(rng, pool, iv)
        iv.turns += [(INTERVIEWER, q), (INTERVIEWEE, a)]
        total += len(q) + len(a)
    return iv


# -- rendering -------------------------------------------------------------------------------
def _mmss(seconds: float) -> str:
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def _hms_ms(seconds: float, sep: str = ".") -> str:
    ms = int(round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _clock(rng: random.Random, iv: Interview):
    """Start time of each turn in seconds (about four characters a second, with pauses)."""
    t = rng.uniform(0, 3)
    out = []
    for _, text in iv.turns:
        out.append(t)
        t += len(text) / rng.uniform(3.5, 5.0) + rng.uniform(0.5, 3)
    return out, t


def _label(iv: Interview, role: str, interviewer: str, interviewee: str) -> str:
    return interviewer if role == INTERVIEWER else interviewee


def _date_zh(iv: Interview) -> str:
    y, m, d = iv.date
    return f"{y}年{m}月{d}日"


def _title_person(iv: Interview) -> str:
    # 老师 would read as the interviewer (a title hint), so untitled roles become 主任
    return iv.surname + ROLE_TITLE.get(iv.role_base, "主任")


def _chunks(rng: random.Random, text: str) -> list[str]:
    """Subtitle cues: split after commas and stops, 8-40 characters each."""
    pieces = re.findall(r"[^，。！？；]*[，。！？；]|[^，。！？；]+$", text)
    cues, cur = [], ""
    for p in pieces:
        cur += p
        if len(cur) >= rng.randint(8, 40):
            cues.append(cur)
            cur = ""
    if cur:
        cues.append(cur)
    return cues or [text]


def render(iv: Interview) -> tuple[str, bytes, str]:
    """(file name, bytes, encoding written) of ``iv`` in its style."""
    rng = random.Random(f"qualcode-benchmark-render:{iv.index}:{iv.style}:{iv.date}")
    y, mo, d = iv.date
    hh, mi = iv.start_clock
    starts, duration = _clock(rng, iv)
    comm = f"{iv.community}社区"
    n = iv.index
    ext = dict((s[0], s[1]) for s in STYLES)[iv.style]
    name_patterns = (
        f"{iv.case}-{comm}-{iv.role}-{n:05d}",
        f"{y % 100:02d}{mo:02d}{d:02d}{iv.case}{comm}{iv.role}访谈{n:05d}",
        f"{iv.case}{comm}{iv.role}访谈记录{n:05d}",
        f"MVI_{10000 + n}",
    )
    stem = name_patterns[rng.randrange(len(name_patterns))]
    style = iv.style
    kw = "、".join(iv.keywords)
    lines: list[str] = []
    encoding = "utf-8"
    newline = "\n"

    if style in ("feishu_txt", "feishu_damaged_txt", "feishu_docx"):
        if style == "feishu_txt" and rng.random() < 0.5:
            stem += "（飞书妙记）"
        noon = "上午" if hh < 12 else "下午"
        dur = f"{int(duration // 60)}分钟 {int(duration % 60)}秒"
        damaged = style == "feishu_damaged_txt"
        if style == "feishu_docx":
            lines.append(f"@@heading {comm}{iv.role_base}访谈")
        lines.append(f"{_date_zh(iv)} {noon} {hh if hh <= 12 else hh - 12}:{mi:02d}{' ' if damaged else '|'}{dur}")
        lines += ["关键词" if damaged else "关键词:", kw]
        if style == "feishu_txt":
            lines.append("")
        lines.append("文字记录:")
        if style == "feishu_txt":
            lines.append("")
        renamed = _title_person(iv)
        answers = 0
        for (role, text), t in zip(iv.turns, starts):
            label = "说话人 1" if role == INTERVIEWER else "说话人 2"
            if damaged and role == INTERVIEWEE:
                answers += 1
                if answers > 1:
                    label = renamed
            stamp = f"{label} {_mmss(t)}"
            if damaged and role == INTERVIEWEE and rng.random() < 0.1:
                lines.append(stamp + text)  # speech glued to its label
            else:
                lines += [stamp + " ", text]
            if style == "feishu_txt":
                lines.append("")
    elif style == "iflytek":
        a, b = rng.choice([(1, 2), (3, 4), (2, 5), (1, 3)])
        lines += [f"{mo}月{d}日 {hh:02d}:{mi:02d} 录音", ""]
        blank = rng.random() < 0.5
        for (role, text), t in zip(iv.turns, starts):
            lines.append(f"说话人{a if role == INTERVIEWER else b} {_mmss(t)}{text}")
            if blank:
                lines.append("")
    elif style in ("bracketed", "bracketed_md_docx"):
        md = style == "bracketed_md_docx"
        if md:
            lines += [f"**{iv.case}{comm}{iv.role_base}访谈（转写稿，已人工校对）**", ""]
        else:
            lines += [f"关键词：{kw}", ""]
        for (role, text), t in zip(iv.turns, starts):
            label = _label(iv, role, "采访者", "受访者")
            if md:
                lines += [f"**[{_hms_ms(t)}] {label}：**", text]
            else:
                lines.append(f"[{_hms_ms(t)}] {label}：{text}")
    elif style == "timestamp_only":
        for (_, text), t in zip(iv.turns, starts):
            lines += [_mmss(t), text, ""]
    elif style == "merged":
        lines += [f"音频文件: {stem}-{y}{mo:02d}{d:02d}.m4a", f"处理时间: {y}-{mo:02d}-{d:02d} {hh:02d}:{mi:02d}",
                  "=====", ""]
        for role, text in iv.turns:
            lines += [f"【{_label(iv, role, '访谈者', '受访者')}】{text}", ""]
    elif style in ("qa_header", "qa_docx"):
        if style == "qa_header":
            lines += [f"访谈主题：{iv.case}{comm}党建与社区治理情况 访谈时间：{_date_zh(iv)} 访谈地点：{iv.place} "
                      f"受访人：{_title_person(iv)}（{iv.role_base}） 访谈人：{iv.interviewer}", ""]
        else:
            lines += [f"{iv.case}{comm}{iv.role_base}访谈", f"{_date_zh(iv)}  {iv.place}", ""]
        lines += [f"{_label(iv, role, '问', '答')}：{text}" for role, text in iv.turns]
    elif style in ("qa_gb18030", "qa_big5"):
        newline = "\r\n"
        encoding = "gb18030" if style == "qa_gb18030" else "big5"
        header = [f"{iv.case}{comm}{iv.estate}小区{iv.role_base}访谈", f"时间：{_date_zh(iv)}下午", f"地点：{iv.place}"]
        labels = ("访谈者", "受访者")
        if encoding == "big5":  # turns are already traditional (see _to_big5)
            from qualcode.text.script import convert

            header = ["".join(ch for ch in convert(h, "traditional") if _big5_ok(ch)) for h in header]
            labels = ("訪談者", "受訪者")
        lines += header + [""]
        lines += [f"{_label(iv, role, *labels)}：{text}" for role, text in iv.turns]
    elif style == "qa_rolecode_bom":
        newline = "\r\n"
        encoding = "utf-8-sig"
        lines += [f"{iv.case}{comm}访谈（{iv.role_base}）", f"时间：{_date_zh(iv)}下午  地点：{iv.place}", ""]
        lines += [f"{_label(iv, role, '访谈者', iv.role)}：{text}" for role, text in iv.turns]
    elif style == "qa_initials":
        lines += [f"{y}.{mo}.{d} {comm} {_title_person(iv)}（录音整理，略有删节）", ""]
        for role, text in iv.turns:
            who = iv.interviewer_surname if role == INTERVIEWER else iv.surname
            lines.append(f"{who}:{' ' if rng.random() < 0.3 else ''}{text}")
    elif style == "qa_table_docx":
        lines += [f"{iv.case}{comm}访谈记录（整理稿）", "@@table", f"访谈主题\t{iv.role_base}与社区治理",
                  f"访谈时间\t{_date_zh(iv)} 上午{hh}:{mi:02d}", f"访谈地点\t{comm}{iv.place}",
                  f"受访人\t{iv.role}", f"访谈人\t{iv.interviewer}", "@@endtable", ""]
        lines += [f"{_label(iv, role, '访谈者', '受访者')}：{text}" for role, text in iv.turns]
    elif style in ("srt", "vtt"):
        cue_no = 0
        if style == "vtt":
            lines += ["WEBVTT", ""]
        for (role, text), t in zip(iv.turns, starts):
            for chunk in _chunks(rng, text):
                cue_no += 1
                t_end = t + len(chunk) / 4.5
                if style == "srt":
                    lines += [str(cue_no), f"{_hms_ms(t, ',')} --> {_hms_ms(t_end, ',')}",
                              f"{_label(iv, role, '说话人1', '说话人2')}：{chunk}", ""]
                else:
                    lines += [f"{_hms_ms(t)} --> {_hms_ms(t_end)}",
                              f"<v {_label(iv, role, '访谈者', '受访者')}>{chunk}", ""]
                t = t_end + 0.05
    elif style == "quote_md":
        lines += [f"# {iv.case}{comm}访谈摘录：{iv.role}", "",
                  f"> 整理说明：以下为{_date_zh(iv)}在{iv.place}对{iv.role}的访谈摘录，按主题归类，引文保留口语。"
                  f"（整理人：{iv.interviewer}）", ""]
        answers = [text for role, text in iv.turns if role == INTERVIEWEE]
        per = max(1, len(answers) // 4)
        for k in range(0, len(answers), per):
            lines += [f"## {'一二三四五六七八九十'[min(k // per, 9)]}、{rng.choice(SECTION_TITLES)}", ""]
            for text in answers[k:k + per]:
                lines += [f"“{text}”（{iv.role}，访谈资料）", ""]
    else:
        raise ValueError(f"unknown style {style}")

    file_name = stem + ext
    if ext == ".docx":
        return file_name, _docx_bytes("\n".join(lines) + "\n"), "docx"
    text = newline.join(lines) + newline
    if encoding == "big5":
        return file_name, text.encode("big5"), "big5"
    return file_name, text.encode(encoding), encoding


_BUILD_DOCX = None


def _docx_bytes(src_text: str) -> bytes:
    """The bundled corpus's own .docx builder (deterministic zip timestamps)."""
    global _BUILD_DOCX
    if _BUILD_DOCX is None:
        spec = importlib.util.spec_from_file_location("_qualcode_build_docx", BUNDLED / "build_docx.py")
        _BUILD_DOCX = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_BUILD_DOCX)
    return _BUILD_DOCX._deterministic_bytes(_BUILD_DOCX.build_document(src_text))


def _to_big5(iv: Interview) -> None:
    """Traditional script, keeping only sentences Big5 can encode (it lacks many characters)."""
    from qualcode.text.script import convert
    from qualcode.text.segment import split_sentences

    turns = []
    for role, text in iv.turns:
        trad = convert(text, "traditional")
        keep = "".join(s for s in (trad[a:b] for a, b in split_sentences(trad)) if _big5_ok(s))
        if keep:
            turns.append((role, keep))
    iv.turns = turns


def _big5_ok(s: str) -> bool:
    try:
        s.encode("big5")
        return True
    except UnicodeEncodeError:
        return False


# -- the corpus ------------------------------------------------------------------------------
MANIFEST_COLUMNS = ("file", "case", "role", "date", "interviewer", "place")
INDEX_COLUMNS = ("file", "style", "encoding", "turns", "speech_chars", "sha256")


def generate(out: Path, interviews: int = 1000, seed: int = 1, chars: int = 6000,
             styles: tuple[str, ...] | None = None, pool: Pool | None = None) -> list[dict]:
    """Write ``interviews`` interviews, ``manifest.csv`` and ``.generator/index.csv`` under ``out``.

    ``styles`` restricts the styles used (round-robin); by default the first interviews
    cover every style once and the rest follow the STYLES weights. Returns the index rows.
    """
    out = Path(out)
    pool = pool or load_pool()
    seen: set[str] = set()
    manifest, index = [], []
    for i in range(interviews):
        style = styles[i % len(styles)] if styles else style_for(seed, i)
        for attempt in range(10):
            iv = make_interview(pool, seed if attempt == 0 else seed * 1000 + attempt, i, chars, style)
            if iv.style == "qa_big5":
                _to_big5(iv)
            elif iv.style == "quote_md":  # published quotes: the answers only
                iv.turns = [t for t in iv.turns if t[0] == INTERVIEWEE]
            name, data, encoding = render(iv)
            digest = hashlib.sha256(data).hexdigest()
            if digest not in seen:
                break
        else:  # pragma: no cover - would need ten identical random interviews in a row
            raise RuntimeError(f"could not make interview {i} distinct")
        seen.add(digest)
        rel = f"{iv.case}/{name}"
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        y, m, d = iv.date
        manifest.append({"file": rel, "case": iv.case, "role": iv.role, "date": f"{y}-{m:02d}-{d:02d}",
                         "interviewer": iv.interviewer, "place": iv.place})
        index.append({"file": rel, "style": iv.style, "encoding": encoding, "turns": len(iv.turns),
                      "speech_chars": sum(len(t) for _, t in iv.turns), "sha256": digest})
    _write_csv(out / "manifest.csv", MANIFEST_COLUMNS, manifest, bom=True)
    _write_csv(out / ".generator" / "index.csv", INDEX_COLUMNS, index)
    (out / ".generator" / "params.json").write_text(
        json.dumps({"interviews": interviews, "seed": seed, "chars": chars, "styles": list(styles or ())}), encoding="utf-8")
    return index


def _write_csv(path: Path, columns, rows, bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8-sig" if bom else "utf-8")


def read_index(out: Path) -> list[dict]:
    with open(Path(out) / ".generator" / "index.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--interviews", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chars", type=int, default=6000, help="mean characters of speech per interview")
    args = ap.parse_args(argv)
    index = generate(args.out, args.interviews, args.seed, args.chars)
    total = sum(int(r["speech_chars"]) for r in index)
    by_style: dict[str, int] = {}
    for r in index:
        by_style[r["style"]] = by_style.get(r["style"], 0) + 1
    print(f"{len(index)} interviews, {total:,} characters of speech in {args.out}")
    print(", ".join(f"{k} {v}" for k, v in sorted(by_style.items())))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
