"""Project: the facade the CLI calls. Finds, creates and opens a project directory."""
from __future__ import annotations

import getpass
import os
import shutil
import tomllib
from pathlib import Path
from typing import Any

from qualcode import files
from qualcode.codebook.load import load_codebook
from qualcode.data import data_path
from qualcode.errors import ConfigError, ProjectNotFound, QualcodeError
from qualcode.store import Store, queries
from qualcode.text.segment import Segmenter, read_dictionary
from qualcode.vocabulary import SEGMENTERS, SegmenterKind

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


# [project] settings and the type each must have (a project may add keys of its own)
_SETTING_TYPES: dict[str, type] = {"name": str, "db": str, "codebook": str, "default_coder": str, "segmenter": str,
                                   "lang": str}
# The languages reports are written in ([project] lang, report --lang); a project made with the
# default (Chinese) codebook writes Chinese reports.
REPORT_LANGUAGES = ("zh", "en")
DEFAULT_REPORT_LANGUAGE = "zh"
# The segmenter a project made by 'qualcode init' uses; a project without the setting (made
# before it existed) keeps jieba, so its stored tokens stay valid (docs/segmentation.md).
NEW_PROJECT_SEGMENTER = SegmenterKind.JIEBA_RS


def check_settings(settings: dict[str, Any], config: Path) -> None:
    """ConfigError for a [project] value of the wrong type (``db = 42``, ``codebook = 7``)."""
    project = settings.get("project", {})
    if not isinstance(project, dict):
        raise ConfigError(f"{config}: [project] must be a table of settings", hint="see docs/ for qualcode.toml")
    for key, kind in _SETTING_TYPES.items():
        value = project.get(key)
        if value is not None and (not isinstance(value, kind) or not str(value).strip() or "\x00" in str(value)):
            raise ConfigError(f"{config}: [project] {key} must be a non-empty text in quotes, not {value!r:.40}",
                              hint=f'e.g. {key} = "..."')
    segmenter = project.get("segmenter")
    if segmenter is not None and segmenter not in SEGMENTERS:
        raise ConfigError(f"{config}: [project] segmenter must be one of {', '.join(SEGMENTERS)}, not {segmenter!r:.40}",
                          hint='e.g. segmenter = "jieba-rs" (changing it re-segments at the next autocode)')
    lang = project.get("lang")
    if lang is not None and lang not in REPORT_LANGUAGES:
        raise ConfigError(f"{config}: [project] lang must be one of {', '.join(REPORT_LANGUAGES)}, not {lang!r:.40}",
                          hint='e.g. lang = "zh" (the language of the reports)')


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
            # utf-8-sig: Notepad saves a BOM in front, which TOML does not allow
            self.settings: dict[str, Any] = tomllib.loads(config.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise ProjectNotFound(f"{self.root} is not a qualcode project (no {CONFIG_NAME})") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{config}: not UTF-8 text", hint="save qualcode.toml as UTF-8 text") from None
        except (tomllib.TOMLDecodeError, ValueError, RecursionError) as exc:
            raise ConfigError(f"{config}: {' '.join(str(exc).split())[:200]}", hint="fix the TOML syntax") from None
        except OSError as exc:
            raise ConfigError(f"{config}: cannot read it ({exc.strerror})") from None
        check_settings(self.settings, config)
        db = os.environ.get("QUALCODE_DB") or self.settings.get("project", {}).get("db", DB_NAME)
        url = _db_url(self.root, db)
        protected = [(config, f"the project's settings ({CONFIG_NAME})"),
                     (self.root / DICTIONARY_NAME, "the project's user dictionary")]
        if url.startswith("sqlite:///"):
            protected += files.database_files(Path(url[len("sqlite:///"):]))
        if self.codebook_path is not None:
            protected.append((self.codebook_path, "the project's codebook"))
        files.protect(protected)
        self.store = Store(url)
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
                "segmenter": str(NEW_PROJECT_SEGMENTER),
            }
        }
        if codebook:
            settings["project"]["codebook"] = codebook
            settings["project"]["lang"] = DEFAULT_REPORT_LANGUAGE  # the default codebook is Chinese
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
    def report_lang(self) -> str:
        """The language reports are written in (``[project] lang``; Chinese when not set)."""
        return self.settings.get("project", {}).get("lang", DEFAULT_REPORT_LANGUAGE)

    @property
    def default_coder(self) -> str:
        return os.environ.get("QUALCODE_CODER") or self.settings.get("project", {}).get(
            "default_coder", _default_coder()
        )

    @property
    def consensus_coder(self) -> str:
        """The coder name adjudication records the agreed codings under (``[team] consensus_coder``)."""
        name = self.settings.get("team", {}).get("consensus_coder", DEFAULT_CONSENSUS)
        return name.strip() if isinstance(name, str) and name.strip() else DEFAULT_CONSENSUS

    @property
    def adjudicators(self) -> tuple[str, ...]:
        """Coders who may remove or recode other coders' manual codings (``[team] adjudicators``)."""
        names = self.settings.get("team", {}).get("adjudicators", [])
        if isinstance(names, str):
            names = [n for n in names.split(",")]
        if not isinstance(names, list):
            return ()
        return tuple(n.strip() for n in names if isinstance(n, str) and n.strip())

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
        if key == "codebook" and self.codebook_path is not None:
            files.protect([(self.codebook_path, "the project's codebook")])
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

    @property
    def segmenter_kind(self) -> SegmenterKind:
        """``segmenter`` in qualcode.toml; ``jieba`` for a project made before the setting existed."""
        return SegmenterKind(self.settings.get("project", {}).get("segmenter", SegmenterKind.JIEBA))

    def segmenter(self, codebook=None):
        """The project's segmenter (``segmenter_kind``) with its user words (see ``user_words``)."""
        return Segmenter(self.user_words(codebook), self.segmenter_kind)

    # -- documents ------------------------------------------------------------------------
    def document_id(self, ref: str | int) -> int:
        """Resolve a document by numeric id or name; unknown → NotFound with a suggestion."""
        return queries.resolve_document(self.store, str(ref))

    def close(self) -> None:
        self.store.dispose()


DEFAULT_CONSENSUS = "consensus"


def _default_coder() -> str:
    try:
        return getpass.getuser() or "coder"
    except Exception:  # no user name in some containers
        return "coder"
