"""Plain data passed between the ingest stages.

read (bytes -> RawSource) -> parse (RawSource -> ParsedDocument) -> the project store.
Nothing here touches the store, jieba or the CLI.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from qualcode.vocabulary import SPEAKER_ROLES, Role

INTERVIEWER = str(Role.INTERVIEWER)
INTERVIEWEE = str(Role.INTERVIEWEE)
OTHER = str(Role.OTHER)
ROLES = SPEAKER_ROLES


@dataclass
class RawSource:
    """A file's text as paragraphs/lines, before any transcript-style parsing."""

    path: str
    kind: str  # "txt" | "md" | "docx" | "srt" | "vtt"
    lines: list[str]  # paragraphs (docx) or lines (text), NFC, without line terminators
    encoding: str  # e.g. "utf-8", "utf-8-sig", "gb18030", "big5", "utf-16", "docx"
    warnings: list[str] = field(default_factory=list)


@dataclass
class Turn:
    """One speaker turn (or one paragraph where the file has no speakers)."""

    text: str  # the speech only: no label, no timestamp, no source tag
    speaker: str | None = None  # label as written: "说话人 2", "受访者", "王书记", "社区党组织书记A"
    role: str | None = None  # one of ROLES, or None when the label does not say
    timestamp: str | None = None  # normalised "H:MM:SS" or "H:MM:SS.mmm"
    line: int | None = None  # 1-based line/paragraph in the source where the turn starts


@dataclass
class ParsedDocument:
    turns: list[Turn]
    style: str  # one of ingest.styles.STYLES
    attributes: dict[str, str] = field(default_factory=dict)  # header fields: 日期, 地点, 受访人 ...
    warnings: list[str] = field(default_factory=list)
