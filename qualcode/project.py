"""Project: the facade the CLI calls. Finds, creates and opens a project directory."""
from __future__ import annotations

import getpass
import os
import shutil
import tomllib
from pathlib import Path
from typing import Any

from qualcode.codebook.load import load_codebook
from qualcode.data import data_path
from qualcode.errors import ConfigError, ProjectNotFound, QualcodeError
from qualcode.store import Store, queries
from qualcode.text.segment import Segmenter, read_dictionary

CONFIG_NAME = "qualcode.toml"
DB_NAME = "qualcode.db"
DICTIONARY_NAME = "dictionary.txt"
DEFAULT_CODEBOOK = "party_building_governance.yaml"


def bundled_codebooks_dir() -> Path:
    """The codebooks shipped inside the package (``qualcode/data/codebooks``)."""
    return data_path("codebooks")


_DICTIONARY_TEMPLATE = """\
# Project user dictionary for word segmentation (jieba format: one word per line,
# optionally followed by a frequency and a part-of-speech tag).
# Add place-specific terms that must stay whole, e.g.:
# 红色物业
# 邻里议事厅
"""


def find_root(start: Path | None = None) -> Path:
    """The project directory: QUALCODE_PROJECT, else ``start`` or the cwd and its parents."""
    env = os.environ.get("QUALCODE_PROJECT")
    if start is None and env:
        start = Path(env)
        if not (start / CONFIG_NAME).is_file():
            raise ProjectNotFound(
                f"QUALCODE_PROJECT={env} is not a qualcode project (no {CONFIG_NAME})",
                hint="point it at a directory made by 'qualcode init'",
            )
        return start.resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_NAME).is_file():
            return candidate
    raise ProjectNotFound(
        f"no qualcode project in {here} or its parents",
        hint="run 'qualcode init DIR' first, or pass --project DIR",
    )


def _db_url(root: Path, db: str) -> str:
    if "://" in db:
        return db
    path = Path(db)
    if not path.is_absolute():
        path = root / path
    return f"sqlite:///{path}"


class Project:
    """An open project: its settings (qualcode.toml) and its store."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        config = self.root / CONFIG_NAME
        try:
            self.settings: dict[str, Any] = tomllib.loads(config.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ProjectNotFound(f"{self.root} is not a qualcode project (no {CONFIG_NAME})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config}: {exc}", hint="fix the TOML syntax") from None
        db = os.environ.get("QUALCODE_DB") or self.settings.get("project", {}).get("db", DB_NAME)
        self.store = Store(_db_url(self.root, db))
        self.store.migrate()

    # -- creation and lookup ------------------------------------------------------------
    @classmethod
    def init(cls, path: Path, db: str | None = None, name: str | None = None) -> Project:
        import tomli_w

        root = Path(path).resolve()
        if (root / CONFIG_NAME).exists():
            raise QualcodeError(f"{root} is already a qualcode project", hint="use it, or choose another directory")
        if root.exists() and not root.is_dir():
            raise QualcodeError(f"{root} exists and is not a directory")
        root.mkdir(parents=True, exist_ok=True)
        for sub in ("codebooks", "outputs"):
            (root / sub).mkdir(exist_ok=True)
        source = bundled_codebooks_dir() / DEFAULT_CODEBOOK
        codebook = None
        if source.is_file():
            shutil.copyfile(source, root / "codebooks" / DEFAULT_CODEBOOK)
            codebook = f"codebooks/{DEFAULT_CODEBOOK}"
        if not (root / DICTIONARY_NAME).exists():
            (root / DICTIONARY_NAME).write_text(_DICTIONARY_TEMPLATE, encoding="utf-8")
        settings: dict[str, Any] = {
            "project": {
                "name": name or root.name,
                "db": db or DB_NAME,
                "default_coder": _default_coder(),
            }
        }
        if codebook:
            settings["project"]["codebook"] = codebook
        (root / CONFIG_NAME).write_text(tomli_w.dumps(settings), encoding="utf-8")
        return cls(root)

    @classmethod
    def find(cls, start: Path | None = None) -> Project:
        return cls(find_root(start))

    # -- settings -----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.settings.get("project", {}).get("name", self.root.name)

    @property
    def default_coder(self) -> str:
        return os.environ.get("QUALCODE_CODER") or self.settings.get("project", {}).get(
            "default_coder", _default_coder()
        )

    @property
    def dictionary_path(self) -> Path:
        return self.root / DICTIONARY_NAME

    def user_words(self, codebook=None) -> list[str]:
        """Words that must stay whole: dictionary.txt plus the terms of ``codebook`` (default:
        the project's codebook, loaded here when the caller has not loaded it already)."""
        words = read_dictionary(self.dictionary_path)
        if codebook is None and self.codebook_path is not None and self.codebook_path.is_file():
            codebook = self.codebook()
        if codebook is not None:
            words.extend(codebook.terms())
        return words

    def set_setting(self, key: str, value: str) -> None:
        """Change one [project] setting in qualcode.toml."""
        import tomli_w

        self.settings.setdefault("project", {})[key] = value
        tmp = self.root / (CONFIG_NAME + ".part")
        tmp.write_text(tomli_w.dumps(self.settings), encoding="utf-8")
        tmp.replace(self.root / CONFIG_NAME)

    def codebook(self, path: Path | None = None):
        """The project's codebook (or the one at ``path``), validated."""
        path = path or self.codebook_path
        if path is None:
            raise ConfigError("this project has no codebook", hint="set one with 'qualcode codebook use FILE'")
        # the cache only ever holds derived data: deleting it is always safe
        return load_codebook(path, cache_dir=self.root / ".qualcode_cache")

    def use_codebook(self, path: Path):
        """Validate ``path``, copy it into codebooks/ if it lives elsewhere, and make it current."""
        codebook = self.codebook(Path(path))
        target = Path(path).resolve()
        if self.root not in target.parents:
            dest = self.root / "codebooks" / target.name
            shutil.copyfile(target, dest)
            target = dest
        self.set_setting("codebook", target.relative_to(self.root).as_posix())
        return codebook

    @property
    def codebook_path(self) -> Path | None:
        rel = self.settings.get("project", {}).get("codebook")
        return (self.root / rel) if rel else None

    def segmenter(self, codebook=None):
        """jieba with the project's user words (see ``user_words``)."""
        return Segmenter(self.user_words(codebook))

    # -- documents ------------------------------------------------------------------------
    def document_id(self, ref: str | int) -> int:
        """Resolve a document by numeric id or name; unknown → NotFound with a suggestion."""
        return queries.resolve_document(self.store, str(ref))

    def close(self) -> None:
        self.store.dispose()


def _default_coder() -> str:
    try:
        return getpass.getuser() or "coder"
    except Exception:  # no user name in some containers
        return "coder"
