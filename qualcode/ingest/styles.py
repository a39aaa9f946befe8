"""Transcript styles: detect which one a file uses and parse it into speaker turns.

Six styles are "label" styles (a marker at the start of a line opens a turn; unlabelled
lines continue it); they share one engine and differ only in how a marker is found, see
``_MARKER_FINDERS``. Subtitles (srt/vtt), published quotes and plain text have their own
small parsers. Header lines (metadata fields, dates, keywords, part markers) are handled
the same way for every style.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from qualcode.errors import InputFileError
from qualcode.ingest.model import INTERVIEWEE, INTERVIEWER, ParsedDocument, RawSource, Turn
from qualcode.ingest.normalize import is_cjk, iso_date
from qualcode.ingest.speakers import INTERVIEWEE_HINTS, INTERVIEWER_HINTS, is_question, label_role
from qualcode.text.script import fold

STYLES = ("feishu", "iflytek", "bracketed", "timestamp", "merged", "qa", "srt", "vtt", "quote", "plain")

_TS = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?![\d:.,])"  # Feishu/iFlytek: no fractions
_NAME_CHARS = r"[^\s\d：:，。！？、,.!?；;“”\"'\[\]【】()（）<>《》|｜]"
_NUMBERED = re.compile(r"^(说话人|发言人)\s*(\d+)$")
_NUMBERED_AT = r"(?:说话人|发言人)\s*\d+"

# --- shared helpers ------------------------------------------------------------------


@lru_cache(maxsize=16384)  # once per turn; clock times repeat across a folder's files
def _norm_ts(ts: str) -> str:
    """'00:41' -> '0:00:41', '00:00:41.52' -> '0:00:41.520', SRT commas to dots."""
    main, _, frac = ts.replace(",", ".").partition(".")
    parts = [int(p) for p in main.split(":")]
    if len(parts) == 2:
        minutes, seconds = parts
        hours, minutes = divmod(minutes, 60)
    else:
        hours, minutes, seconds = parts
    out = f"{hours}:{minutes:02d}:{seconds:02d}"
    return out + "." + frac.ljust(3, "0")[:3] if frac else out


@lru_cache(maxsize=4096)  # once per turn; a transcript has a few labels
def _norm_speaker(label: str) -> str:
    label = label.strip().strip("*").strip()
    m = _NUMBERED.match(label)
    return f"{m.group(1)} {int(m.group(2))}" if m else label


def _cjk_like(ch: str) -> bool:
    return is_cjk(ch) or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef" or ch in "“”‘’…—"


def _join(a: str, b: str) -> str:
    """Continuation lines: no separator between Chinese text, a space otherwise."""
    if not a or not b:
        return a or b
    return a + b if _cjk_like(a[-1]) and _cjk_like(b[0]) else f"{a} {b}"


_MD = re.compile(r"^\s*(?:#{1,6}\s+|>\s?)|\*\*|__")


def _prep(line: str) -> str:
    """Drop Markdown emphasis/heading marks (transcripts pasted from chat tools) and trim."""
    if "#" in line or ">" in line or "**" in line or "__" in line:  # else _MD finds nothing
        line = _MD.sub("", line)
    return line.strip()


# Regexes are compiled here, once: parsing calls these helpers for every line of every file.
_NAME = re.compile(rf"{_NAME_CHARS}+(?:[（(][^）)]{{1,10}}[）)])?")
_TITLE_WORDS = INTERVIEWEE_HINTS + INTERVIEWER_HINTS
_NOT_IN_NAMES = set("我你他她它们您咱说讲道想觉得是的了在就都也还这那么什有没很")
# Words that open explanatory lines ("比如：…") and would otherwise pass as short names.
_NOT_NAMES = frozenset(
    "比如 例如 譬如 注 说明 第一 第二 第三 第四 首先 其次 再次 最后 一 二 三 四 五 总之 另外 问题 原因 "
    "结果 目的 要求 标语 口号 通知 内容 地址 电话 微信 网址 补充 背景 结论 答复 回复 提示 附".split()
)


def _looks_like_name(name: str, counts: dict[str, int] | None = None) -> bool:
    """Could ``name`` (text before a colon or timestamp) be a speaker label?"""
    verdict = _name_verdict(name)
    return verdict if verdict is not None else (counts is not None and counts.get(name, 0) >= 2)


@lru_cache(maxsize=4096)  # asked for the label on nearly every line; labels repeat
def _name_verdict(name: str) -> bool | None:
    """``_looks_like_name`` as far as the name alone decides it; None when a name that opens
    two or more lines is a label and one that does not is not."""
    if not name or len(name) > 12 or name[0].isdigit():
        return False
    if label_role(name) or _NUMBERED.match(name):
        return True
    if name in _HEADER_KEYS or not _NAME.fullmatch(name):
        return False
    if any(ch in _NOT_IN_NAMES for ch in name) or name in _NOT_NAMES:
        return False
    if any(word in name for word in _TITLE_WORDS) or len(name) <= 3:
        return True
    return None


# --- headers -------------------------------------------------------------------------

# Strong keys are metadata wherever they appear; weak ones only before the dialogue;
# role keys double as speaker labels, so they count only with a short value up top.
_STRONG_KEYS = (
    "访谈主题", "访谈时间", "访谈日期", "访谈地点", "访谈对象", "访谈方式", "访谈形式", "访谈时长",
    "访谈编号", "受访对象", "录音时长", "录音时间", "音频文件", "处理时间", "文字记录", "关键词",
    "转录人", "整理人", "记录人", "调研时间", "调研地点",
)
_WEAK_KEYS = (
    "主题", "时间", "日期", "地点", "单位", "职务", "性别", "年龄", "编号", "备注", "标题", "时长",
    "参与人", "在场人员", "文件名", "访谈人员",
)
_ROLE_KEYS = ("受访人", "访谈人", "受访者", "访谈者", "被访者", "被访人", "采访者", "采访人", "访问人", "访谈员")
_HEADER_KEYS = frozenset(_STRONG_KEYS + _WEAK_KEYS + _ROLE_KEYS)
# Every key (and _BARE_KEY) is two characters or more: a line that starts with none of
# these pairs and has no tab is not a header, which spares most lines three regex tries.
_KEY_STARTS = frozenset(key[:2] for key in _HEADER_KEYS)
_KEY_ALT = "|".join(sorted(_HEADER_KEYS, key=len, reverse=True))
_FIELD = re.compile(rf"(?:^|(?<=[\s，,;；|｜]))({_KEY_ALT})\s*[：:\t]\s*")
_TABLE_FIELD = re.compile(r"^([^\t：:]{1,8})\t([^\t]+)$")
_BARE_KEY = re.compile(r"^(关键词|文字记录)(?:\s+(.+))?$")  # Feishu headers that lost their colon
_DATE_START = re.compile(r"^(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*日|^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_DURATION = re.compile(r"\d+\s*(?:小时|分钟|分|秒)(?:\s*\d+\s*(?:分钟|分|秒))*")
_PART = re.compile(r"^[（(【\[]?\s*(?:片段|第)[一二三四五六七八九十\d]+(?:段|部分)?\s*[）)】\]]?$|"
                   r"^[（(【\[]?\s*(?:主机位|个人机位|机位\s*\d*)\s*[）)】\]]?$")
_RULE = re.compile(r"^[=＝\-—_*~·]{3,}$")
_EMPTY_AUDIO = re.compile(
    r"^[（(【\[]?\s*(?:该|本)?(?:音频|录音|语音|文件)?(?:内容)?\s*"
    r"(?:为空|无有效(?:内容|语音)|未识别到(?:有效)?(?:语音|内容|文字)|没有识别到(?:有效)?(?:语音|内容)|"
    r"无识别结果|识别结果为空|未检测到(?:有效)?语音)\s*[）)】\]]?[。.!！]?$"
)
# Characters that can open a match of _RULE and _PART (after _PART's optional bracket and
# spaces), and words every _EMPTY_AUDIO match contains: cheap tests before the regexes.
_RULE_FIRST = frozenset("=＝-—_*~·")
_PART_FIRST = frozenset("（(【[片第主个机")


def _may_be_empty_notice(line: str) -> bool:
    return "识别" in line or "为空" in line or "无有效" in line or "检测到" in line


_SENTENCE_END = "。！？!?…"
_INTERJECTIONS = "嗯啊哦呃吧呢吗好对是"


_PARENTHESISED = re.compile(r"\s*[（(]([^（()）]*)[）)]")


def _header_fields(line: str, before_dialogue: bool) -> list[tuple[str, str]] | None:
    """Metadata fields on ``line`` (several may run together), or None if it is not a header.

    Keys are matched on the script-folded line (訪談時間 is 访谈时间; ``fold`` keeps every
    offset), so a field's key is the simplified one and its value is the text as written.
    """
    folded = fold(line[:2])
    if folded not in _KEY_STARTS and "\t" not in line:
        return None
    folded = fold(line)
    cell = _TABLE_FIELD.match(line) if before_dialogue and "\t" in line else None
    if cell:
        # a two-cell table row above the dialogue (docx metadata table): field, value
        key = folded[: cell.end(1)]
        return [(key if key in _HEADER_KEYS else cell.group(1), cell.group(2).strip())]
    # Only a field at the start of the line makes it a header; most lines are speech, and
    # the anchored match spares them a scan of the whole line for every key.
    # A further field needs a colon or tab after the first (fold never makes one).
    first = _FIELD.match(folded)
    if first is None:
        hits = []
    elif any(folded.find(sep, first.end()) >= 0 for sep in "：:\t"):
        hits = list(_FIELD.finditer(folded))
    else:
        hits = [first]
    if not hits or hits[0].start() != 0:
        bare = _BARE_KEY.match(folded)
        return [(bare.group(1), line[bare.start(2):].strip() if bare.group(2) else "")] if bare else None
    fields = []
    for hit, nxt in zip(hits, hits[1:] + [None]):
        value = line[hit.end(): nxt.start() if nxt else len(line)].strip(" \t，,;；|｜")
        fields.append((hit.group(1), value))
    key, value = fields[0]
    if len(fields) > 1 and any(k not in _ROLE_KEYS for k, _ in fields):
        return fields
    if key in _STRONG_KEYS:
        return fields
    if not before_dialogue:
        return None
    if key in _WEAK_KEYS:
        return fields
    # 受访者：… is usually speech; as a header its value is a short name, no sentence (a
    # parenthesis may describe the person: 副主任（男，45岁，分管党建、社区治理）).
    core = _PARENTHESISED.sub("", value)
    if core and len(core) <= 20 and not any(ch in core for ch in _SENTENCE_END + "，," + _INTERJECTIONS):
        return fields
    return None


_DATE_SEPARATORS = re.compile(r"\s*(?:录音|[|｜])\s*")


def _date_header(line: str) -> dict[str, str] | None:
    """Feishu '2025年3月2日 下午 2:10|48分钟 12秒' or iFlytek '3月8日 09:41 录音'."""
    start = _DATE_START.match(line)
    if len(line) > 50 or not start or any(ch in line for ch in "，。！？,!?；;"):
        return None
    attrs = {}
    duration = _DURATION.search(line[start.end():])
    rest = line
    if duration:
        attrs["时长"] = duration.group(0)
        rest = line.replace(duration.group(0), "")
    rest = _DATE_SEPARATORS.sub(" ", rest).strip()
    attrs["日期"] = rest
    return attrs


@dataclass
class _Header:
    """Collects document attributes and remembers a key whose value is on the next line."""

    attributes: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    pending: str | None = None
    empty_notice: str | None = None

    def add(self, key: str, value: str) -> None:
        if not value:
            return
        if key in self.attributes and self.attributes[key] != value:
            self.attributes[key] = f"{self.attributes[key]} / {value}"
        else:
            self.attributes[key] = value
        if key in _ROLE_KEYS:
            self._describe(value)
        if "date" not in self.attributes and (key in ("日期", "时间", "访谈时间", "访谈日期", "录音时间", "调研时间")):
            date = iso_date(value)
            if date:
                self.attributes["date"] = date

    def _describe(self, value: str) -> None:
        """性别 and 年龄 from a person's parenthesis (男，45岁，…), unless the header states them."""
        for inner in _PARENTHESISED.findall(value):
            for part in re.split(r"[，,、；;\s]+", inner.strip()):
                if part in ("男", "女", "男性", "女性"):
                    self.attributes.setdefault("性别", part[0])
                elif re.fullmatch(r"\d{1,3}\s*[岁歲]", part):
                    self.attributes.setdefault("年龄", part[:-1].strip())

    def take(self, line: str, lineno: int, before_dialogue: bool, is_marker: bool) -> bool:
        """Consume ``line`` if it is header material; True when consumed."""
        if self.pending and not is_marker:
            self.add(self.pending, line)
            self.pending = None
            return True
        self.pending = None
        # Each regex is tried only where it can match (a word it requires, its first
        # character): most lines are speech and pass none of these cheap tests.
        first = line[0]
        if _may_be_empty_notice(line) and _EMPTY_AUDIO.match(line):
            self.empty_notice = self.empty_notice or line
            return True
        if first in _RULE_FIRST and _RULE.match(line):
            return True
        if (first in _PART_FIRST or first.isspace()) and _PART.match(line):
            self.warnings.append(f"part marker {line} at line {lineno} (one of several parts of an interview?)")
            return True
        fields = _header_fields(line, before_dialogue)
        if fields is not None:
            for key, value in fields:
                if key == "关键词" and not value:
                    self.pending = key
                self.add(key, value)
            return True
        if before_dialogue and not is_marker:
            date = _date_header(line)
            if date:
                for key, value in date.items():
                    self.add(key, value)
                return True
        return False


