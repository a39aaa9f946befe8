"""Database failures in one line each: a damaged, empty, full or read-only database.

``check_sqlite_file`` runs when a project opens (a 0-byte file or a file that is not a SQLite
database is an error, never silently a new project); ``explain`` turns the driver's errors
(SQLAlchemy wraps them with the statement and its parameters, which may hold interview text)
into a :class:`QualcodeError` that names the problem and what to do, without any of the text.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from qualcode.errors import QualcodeError

SQLITE_MAGIC = b"SQLite format 3\x00"
RECOVER_HINT = ("restore qualcode.db from a backup; or recover what is readable with "
                "'sqlite3 qualcode.db .recover | sqlite3 recovered.db' and point db = in qualcode.toml at it")


class DatabaseDamaged(QualcodeError):
    """The project's database file is empty, not a database, or fails its integrity check."""


class DatabaseUnwritable(QualcodeError):
    """The database cannot take a change: the disk is full or the project is read-only."""


def check_sqlite_file(path: Path) -> None:
    """DatabaseDamaged for an existing database file that is empty or not SQLite."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return  # a new project: created by the first migration
    except OSError as exc:
        raise DatabaseDamaged(f"cannot open the database {path} ({exc.strerror})",
                              hint="check the file's permissions") from None
    if size == 0:
        raise DatabaseDamaged(f"the database {path} is empty (0 bytes): it is not a qualcode project database",
                              hint="restore it from a backup; delete the empty file only to start over with an "
                                   "empty project")
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise DatabaseDamaged(f"cannot read the database {path} ({exc.strerror})",
                              hint="check the file's permissions") from None
    if head != SQLITE_MAGIC:
        raise DatabaseDamaged(f"the database {path} is not a SQLite database (it was overwritten or damaged)",
                              hint=RECOVER_HINT)


def _driver_message(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split("\n")[0].split())
    return text[:160]


_DAMAGED = ("malformed", "not a database", "file is encrypted", "out of bounds", "corrupt", "no such table",
            "no such column")
_FULL = ("database or disk is full", "disk is full", "no space left")
_READONLY = ("readonly database", "read-only", "attempt to write a readonly")


def explain(exc: BaseException) -> QualcodeError | None:
    """A one-line QualcodeError for a database driver error, or None if it is not one."""
    module = type(exc).__module__ or ""
    if not (module.startswith("sqlalchemy") or module.startswith("sqlite3") or module.startswith("psycopg")):
        return None
    message = _driver_message(exc)
    low = message.lower()
    if any(k in low for k in _FULL):
        return DatabaseUnwritable(f"the database could not save the change: the disk is full ({message}); "
                                  "nothing was changed", hint="free some disk space and run the command again")
    if any(k in low for k in _READONLY):
        return DatabaseUnwritable(f"the project is read-only ({message}); nothing was changed",
                                  hint="read commands still work; to change it, copy the project to a folder you can write")
    if "disk i/o error" in low:
        return DatabaseUnwritable(f"the database could not be written or read ({message}); nothing was changed",
                                  hint="check the disk (space, permissions, a removed drive) and run the command again")
    if "database is locked" in low or "busy" in low:
        return DatabaseUnwritable(f"the database is busy ({message})",
                                  hint="another qualcode command is writing; try again when it has finished")
    if "unable to open database" in low:
        return DatabaseUnwritable(f"cannot open the database ({message})",
                                  hint="check that the folder exists and can be read")
    if any(k in low for k in _DAMAGED):
        return DatabaseDamaged(f"the project database is damaged ({message})", hint=RECOVER_HINT)
    if "nul" in low and "character" in low or "0x00" in low:
        return QualcodeError(f"the database refused a text with a NUL character ({message})",
                             hint="re-import the source: text imports remove control characters")
    if "out of range" in low or "too large" in low or "overflow" in low:
        return QualcodeError(f"a number is too large for the database ({message})",
                             hint="ids are whole numbers as listed by the list commands")
    return None


def integrity_problem(conn) -> str | None:
    """The first line of SQLite's quick_check if it is not 'ok' (None when the file is sound)."""
    rows = conn.exec_driver_sql("PRAGMA quick_check(1)").fetchall()
    result = str(rows[0][0]) if rows else "ok"
    return None if result == "ok" else result[:160]


class CheckStamp:
    """What the database file and its ``-wal`` file looked like (size, mtime_ns, inode) after
    qualcode's last successful integrity check or its own last commit, kept in a small JSON
    file beside the database (``qualcode.db-checked``). When both files still look the same,
    nothing but qualcode has written them since the check, and ``quick_check`` (whose cost
    grows with the database) need not run again. Plain JSON: nothing in it is executed."""

    FORMAT = 1

    def __init__(self, database: Path):
        self.database = Path(database)
        self.path = Path(f"{database}-checked")

    @staticmethod
    def _state(path: Path, empty_is_absent: bool = False) -> list[int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        if empty_is_absent and st.st_size == 0:
            return None  # SQLite creates an empty -wal when it opens and removes it when it closes
        return [st.st_size, st.st_mtime_ns, st.st_ino]

    def current(self) -> dict:
        return {"format": self.FORMAT, "db": self._state(self.database),
                "wal": self._state(Path(f"{self.database}-wal"), empty_is_absent=True)}

    def matches(self) -> bool:
        """True when the files are as qualcode last recorded them (never for a missing stamp)."""
        try:
            recorded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        now = self.current()
        return now["db"] is not None and recorded == now

    def record(self) -> None:
        """Write the files' present state, atomically; a stamp that cannot be written only
        means the next change checks again."""
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            try:
                # readable by whoever can read the database (mkstemp makes it private)
                os.chmod(tmp, os.stat(self.database).st_mode & 0o666)
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(self.current(), out)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass


def writable_dir(path: Path) -> bool:
    return os.access(Path(path).parent, os.W_OK) and (not Path(path).exists() or os.access(path, os.W_OK))
