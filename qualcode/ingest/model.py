"""Plain data passed between the ingest stages.

read (bytes -> RawSource) -> parse (RawSource -> ParsedDocument) -> prepare (PreparedDocument,
segmented) -> write (the project store) -> ImportResult. Nothing here touches the store,
jieba or the CLI.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qualcode.vocabulary import SPEAKER_ROLES, Role

if TYPE_CHECKING:
    from qualcode.ingest.manifest import Manifest

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


IMPORTED, REPLACED, UNCHANGED, CHANGED, SKIPPED, FAILED = (
    "imported", "replaced", "unchanged", "changed", "skipped", "failed",
)


@dataclass
class ImportOptions:
    case: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    manifest: Manifest | None = None
    encoding: str | None = None
    style: str | None = None
    script: str = "keep"
    case_from_folder: bool = False
    replace: bool = False


@dataclass
class PreparedPassage:
    seq: int
    speaker: str | None
    timestamp: str | None
    line: int | None
    start: int
    end: int
    tokens: bytes
    sentences: list[tuple[int, int]]
    mojibake: str | None = None

    def __reduce__(self):
        # With --jobs, workers send every passage to the writer: positional arguments
        # unpickle about twice as fast as the default state dict per object.
        return (
            PreparedPassage,
            (self.seq, self.speaker, self.timestamp, self.line, self.start, self.end, self.tokens, self.sentences,
             self.mojibake),
        )


@dataclass
class PreparedDocument:
    path: str
    file_name: str
    content_hash: str
    text: str
    encoding: str
    style: str
    script: str
    case: str | None
    attributes: dict[str, str]
    speakers: dict[str, str | None]  # label -> role
    passages: list[PreparedPassage]
    warnings: list[str]
    notes: list[str]
    dict_version: str
    # the document's identity on re-import: the path relative to the imported folder (the
    # file name for a file named on its own); None for documents from a .qdpx
    rel_path: str | None = None


@dataclass
class ImportResult:
    path: str
    status: str
    message: str = ""
    document: str | None = None
    source: str | None = None  # the file's path as found (for an unchanged file: its metadata again)


@dataclass
class ImportReport:
    results: list[ImportResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return self.count(FAILED) == 0

    def summary(self) -> str:
        parts = [f"{self.count(IMPORTED)} imported"]
        for status in (REPLACED, CHANGED):
            if self.count(status):
                parts.append(f"{self.count(status)} {status}")
        parts += [f"{self.count(s)} {s}" for s in (UNCHANGED, SKIPPED, FAILED)]
        return ", ".join(parts)