# --- label styles --------------------------------------------------------------------


class _Marker(NamedTuple):
    start: int
    end: int
    speaker: str | None
    timestamp: str | None


@dataclass
class _Context:
    names: set[str]  # speaker names seen on a line of their own (Feishu renamed speakers)
    counts: dict[str, int]  # how often each "name：" opens a line
    glued: re.Pattern[str] | None = None  # _feishu_markers' regex for these names, built once
    # _qa_markers by line: detection tries every line, and a qa transcript is parsed with them
    qa: dict[str, list[_Marker]] = field(default_factory=dict)


_LABEL = re.compile(rf"\s*({_NUMBERED_AT}|[^：:\s]{{1,15}}?(?:[（(][^）)]{{1,10}}[）)])?)\s*[：:]\s*")
_GLUED_ROLE = re.compile(
    rf"\s*((?:采访者|访谈者|访问者|受访者|被访者|主持人|{_NUMBERED_AT})(?:[（(][^）)]{{1,10}}[）)])?)\s*[：:]?\s*"
)
_COLON_END = re.compile(r"[：:]\s*$")


def _split_label(rest: str, ctx: _Context) -> tuple[str | None, int]:
    """Speaker label at the start of ``rest``: (label, length consumed incl. colon)."""
    m = _LABEL.match(rest)
    if m and _looks_like_name(m.group(1), ctx.counts):
        return m.group(1), m.end()
    # A role word glued to the speech without a colon: 受访者大家好
    m = _GLUED_ROLE.match(rest)
    if m:
        return m.group(1), m.end()
    return None, 0


