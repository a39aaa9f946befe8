"""The team's spreadsheet of interviews: file -> case, interviewee role, date, other columns."""
from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import io
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from qualcode import files
from qualcode.errors import ConfigError, InputFileError
from qualcode.ingest.encoding import decode
from qualcode.ingest.normalize import iso_date

FILE_COLUMNS = ("file", "文件", "文件名", "filename", "文件名称", "path", "路径")
CASE_COLUMNS = ("case", "案例", "街道", "个案")
ROLE_COLUMNS = ("role", "角色", "受访者角色")
DATE_COLUMNS = ("date", "日期", "访谈时间", "访谈日期")
_HINT = "the manifest needs a header row with a file column (file/文件/文件名/filename)"


def _key(s: str) -> str:
    return unicodedata.normalize("NFC", s).strip().replace("\\", "/").removeprefix("./")


@dataclass
class ManifestRow:
    row: int  # spreadsheet row number (the header is row 1)
    file: str
    case: str | None = None
    role: str | None = None
    date: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"case": self.case, "role": self.role, "date": self.date, "attributes": dict(self.attributes)}


@dataclass
class Manifest:
    path: Path
    rows: list[ManifestRow]

    def __post_init__(self) -> None:
        # Indexes, first row wins: a folder of a thousand files must not rescan every row per file.
        self._by_path: dict[str, ManifestRow] = {}
        self._by_name: dict[str, ManifestRow] = {}
        self._globs: list[ManifestRow] = []
        self._folder: Path | None = None  # the manifest's folder, resolved on first lookup
        self._found: dict[Path, ManifestRow | None] = {}  # lookups by path
        for row in self.rows:
            if _is_glob(row.file):
                self._globs.append(row)
            elif "/" in row.file:
                self._by_path.setdefault(row.file, row)
            else:
                self._by_name.setdefault(row.file, row)

    def lookup(self, path: Path) -> dict | None:
        """Metadata for ``path``: first row matching its relative path, else file name, else glob."""
        path = Path(path)
        # An import looks every file up twice (choosing the files, then their metadata).
        if path not in self._found:
            self._found[path] = self._row(path)
        row = self._found[path]
        return row.as_dict() if row is not None else None

    def _row(self, path: Path) -> ManifestRow | None:
        if self._folder is None:
            self._folder = self.path.resolve().parent
        try:
            rel = _key(Path(os.path.relpath(path.resolve(), self._folder)).as_posix())
        except ValueError:  # another drive on Windows
            rel = _key(path.as_posix())
        full = _key(path.as_posix())
        parts = full.split("/")
        # relative path to the manifest, else any trailing part of the path as given
        for key in (rel, *("/".join(parts[i:]) for i in range(len(parts) - 1))):
            if key in self._by_path:
                return self._by_path[key]
        for key in (_key(path.name), _key(path.stem)):
            if key in self._by_name:
                return self._by_name[key]
        name = _key(path.name)
        for row in self._globs:
            if fnmatch.fnmatchcase(rel, row.file) or fnmatch.fnmatchcase(name, row.file):
                return row
        return None


def _is_glob(s: str) -> bool:
    return any(ch in s for ch in "*?[")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


MAX_MANIFEST_BYTES = 32 * 2**20
MAX_CELL_CHARS = 100_000


