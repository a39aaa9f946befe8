"""Import transcripts into a project: read → parse → segment (pure) → write (one transaction).

``prepare`` is a pure function of a file and the options, so it runs in worker processes
with ``jobs > 1``; the parent process is the single writer.
"""
from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode import files
from qualcode.errors import InputFileError, QualcodeError
from qualcode.ingest import writer
from qualcode.ingest.model import (
    FAILED,
    SKIPPED,
    UNCHANGED,
    ImportOptions,
    ImportReport,
    ImportResult,
    ParsedDocument,
    PreparedDocument,
    PreparedPassage,
)
from qualcode.ingest.normalize import suspect_mojibake_spans
from qualcode.ingest.readers import read_source, skip_reason
from qualcode.ingest.speakers import infer_roles
from qualcode.ingest.styles import parse
from qualcode.text.script import convert, detect_script, fold
from qualcode.text.segment import Segmenter, passage_sentences

if TYPE_CHECKING:
    pass

# -- collecting files ----------------------------------------------------------------------
# A reason that starts with this is a failure (the user must act), not a skipped file.
FAILED_PREFIX = "cannot read"


def collect(paths: Iterable[Path], manifest=None,
            exclude: Path | None = None) -> Iterator[tuple[Path, str | None, str]]:
    """Files to import, each with a skip reason or None and its relative path (below the
    folder it was found in, or its name when named on its own: the document's identity).
    Directories are walked recursively.

    Inside a walked directory, the project itself (``exclude``) is left out, and with a
    manifest only the files it lists are taken (so a README beside the transcripts is not
    imported as an interview). Files named explicitly are always taken. Only regular files
    are read: a FIFO, a device, a socket or a dangling link is reported with its reason, and so
    is a folder that cannot be read (its reason starts with ``FAILED_PREFIX``); the walk goes on.
    """
    for path in paths:
        path = Path(path)
        if not path.is_dir():
            problem = files.input_problem(path)
            if problem == "no such file or directory":
                yield path, None, path.name  # reported as failed by the caller
            else:
                yield path, problem or skip_reason(path), path.name
            continue
        for child, problem in _walk(path):
            if exclude is not None and exclude in Path(os.path.abspath(child)).parents:
                continue  # the project's own files (a link out of it is still followed)
            rel = child.relative_to(path).as_posix()
            if problem is not None:
                yield child, problem, rel
                continue
            if manifest is not None and child.resolve() == Path(manifest.path).resolve():
                continue
            reason = skip_reason(child)
            if reason is None and manifest is not None and manifest.lookup(child) is None:
                reason = f"not listed in the manifest {manifest.path}; add a row or import the file by name"
            yield child, reason, rel


def _walk(top: Path) -> Iterator[tuple[Path, str | None]]:
    """Every entry below ``top`` that is not a folder, in sorted order, with the reason it cannot
    be read (None for a regular file); hidden folders are left out, links to folders are not
    followed, and a folder that cannot be listed is reported instead of silently left out."""
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError as exc:
        yield top, f"{FAILED_PREFIX} this folder ({exc.strerror}); its files were not imported"
        return
    for entry in entries:
        child = Path(entry.path)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if is_dir:
            if not entry.name.startswith("."):  # a hidden folder (.git ...)
                yield from _walk(child)
            continue
        if entry.is_symlink() and child.is_dir():
            yield child, "a link to a folder, not followed; import that folder by name"
            continue
        yield child, files.input_problem(child)