_NAME_CHAR = re.compile(_NAME_CHARS)
_NAME_CLOCK = re.compile(rf"({_NAME_CHARS}{{1,12}})[ \t]+({_CLOCK})")


def _feishu_markers(line: str, ctx: _Context) -> list[_Marker]:
    if ":" not in line:  # both patterns need a clock
        return []
    if ctx.glued is None:
        known = "|".join(map(re.escape, sorted(ctx.names, key=len, reverse=True)))
        ctx.glued = re.compile(rf"({_NUMBERED_AT}{'|' + known if known else ''})[ \t]*({_CLOCK})")
    found = []
    for m in ctx.glued.finditer(line):
        if m.start() == 0 or not _NAME_CHAR.match(line[m.start() - 1]) or _NUMBERED.match(m.group(1)):
            found.append(_Marker(m.start(), m.end(), m.group(1), m.group(2)))
    if found and found[0].start == 0:
        return found
    # A renamed speaker not seen on a line of its own: accept it at the start of a line.
    named = _NAME_CLOCK.match(line)
    if named and _looks_like_name(named.group(1)) and (
            named.end() == len(line) or any(w in named.group(1) for w in _TITLE_WORDS)):
        return [_Marker(0, named.end(), named.group(1), named.group(2))] + found
    return found