def _read_csv(path: Path) -> list[list[str]]:
    problem = files.input_problem(path)
    if problem is not None and path.exists():
        raise ConfigError(f"{path}: {problem} (manifest)", hint="give a .csv or .xlsx file")
    try:
        data = files.read_capped(path, MAX_MANIFEST_BYTES, "the manifest")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read manifest ({exc.strerror})", hint="check the path") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}", hint="a manifest lists files, one row each") from None
    if not data.strip():
        raise ConfigError(f"{path}: manifest is empty", hint=_HINT)
    try:
        text, _ = decode(data, str(path))
    except InputFileError as exc:
        raise ConfigError(f"{exc.message} (manifest)", hint="save it from Excel as CSV UTF-8 or as .xlsx") from None
    # bare CR (old Mac Excel) and CRLF line ends both become LF, which the csv module reads
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    try:
        sniffed = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
        dialect: type[csv.Dialect] = type("Sniffed", (csv.excel,), {"delimiter": sniffed.delimiter, "strict": True})
    except csv.Error:
        dialect = type("Strict", (csv.excel,), {"strict": True})
    reader = csv.reader(io.StringIO(text), dialect)
    rows = []
    limit = csv.field_size_limit()
    try:
        csv.field_size_limit(MAX_CELL_CHARS + 1)
        for row in reader:
            rows.append([cell.strip() for cell in row])
    except csv.Error as exc:
        what = ("a cell is longer than " + f"{MAX_CELL_CHARS:,} characters" if "field larger" in str(exc)
                else f"it is not valid CSV ({exc})")
        raise ConfigError(f"{path}: line {reader.line_num}: {what}",
                          hint="check the quotes: a cell that starts with \" must end with \"") from None
    finally:
        csv.field_size_limit(limit)
    return rows


def _read_xlsx(path: Path) -> list[list[str]]:
    import openpyxl

    problem = files.archive_problem(path)
    if problem is not None:
        raise ConfigError(f"{path}: refusing to open this workbook: {problem}", hint="save the manifest again as .xlsx")
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises zip, XML and key errors for broken files
        raise ConfigError(
            f"{path}: cannot read manifest (not a valid .xlsx workbook)", hint="open it in Excel/WPS and save it as .xlsx"
        ) from None
    try:
        sheet = workbook.active
        if sheet is None:
            raise ConfigError(f"{path}: the workbook has no worksheet", hint="open it in Excel/WPS and save it as .xlsx")
        return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def load_manifest(path: Path) -> Manifest:
    """Read a CSV (UTF-8, UTF-8 BOM or GB18030) or XLSX manifest. Raises ConfigError."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = _read_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        table = _read_xlsx(path)
    else:
        raise ConfigError(f"{path}: manifest must be .csv or .xlsx", hint="save it from Excel as .xlsx or CSV")
    # The header is the first non-empty row; row numbers stay spreadsheet row numbers.
    start = next((i for i, row in enumerate(table) if any(row)), None)
    if start is None:
        raise ConfigError(f"{path}: manifest is empty", hint=_HINT)
    header = [h.lstrip("\ufeff").strip() for h in table[start]]
    file_col = _column(header, FILE_COLUMNS)
    if file_col is None:
        raise ConfigError(
            f"{path}: no file column in row {start + 1} (expected one of: {', '.join(FILE_COLUMNS[:4])})", hint=_HINT
        )
    special = {
        "case": _column(header, CASE_COLUMNS),
        "role": _column(header, ROLE_COLUMNS),
        "date": _column(header, DATE_COLUMNS),
    }
    used = {file_col, *(i for i in special.values() if i is not None)}
    rows: list[ManifestRow] = []
    seen: dict[str, int] = {}
    for number, cells in enumerate(table[start + 1:], start + 2):
        if not any(cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        if "\n" in cells[file_col]:
            raise ConfigError(f"{path}: row {number}: the file name runs over several lines",
                              hint="a quote \" opened in this row is not closed; close it or remove it")
        file = _key(cells[file_col])
        if not file:
            raise ConfigError(f"{path}: row {number} has no file name", hint="fill in the file column or delete the row")
        if file in seen:
            raise ConfigError(
                f"{path}: row {number} repeats '{file}' from row {seen[file]}", hint="keep one row per file"
            )
        seen[file] = number
        values = {key: (cells[i] or None) if i is not None else None for key, i in special.items()}
        if values["date"]:
            values["date"] = iso_date(values["date"]) or values["date"]
        attributes = {
            header[i]: cells[i] for i in range(len(header)) if i not in used and header[i] and cells[i]
        }
        rows.append(ManifestRow(number, file, values["case"], values["role"], values["date"], attributes))
    return Manifest(path, rows)