# -- the pure part ---------------------------------------------------------------------------
def file_hash(path: Path) -> str:
    """SHA-256 of a regular file's bytes, read in chunks (never a FIFO or a device)."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def metadata_for(path: Path, parsed: ParsedDocument, options: ImportOptions) -> tuple[str | None, dict[str, str]]:
    """Case and attributes, by precedence: command line > manifest > folder > file header."""
    case, given = given_metadata(path, options)
    return case, {**parsed.attributes, **given}


def given_metadata(path: Path, options: ImportOptions) -> tuple[str | None, dict[str, str]]:
    """The case and attributes the import was given for ``path`` (command line > manifest >
    folder), without those read from the file itself; None and {} when none was given."""
    attrs: dict[str, str] = {}
    case = None
    if options.case_from_folder:
        case = path.parent.name
    if options.manifest is not None:
        row = options.manifest.lookup(path)
        if row:
            attrs.update(row.get("attributes") or {})
            for key in ("role", "date"):
                if row.get(key):
                    attrs[key] = row[key]
            case = row.get("case") or case
    attrs.update(options.attributes)
    if options.case:
        case = options.case
    return case, attrs


def prepare(path: Path, options: ImportOptions, segmenter: Segmenter, content_hash: str | None = None,
            rel_path: str | None = None) -> PreparedDocument:
    """Read, parse and segment one file. Raises InputFileError for files that are not transcripts.

    ``content_hash`` is the file's ``file_hash`` when the caller has computed it already;
    ``rel_path`` its path below the imported folder (default: its name), its identity.
    """
    data_hash = content_hash or file_hash(path)
    source = read_source(path, encoding=options.encoding)
    parsed = parse(source, style=options.style)
    warnings = list(source.warnings) + list(parsed.warnings)
    notes = infer_roles(parsed.turns)
    turns = [t for t in parsed.turns if t.text.strip()]
    if not turns:
        raise InputFileError(f"{path}: no transcript text after cleaning", hint="check the file's content")
    texts = [convert(t.text, options.script) for t in turns]
    case, attrs = metadata_for(path, parsed, options)

    # The document is the passages, one per line; each passage is [start, end) of it.
    text = "\n".join(texts)
    spans: list[tuple[int, int]] = []
    pos = 0
    for body in texts:
        spans.append((pos, pos + len(body)))
        pos += len(body) + 1
    # Folded once per document (not per passage): jieba and the mojibake check both use it.
    folded = fold(text)
    mojibake = suspect_mojibake_spans(text, spans, folded)
    tokens = segmenter.passage_tokens(folded, spans)
    sentences = passage_sentences(text, spans)  # relative to each passage; shifted on write
    passages: list[PreparedPassage] = []
    speakers: dict[str, str | None] = {}
    for seq, (turn, (start, end), flag, blob, parts) in enumerate(
            zip(turns, spans, mojibake, tokens, sentences), start=1):
        if turn.speaker is not None:
            speakers.setdefault(turn.speaker, turn.role)
        passages.append(
            PreparedPassage(
                seq=seq,
                speaker=turn.speaker,
                timestamp=turn.timestamp,
                line=turn.line,
                start=start,
                end=end,
                tokens=blob,
                sentences=parts,
                mojibake=flag,
            )
        )
    return PreparedDocument(
        path=files.shown_name(path),  # a file name that is not UTF-8 is stored escaped (\\xNN)
        file_name=files.shown_name(path.name),
        content_hash=data_hash,
        text=text,
        encoding=source.encoding,
        style=parsed.style,
        script=detect_script(text),
        case=case,
        attributes=attrs,
        speakers=speakers,
        passages=passages,
        warnings=warnings,
        notes=notes,
        dict_version=segmenter.version,
        rel_path=files.shown_name(rel_path or path.name),
    )


# -- the writer ------------------------------------------------------------------------------
# In a worker process of import_paths (and in the importing process for --jobs 1): set once
# by _worker_init, so the options (the manifest included) are sent to a worker once rather
# than pickled with every chunk of files.
_WORKER_SEGMENTER: Segmenter
_WORKER_OPTIONS: ImportOptions


def _worker_init(words: list[str], kind: str, options: ImportOptions) -> None:
    global _WORKER_SEGMENTER, _WORKER_OPTIONS
    _WORKER_SEGMENTER = Segmenter(words, kind)
    _WORKER_OPTIONS = options


def _worker_prepare(args):
    path, digest, rel = args
    try:
        return path, prepare(path, _WORKER_OPTIONS, _WORKER_SEGMENTER, digest, rel), None
    except QualcodeError as exc:
        return path, None, exc
    except Exception as exc:  # a bug must not stop the folder: report it as failed
        return path, None, exc


def import_paths(
    project,
    paths: Iterable[Path],
    options: ImportOptions,
    jobs: int = 1,
    progress: Callable[[ImportResult], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import files and folders into ``project``; one transaction per document."""
    report = ImportReport()
    todo: list[Path] = []
    rel_paths: dict[Path, str] = {}
    for path, reason, rel in collect(paths, options.manifest, exclude=project.root):
        shown = files.shown_name(path)
        if reason is None and not path.exists():
            _record(report, progress, ImportResult(shown, FAILED, f"{shown}: no such file or directory"))
        elif reason:
            status = FAILED if reason.startswith(FAILED_PREFIX) else SKIPPED
            _record(report, progress, ImportResult(shown, status, f"{shown}: {reason}"))
        else:
            todo.append(path)
            rel_paths[path] = rel
    if on_total:
        on_total(len(todo))
    if not todo:
        return report

    words = project.user_words()
    known = writer.known_hashes(project.store)
    # Identical bytes already in the project: no need to parse or segment them again.
    fresh: list[tuple[Path, str, str]] = []
    first_with: dict[str, Path] = {}  # byte-identical files in this run are imported once
    for path in todo:
        try:
            digest = file_hash(path)
        except OSError as exc:
            shown = files.shown_name(path)
            _record(report, progress, ImportResult(shown, FAILED, f"{shown}: cannot read ({exc.strerror})"))
            continue
        if digest in known:
            _record(report, progress, ImportResult(files.shown_name(path), UNCHANGED, f"already imported as {known[digest]}",
                                                   known[digest], source=str(path)))
        elif digest in first_with:
            shown, first = files.shown_name(path), files.shown_name(first_with[digest])
            _record(report, progress, ImportResult(
                shown, SKIPPED, f"{shown}: duplicate of {first} (the same bytes); imported once"))
        else:
            first_with[digest] = path
            fresh.append((path, digest, rel_paths[path]))

    prepared_docs = _prepared(fresh, options, words, project.segmenter_kind, jobs)
    coder = project.default_coder  # for every document's audit entry (a user lookup each time)
    done = False
    while not done:
        # Documents are written in batches, one transaction each (fewer commits), every
        # document inside its own savepoint: a document that fails is rolled back alone, and a
        # killed import leaves whole documents only (the open batch is never committed).
        # Results are reported once their batch is committed.
        batch: list[ImportResult] = []
        with project.store.transaction() as conn:
            started = time.monotonic()
            done = True
            for path, prepared, error in prepared_docs:
                batch.append(_written(conn, project, path, prepared, error, options, coder))
                if len(batch) >= BATCH_DOCUMENTS or time.monotonic() - started >= BATCH_SECONDS:
                    done = False
                    break
        for result in batch:
            _record(report, progress, result)
    return report