_BRACKET_TS = re.compile(rf"\[({_TS})\]")


def _bracketed_markers(line: str, ctx: _Context) -> list[_Marker]:
    found: list[_Marker] = []
    if "[" not in line:
        return found
    for m in _BRACKET_TS.finditer(line):
        speaker, used = _split_label(line[m.end():], ctx)
        found.append(_Marker(m.start(), m.end() + used, speaker, m.group(1)))
    return found


_TS_ALONE = re.compile(rf"^[\[(（]?({_TS})[\])）]?$")


def _timestamp_markers(line: str, ctx: _Context) -> list[_Marker]:
    m = _TS_ALONE.match(line)
    return [_Marker(0, len(line), None, m.group(1))] if m else []


_BRACKET_LABEL = re.compile(r"【([^】]{1,12})】\s*[：:]?")


def _merged_markers(line: str, ctx: _Context) -> list[_Marker]:
    found: list[_Marker] = []
    if "【" not in line:
        return found
    for m in _BRACKET_LABEL.finditer(line):
        name = m.group(1).strip()
        if m.start() == 0 or label_role(name) or ctx.counts.get(name, 0) >= 2:
            found.append(_Marker(m.start(), m.end(), name, None))
    return found


def _qa_markers(line: str, ctx: _Context) -> list[_Marker]:
    found = ctx.qa.get(line)
    if found is None and "：" not in line and ":" not in line:
        found = ctx.qa[line] = []  # a qa label ends with a colon (_COLON_END below)
    if found is None:
        speaker, used = _split_label(line, ctx)
        # Without a colon only bracketed transcripts glue labels to speech.
        found = [_Marker(0, used, speaker, None)] if speaker and _COLON_END.search(line[:used]) else []
        ctx.qa[line] = found
    return found


