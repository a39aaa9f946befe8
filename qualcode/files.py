"""Files the program writes and reads, made safe: outputs never touch the project or a special
file, and a write either completes or leaves the old file as it was.

Every command that writes a file goes through :func:`atomic_output` (or its helpers
``write_text`` / ``write_bytes``):

* the target is checked first (:func:`check_output`): it must be a new path or an existing
  regular file, and it must not be one of the project's own files — the database (and its
  ``-wal``/``-shm``/``-journal`` companions), ``qualcode.toml``, the codebook, the user
  dictionary — nor any SQLite database. An opened project registers its files with
  :func:`protect`, so every writer refuses them whichever command it serves;
* the content goes to a temporary file in the same folder, which is renamed over the target
  only when complete; on any failure (a full disk, an exception, Ctrl-C) the temporary file
  is removed and the old output stays intact;
* ``OSError``s (no space left, read-only file system, permission denied) become an
  :class:`OutputError` with one line saying what happened and what to do.

The input side: :func:`input_problem` says why a path is not a regular file that can be read
(a FIFO, a device, a socket, a dangling link), so that a folder walk reports it in one line
instead of hanging on it or reading ``/dev/zero`` until memory runs out.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from qualcode.errors import QualcodeError

SQLITE_MAGIC = b"SQLite format 3\x00"
_DB_COMPANIONS = ("", "-wal", "-shm", "-journal")
_PROTECTED: dict[Path, str] = {}


class OutputError(QualcodeError):
    """An output that must not be written (a project file, a device) or could not be written."""


def _key(path: Path) -> Path:
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):
        return Path(os.path.abspath(path))


def protect(paths: Iterable[tuple[Path, str]]) -> None:
    """Register files no output may replace, each with what it is ("the project database" …)."""
    for path, what in paths:
        _PROTECTED[_key(Path(path))] = what


def database_files(path: Path) -> list[tuple[Path, str]]:
    """A SQLite database and the companion files that hold part of its content."""
    return [(Path(f"{path}{suffix}"), "the project database" + (f" ({suffix[1:]} file)" if suffix else ""))
            for suffix in _DB_COMPANIONS]


def _describe(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_output(path: Path) -> Path:
    """``path`` if an output may be written there; else OutputError saying why not."""
    path = Path(path)
    shown = str(path)
    protected = _PROTECTED.get(_key(path))
    if protected is not None:
        raise OutputError(f"{shown} is {protected}; refusing to overwrite it with an output",
                          hint="choose another file name, e.g. under outputs/")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise OutputError(f"{shown} is a link to a file that does not exist; refusing to write through it",
                              hint="remove the link or choose another file name") from None
        return path
    except OSError as exc:
        raise OutputError(f"{shown}: cannot check the output ({exc.strerror})") from None
    what = _describe(st.st_mode)
    if what is not None:
        raise OutputError(f"{shown} is {what}; an output can only be a new file or replace a regular file",
                          hint="give --output a file name")
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError:
        head = b""
    if head == SQLITE_MAGIC:
        raise OutputError(f"{shown} is a SQLite database; refusing to overwrite it with an output",
                          hint="choose another file name, e.g. under outputs/")
    return path


def os_error(exc: OSError, what: str) -> QualcodeError:
    """One line for an OSError met while writing ``what``: what happened and what to do."""
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        return OutputError(f"{what}: no space left on the device; nothing was changed",
                           hint="free some disk space and run the command again")
    if code == errno.EROFS:
        return OutputError(f"{what}: the file system is read-only; nothing was written",
                           hint="write to a folder you can change (--output), or copy the project elsewhere")
    if code in (errno.EACCES, errno.EPERM):
        return OutputError(f"{what}: permission denied; nothing was written",
                           hint="check the folder's permissions, or write somewhere else (--output)")
    if code == errno.ENAMETOOLONG:
        return OutputError(f"{what}: the file name is too long", hint="choose a shorter name")
    if code in (errno.ENOTDIR, errno.EISDIR):
        return OutputError(f"{what}: a part of the path is not a folder", hint="check the path")
    reason = exc.strerror or type(exc).__name__
    return OutputError(f"{what}: cannot write ({reason}); nothing was changed", hint="check the path and the disk")


@contextmanager
def atomic_output(path: Path, suffix: str = "") -> Iterator[Path]:
    """``with atomic_output(target) as tmp:`` write ``tmp``; it replaces ``target`` when the
    block ends without an error. The target is checked first (``check_output``); on failure
    the temporary file is removed and the old target is left as it was."""
    path = check_output(Path(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=(suffix or path.suffix) + ".part",
                                    dir=path.parent)
    except OSError as exc:
        raise os_error(exc, str(path)) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        check_output(path)  # still a regular file or absent: it may have changed meanwhile
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)  # replacing a file keeps its permissions
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise os_error(exc, str(path)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str, encoding: str = "utf-8", newline: str | None = None) -> Path:
    """Write ``text`` to ``path`` atomically (see ``atomic_output``)."""
    with atomic_output(path) as tmp:
        with open(tmp, "w", encoding=encoding, newline=newline) as fh:
            fh.write(text)
    return Path(path)


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see ``atomic_output``)."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_with(path: Path, save: Callable[[Path], object], suffix: str = "") -> Path:
    """``save(tmp)`` (e.g. a workbook's ``save``) then replace ``path`` atomically."""
    with atomic_output(path, suffix=suffix) as tmp:
        save(tmp)
    return Path(path)


# -- inputs ---------------------------------------------------------------------------------
def input_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as an input file, or None for a readable regular file
    (links are followed; a dangling link, a FIFO, a device or a socket is a problem)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "a link to a file that does not exist" if os.path.islink(path) else "no such file or directory"
    except PermissionError:
        return "permission denied"
    except OSError as exc:
        return f"cannot read it ({exc.strerror})"
    what = _describe(st.st_mode)
    if what is not None:
        return f"{what}, not a file; only regular files are read"
    return None


def shown_name(path: Path | str) -> str:
    """A path as text that can always be printed: bytes that were not valid UTF-8 in the
    file name (kept by Python as lone surrogates) are shown as \\xNN escapes."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", errors="backslashreplace")


def read_capped(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, refusing more than ``limit`` bytes (read in
    chunks, so a file that grows or lies about its size cannot exhaust memory)."""
    out = bytearray()
    # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            out += chunk
            if len(out) > limit:
                raise ValueError(f"{what} is larger than {limit // 2**20} MiB")
    return bytes(out)


# -- archives (docx, xlsx) ------------------------------------------------------------------
MAX_ARCHIVE_ENTRIES = 10_000
MAX_ARCHIVE_MEMBER = 128 * 2**20  # one part (word/document.xml, a worksheet) uncompressed
MAX_ARCHIVE_TOTAL = 512 * 2**20  # all parts together, uncompressed


def archive_problem(source, entries: int = MAX_ARCHIVE_ENTRIES, member: int = MAX_ARCHIVE_MEMBER,
                    total: int = MAX_ARCHIVE_TOTAL) -> str | None:
    """Why the zip ``source`` (a path or a file object) is too big to open, or None.

    The sizes checked are the uncompressed sizes the archive declares; Python's ``zipfile``
    (which openpyxl and python-docx read through) never returns more bytes than declared for
    a member, so a zip bomb that lies about its sizes cannot expand past these caps either.
    """
    try:
        with zipfile.ZipFile(source) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        return None  # not a zip at all: the reader says what it is
    if len(infos) > entries:
        return f"the archive has {len(infos)} parts (limit {entries})"
    biggest = max(infos, key=lambda i: i.file_size, default=None)
    if biggest is not None and biggest.file_size > member:
        return (f"its part {biggest.filename} expands to {biggest.file_size // 2**20} MiB "
                f"(limit {member // 2**20} MiB; possible zip bomb)")
    size = sum(i.file_size for i in infos)
    if size > total:
        return f"it expands to {size // 2**20} MiB (limit {total // 2**20} MiB; possible zip bomb)"
    return None