# A batch of the import ends after this many documents or seconds, whichever comes first:
# commits are few, and a batch never holds the project's write lock for long.
BATCH_DOCUMENTS = 20
BATCH_SECONDS = 1.0


def _written(conn, project, path: Path, prepared: PreparedDocument | None, error, options: ImportOptions,
             coder: str | None = None) -> ImportResult:
    """Write one prepared document in a savepoint of ``conn``; the result, or why it was not."""
    shown = files.shown_name(path)
    if error is not None:
        if isinstance(error, InputFileError):
            return ImportResult(shown, SKIPPED, files.shown_name(error.message))
        if isinstance(error, QualcodeError):
            return ImportResult(shown, FAILED, files.shown_name(error.message))
        return ImportResult(shown, FAILED, f"{shown}: internal error while reading ({type(error).__name__})")
    assert prepared is not None
    # The document's savepoint, through the driver's cursor: SQLAlchemy's begin_nested() cost
    # more than writing a small document. Any other error rolls back the whole batch.
    cursor = conn.connection.cursor()
    try:
        cursor.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            result = writer.write_in(conn, project, prepared, replace=options.replace, coder=coder)
        except QualcodeError as exc:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            cursor.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
            return ImportResult(shown, FAILED, files.shown_name(exc.message))
        cursor.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        return result
    finally:
        cursor.close()


_SAVEPOINT = "qualcode_document"


def _prepared(todo: list[tuple[Path, str, str]], options: ImportOptions, words: list[str], kind: str, jobs: int):
    """(path, PreparedDocument or None, error) for each (path, content hash, relative path), in order."""
    if jobs <= 1 or len(todo) < 2:
        _worker_init(words, kind, options)
        for item in todo:
            yield _worker_prepare(item)
        return

    with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init, initargs=(words, kind, options)) as pool:
        yield from pool.map(_worker_prepare, todo, chunksize=8)


def _record(report: ImportReport, progress, result: ImportResult) -> None:
    report.results.append(result)
    if progress:
        progress(result)