_MARKER_FINDERS: dict[str, Callable[[str, _Context], list[_Marker]]] = {
    "feishu": _feishu_markers,
    "iflytek": _feishu_markers,
    "bracketed": _bracketed_markers,
    "timestamp": _timestamp_markers,
    "merged": _merged_markers,
    "qa": _qa_markers,
}


_NAME_CLOCK_LINE = re.compile(rf"({_NAME_CHARS}{{1,12}})[ \t]+{_CLOCK}")
_LINE_LABEL = re.compile(r"(?:\[[^\]]*\]\s*)?(?:【([^】]{1,12})】|([^：:\s]{1,15}?)\s*[：:])")


def _context(lines: list[str]) -> _Context:
    names: set[str] = set()
    counts: dict[str, int] = {}
    for line in lines:
        m = _NAME_CLOCK_LINE.fullmatch(line) if ":" in line else None
        if m and not _NUMBERED.match(m.group(1)) and not any(c in m.group(1) for c in _NOT_IN_NAMES):
            names.add(m.group(1))
        m = _LINE_LABEL.match(line) if "：" in line or ":" in line or "【" in line else None
        if m:
            name = m.group(1) or m.group(2)
            counts[name] = counts.get(name, 0) + 1
    return _Context(names, counts)


class _Draft:
    """Turns being built, with the running text of the current one."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []

    def start(self, text: str, speaker: str | None, timestamp: str | None, lineno: int, role: str | None = None):
        speaker = _norm_speaker(speaker) if speaker else None
        role = role or label_role(speaker)
        self.turns.append(Turn(text.strip(), speaker, role, _norm_ts(timestamp) if timestamp else None, lineno))

    def extend(self, text: str, lineno: int) -> None:
        text = text.strip()
        if not text:
            return
        if self.turns:
            self.turns[-1].text = _join(self.turns[-1].text, text)
        else:
            self.start(text, None, None, lineno)


def _parse_labelled(
    src: RawSource, lines: list[str], style: str, header: _Header, ctx: _Context | None = None
) -> tuple[list[Turn], list[str]]:
    finder = _MARKER_FINDERS[style]
    ctx = _context(lines) if ctx is None else ctx
    draft = _Draft()
    glued = 0
    for lineno, line in enumerate(lines, 1):
        if not line:
            continue
        markers = finder(line, ctx)
        if header.take(line, lineno, not draft.turns, bool(markers and markers[0].start == 0)):
            continue
        if not markers:
            if not draft.turns and len(line) <= 30 and line[-1] not in _SENTENCE_END:
                header.add("标题", line)  # a title above the dialogue
            else:
                draft.extend(line, lineno)
            continue
        if markers[0].start:
            draft.extend(line[: markers[0].start], lineno)
        for k, marker in enumerate(markers):
            end = markers[k + 1].start if k + 1 < len(markers) else len(line)
            draft.start(line[marker.end: end], marker.speaker, marker.timestamp, lineno)
        # markers are in line order: only the first can open the line
        glued += len(markers) - (markers[0].start == 0)
    warnings = [f"{glued} glued turn{'s' if glued > 1 else ''} split"] if glued else []
    return draft.turns, warnings


# --- subtitles -----------------------------------------------------------------------

_TIMING = re.compile(rf"^({_TS})\s*-->\s*({_TS})(?:\s+.*)?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAGS = re.compile(r"<[^>]*>|\{\\[^}]*\}")


def _parse_cues(
    src: RawSource, lines: list[str], style: str, header: _Header, ctx: _Context | None = None
) -> tuple[list[Turn], list[str]]:
    draft = _Draft()
    ctx = _context(lines) if ctx is None else ctx
    in_cue = skip_block = False
    for lineno, line in enumerate(lines, 1):
        if not line:
            in_cue = skip_block = False
            continue
        if skip_block:
            continue
        if not in_cue and (line.startswith("WEBVTT") or line.split(" ")[0] in ("NOTE", "STYLE", "REGION")):
            skip_block = True
            continue
        timing = _TIMING.match(line)
        if timing:
            in_cue, cue_ts, cue_line, cue_turns = True, timing.group(1), lineno, 0
            continue
        nxt = lines[lineno] if lineno < len(lines) else ""
        if not in_cue or _TIMING.match(nxt):  # cue numbers and identifiers
            continue
        voice = _VOICE.search(line)
        text = _TAGS.sub("", line).strip()
        speaker, used = (voice.group(1).strip(), 0) if voice else _split_label(text, ctx)
        if speaker and not voice and not _COLON_END.search(text[:used]):
            speaker, used = None, 0
        text = text[used:].lstrip("- ").strip()
        prev = draft.turns[-1] if draft.turns else None
        if cue_turns == 0 and prev is not None and prev.speaker is not None and speaker in (None, prev.speaker):
            # subtitles cut one speaker's turn into many cues: keep it one passage
            draft.extend(text, lineno)
            cue_turns += 1
        elif cue_turns == 0 or speaker:
            draft.start(text, speaker, cue_ts, cue_line)
            cue_turns += 1
        else:
            draft.turns[-1].text = _join(draft.turns[-1].text, text)
    return draft.turns, []


# --- quotes and plain text -----------------------------------------------------------

_QUOTE_TAG = re.compile(
    r"[（(]\s*([^（）()，,、]{1,20}?)\s*[，,、]\s*([^（）()]{0,12}(?:访谈|调研|座谈|田野)[^（）()]{0,12})\s*[）)]\s*[。.]?$"
)


def _may_be_quote_tag(line: str) -> bool:
    return "访谈" in line or "调研" in line or "座谈" in line or "田野" in line


_ENCLOSING_QUOTES = (("“", "”"), ("「", "」"), ('"', '"'), ("『", "』"))


def _strip_quotes(text: str) -> str:
    for left, right in _ENCLOSING_QUOTES:
        if text.startswith(left) and text.endswith(right) and text.count(left) == 1:
            return text[1:-1].strip()
    return text


def _parse_paragraphs(
    src: RawSource, lines: list[str], style: str, header: _Header, ctx: _Context | None = None
) -> tuple[list[Turn], list[str]]:
    draft = _Draft()
    for lineno, line in enumerate(lines, 1):
        if not line or header.take(line, lineno, not draft.turns, False):
            continue
        tag = _QUOTE_TAG.search(line) if style == "quote" else None
        if tag:
            speaker = tag.group(1).strip()
            text = _strip_quotes(line[: tag.start()].strip())
            draft.start(text, speaker, None, lineno, label_role(speaker) or INTERVIEWEE)
        else:
            draft.start(line, None, None, lineno)
    return draft.turns, []


_PARSERS = {
    **dict.fromkeys(_MARKER_FINDERS, _parse_labelled),
    "srt": _parse_cues,
    "vtt": _parse_cues,
    "quote": _parse_paragraphs,
    "plain": _parse_paragraphs,
}

# --- detection -----------------------------------------------------------------------

_FEISHU_LABEL = re.compile(rf"^(说话人|发言人)(\s*)\d+[ \t]+{_CLOCK}")
_IFLYTEK_HEADER = re.compile(rf"^\d{{1,2}}月\d{{1,2}}日\s+{_CLOCK}\s*录音")
_FEISHU_HEADER = re.compile(r"^\d{4}年.*\d+\s*分钟|^文字记录\s*[:：]?$")


_SHORT_CLOCK_LINE = re.compile(rf"\S{{1,12}}[ \t]+{_CLOCK}")


def _scores(src: RawSource, lines: list[str], ctx: _Context | None = None) -> dict[str, float]:
    score = dict.fromkeys(STYLES, 0.0)
    score["plain"] = 1.5  # any other style needs at least one strong or two weak hits
    ctx = _context(lines) if ctx is None else ctx
    # Each pattern is tried only on lines that can match it: by the first character of its
    # match (a digit, 说/发, a bracket ...) or a character or word it requires (a colon for a
    # clock, 访谈/调研/座谈/田野 for a quote tag). The scores are the same as trying all.
    for line in lines:
        if not line:
            continue
        first = line[0]
        digit = first.isdigit()  # every character \d matches (and a few more)
        if digit:
            timing = _TIMING.match(line)
            if timing:
                score["srt" if "," in timing.group(1) else "vtt"] += 3
                continue
        feishu = _FEISHU_LABEL.match(line) if first in "说发" else None
        if feishu:
            score["feishu" if feishu.group(2) else "iflytek"] += 2
        elif line in ctx.names or ":" in line and _SHORT_CLOCK_LINE.fullmatch(line) and _feishu_markers(line, ctx):
            score["feishu"] += 1
        if first == "[" and _BRACKET_TS.match(line):
            score["bracketed"] += 2
        if (digit or first in "[(（") and _TS_ALONE.match(line):
            score["timestamp"] += 2
        if first == "【" and _BRACKET_LABEL.match(line):
            score["merged"] += 2
        qa = _qa_markers(line, ctx)
        if qa and _header_fields(line, True) is None:
            score["qa"] += 2 if label_role(qa[0].speaker) else 1
        if line[-1] in "）)。." and _may_be_quote_tag(line) and _QUOTE_TAG.search(line):
            score["quote"] += 2
        if digit and _IFLYTEK_HEADER.match(line):
            score["iflytek"] += 3
        if (digit or first == "文") and _FEISHU_HEADER.match(line):
            score["feishu"] += 3
    first = next((line for line in lines if line), "")
    if first.startswith("WEBVTT"):
        score["vtt"] += 10
    if src.kind in ("srt", "vtt") and (score["srt"] or score["vtt"]):
        score[src.kind] += 5
    return score


def _prepped(src: RawSource) -> list[str]:
    return [_prep(line) for line in src.lines]


def _detect(src: RawSource, lines: list[str], ctx: _Context | None = None) -> str:
    score = _scores(src, lines, ctx)
    # Ties go to the earlier, more specific style in STYLES.
    return max(STYLES, key=lambda name: (score[name], -STYLES.index(name)))


def detect_style(src: RawSource) -> str:
    """The transcript style of ``src`` (one of STYLES), by scoring lines against each."""
    return _detect(src, _prepped(src))


# --- parse ---------------------------------------------------------------------------


def _question_warnings(turns: list[Turn]) -> list[str]:
    """受访者 turns that look like the interviewer's question (a frequent ASR relabel slip)."""
    warnings = []
    roled = [t for t in turns if t.role is not None]
    for k, turn in enumerate(roled):
        if turn.role != INTERVIEWEE or len(turn.text) > 60 or not is_question(turn.text):
            continue
        prev_role = roled[k - 1].role if k else None
        next_role = roled[k + 1].role if k + 1 < len(roled) else None
        if prev_role == INTERVIEWEE or next_role == INTERVIEWER:
            warnings.append(f"question labelled {turn.speaker} at line {turn.line}")
    return warnings


