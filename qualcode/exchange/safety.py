"""Reading untrusted REFI-QDA files safely: XML without DTDs or entities, zips without tricks.

* XML: a document with a DOCTYPE or an ENTITY declaration is refused before it is parsed
  (REFI-QDA files never have one; they are how XXE and "billion laughs" attacks work, and
  libxml2 expands internal entities in attribute values even with ``resolve_entities``
  off). The parser also has no network, no DTD loading and no huge-tree mode.
* Zip: every entry name is checked (no absolute paths, drive letters or ``..``); nothing
  is extracted to disk; members are read with a hard size cap that does not trust the
  sizes the archive declares; the number of entries is capped too.

Every failure is an :class:`ExchangeError` with a one-line message naming the file.
"""
from __future__ import annotations

import zipfile
import zlib
from pathlib import Path, PurePosixPath

from qualcode.errors import ExchangeError

MAX_MEMBER_BYTES = 256 * 2**20  # one .qde or one text source
MAX_TOTAL_BYTES = 512 * 2**20  # everything read from one archive (20 sources of 200 MiB are refused)
MAX_XML_BYTES = 256 * 2**20
MAX_ENTRIES = 50_000
_CHUNK = 1 << 20

_FORBIDDEN = [
    marker.encode(codec)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for codec in ("utf-8", "utf-16-le", "utf-16-be")
]


def parse_xml(data: bytes, source: str):
    """Parse untrusted XML bytes into an lxml element; refuse DTDs and entity declarations."""
    from lxml import etree

    if len(data) > MAX_XML_BYTES:
        raise ExchangeError(f"{source}: the XML is larger than {MAX_XML_BYTES // 2**20} MiB; refusing to read it")
    if any(marker in data for marker in _FORBIDDEN):
        raise ExchangeError(
            f"{source}: the XML declares a DOCTYPE or entities, which REFI-QDA files never do; "
            "refusing to read it (possible XXE or entity-expansion attack)"
        )
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_pis=True, remove_comments=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ExchangeError(f"{source}: not well-formed XML ({_one_line(exc)})") from None
    except ValueError as exc:  # e.g. an unsupported encoding declaration
        raise ExchangeError(f"{source}: cannot read the XML ({_one_line(exc)})") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # belt and braces
        raise ExchangeError(f"{source}: the XML declares a DOCTYPE; refusing to read it")
    return root


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]


def check_entry_name(name: str, source: str) -> str:
    """The entry name as a relative POSIX path; ExchangeError if it could escape a folder."""
    normalized = name.replace("\\", "/")
    parts = PurePosixPath(normalized).parts
    if (
        not normalized
        or "\x00" in normalized
        or normalized.startswith("/")
        or (len(normalized) > 1 and normalized[1] == ":")  # C:/...
        or any(part == ".." for part in parts)
    ):
        raise ExchangeError(f"{source}: unsafe zip entry {name!r} (it points outside the archive); refusing to read it")
    return normalized


class SafeArchive:
    """A .qdpx opened for reading: checked entry names, case-insensitive lookup, capped reads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.source = str(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise ExchangeError(f"{self.source}: no such file") from None
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            raise ExchangeError(f"{self.source}: not a readable .qdpx (zip) file ({_one_line(exc)})",
                                hint="the file may be truncated or not a REFI-QDA project export") from None
        infos = self._zip.infolist()
        if len(infos) > MAX_ENTRIES:
            self.close()
            raise ExchangeError(f"{self.source}: the archive has {len(infos)} entries (limit {MAX_ENTRIES}); refusing to read it")
        self.entries: dict[str, zipfile.ZipInfo] = {}
        self.total_read = 0
        try:
            for info in infos:
                name = check_entry_name(info.filename, self.source)
                if info.is_dir():
                    continue
                self.entries[name] = info
        except ExchangeError:
            self.close()
            raise

    def __enter__(self) -> SafeArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def names(self) -> list[str]:
        return sorted(self.entries)

    def find(self, name: str) -> str | None:
        """The entry whose path equals ``name`` ignoring case (``Sources/`` = ``sources/``)."""
        wanted = name.replace("\\", "/").lstrip("/").lower()
        for entry in self.entries:
            if entry.lower() == wanted:
                return entry
        return None

    def find_basename(self, basename: str) -> str | None:
        """The entry with this file name (ignoring case), preferring one in sources/."""
        wanted = basename.lower()
        hits = sorted((e for e in self.entries if PurePosixPath(e).name.lower() == wanted),
                      key=lambda e: (not e.lower().startswith("sources/"), e.count("/"), e))
        return hits[0] if hits else None

    def read(self, name: str, limit: int | None = None) -> bytes:
        """An entry's bytes, refusing more than ``limit`` bytes whatever the archive declares."""
        limit = MAX_MEMBER_BYTES if limit is None else limit
        info = self.entries[name]
        if info.file_size > limit:
            raise ExchangeError(f"{self.source}: {name} is {info.file_size} bytes uncompressed "
                                f"(limit {limit}); refusing to read it")
        if self.total_read + info.file_size > MAX_TOTAL_BYTES:
            raise ExchangeError(f"{self.source}: its parts expand past {MAX_TOTAL_BYTES // 2**20} MiB in total; "
                                "refusing to read it (possible zip bomb)")
        out = bytearray()
        try:
            with self._zip.open(info) as fh:
                while True:
                    chunk = fh.read(_CHUNK)
                    if not chunk:
                        break
                    out += chunk
                    if len(out) > limit:
                        raise ExchangeError(f"{self.source}: {name} expands past {limit} bytes; refusing to read it "
                                            "(possible zip bomb)")
        except ExchangeError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
            raise ExchangeError(f"{self.source}: cannot read {name} from the archive ({_one_line(exc)})",
                                hint="the file may be truncated or damaged; export it again") from None
        self.total_read += max(len(out), info.file_size)  # what it declares counts: it may hold that much
        return bytes(out)