def parse(src: RawSource, style: str | None = None) -> ParsedDocument:
    """Parse ``src`` into turns and header attributes; ``style`` None means detect it.

    Raises InputFileError when nothing speakable remains, ValueError for an unknown style.
    """
    if style is not None and style not in STYLES:
        raise ValueError(f"unknown transcript style {style!r}; expected one of: {', '.join(STYLES)}")
    lines = _prepped(src)
    ctx = None
    if style is None:
        ctx = _context(lines)  # shared by detection and the parser
        style = _detect(src, lines, ctx)
    header = _Header()
    turns, warnings = _PARSERS[style](src, lines, style, header, ctx)

    empty = [t.line for t in turns if not t.text]
    turns = [t for t in turns if t.text]
    if empty:
        where = ", ".join(map(str, empty))
        warnings.append(f"{len(empty)} turn{'s' if len(empty) > 1 else ''} without speech dropped (line {where})")
    if not turns:
        if header.empty_notice:
            why = f"the transcript only says: {header.empty_notice}"
        elif any(lines):
            why = "only header lines"
        else:
            why = "the file is blank"
        raise InputFileError(
            f"{src.path}: no transcript text after cleaning ({why})",
            hint="check the recording or its transcription; nothing was imported from this file",
        )
    if header.empty_notice:
        warnings.append(f"ignored the line '{header.empty_notice}'")
    warnings = header.warnings + warnings + _question_warnings(turns)
    return ParsedDocument(turns=turns, style=style, attributes=header.attributes, warnings=warnings)
