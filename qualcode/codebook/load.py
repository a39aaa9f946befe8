"""Reading a codebook: file or text to a validated :class:`Codebook`, with a parse cache.

``load_codebook(path)`` reads a YAML file, ``parse_codebook(text)`` YAML text; both compose
the YAML node tree and hand it to ``qualcode.codebook.validate``, which raises every
problem at once as :class:`CodebookError`. With ``cache_dir`` they remember which contents
libyaml reads exactly as PyYAML does, so that loading them again is several times faster
(:class:`_LibyamlChecks`), and keep the validated codebook of each content as plain JSON
(:class:`_ValidatedCache`), so that a command that only needs the codebook skips validation.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from qualcode import __version__
from qualcode.codebook.model import Codebook, CodebookError
from qualcode.codebook.validate import validate_tree


def load_codebook(path: str | Path, cache_dir: Path | None = None) -> Codebook:
    """Read and validate a codebook file; raise CodebookError listing every problem.

    ``cache_dir``: where to remember which contents libyaml reads exactly as PyYAML does, so
    that loading them again is several times faster (see :class:`_LibyamlChecks`)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise CodebookError(str(p), [f"{p}:1: cannot read the file: {e.strerror or e}"]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CodebookError(str(p), [f"{p}:1: the file is not UTF-8 ({e.reason} at byte {e.start})"]) from None
    return parse_codebook(text, source=str(p), name=p.stem, cache_dir=cache_dir)


def parse_codebook(text: str, source: str = "<codebook>", name: str | None = None,
                   cache_dir: Path | None = None) -> Codebook:
    """Validate YAML ``text`` into a Codebook; ``source`` names it in problem messages;
    ``cache_dir`` as for :func:`load_codebook`."""
    default_name = name or Path(source).stem or "codebook"
    validated = _ValidatedCache(Path(cache_dir), text, source, default_name) if cache_dir is not None else None
    if validated is not None and (cached := validated.get()) is not None:
        return cached
    checks = _LibyamlChecks(Path(cache_dir), text, _LIBYAML) if cache_dir is not None and _LIBYAML else None
    try:
        root, loader, problem = _parse(text, source, checks)
        if problem is not None:
            raise CodebookError(source, [problem])
        codebook = validate_tree(root, loader, source, default_name)
    except RecursionError:  # thousands of nested brackets, or an alias that contains itself
        raise CodebookError(source, [f"{source}:1: (yaml): nested too deeply, or an alias (*name) that refers to "
                                     "itself; a codebook is a tree a few levels deep"]) from None
    if validated is not None:
        validated.put(codebook)
    return codebook


_LIBYAML = getattr(yaml, "CSafeLoader", None)  # None: PyYAML was built without libyaml


def _parse(text: str, source: str, checks: _LibyamlChecks | None) -> tuple[yaml.Node | None, Any, str | None]:
    """The node tree (None for an empty document) and its loader, or a problem for invalid YAML."""
    if checks is not None and checks.passed():
        root, loader = _compose(text, checks.loader_class)
        return root, loader, None
    try:
        root, loader = _compose(text, yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        what = " ".join(x for x in (getattr(e, "context", None), getattr(e, "problem", None)) if x) or str(e)
        return None, None, f"{source}:{line}: (yaml): not valid YAML: {what}"
    if checks is not None:
        checks.compare(root)
    return root, loader, None


def _compose(text: str, loader_class: type) -> tuple[yaml.Node | None, Any]:
    """The document's node tree and the loader (it constructs the scalars later)."""
    loader = loader_class(text)
    try:
        return loader.get_single_node(), loader
    finally:
        loader.dispose()


def _same_tree(a: yaml.Node | None, b: yaml.Node | None, seen: set | None = None) -> bool:
    """Whether two node trees are the same for the validator: kinds, tags, values and lines."""
    if a is None or b is None:
        return a is b
    seen = set() if seen is None else seen
    if (id(a), id(b)) in seen:  # an alias of a pair compared (or being compared) already
        return True
    seen.add((id(a), id(b)))
    if type(a) is not type(b) or a.tag != b.tag or a.start_mark.line != b.start_mark.line:
        return False
    if isinstance(a, yaml.ScalarNode):
        return a.value == b.value
    flat_a, flat_b = ([x for pair in n.value for x in pair] if isinstance(n, yaml.MappingNode) else n.value
                      for n in (a, b))
    return len(flat_a) == len(flat_b) and all(_same_tree(x, y, seen) for x, y in zip(flat_a, flat_b))


class _LibyamlChecks:
    """Codebook contents that libyaml has been checked to read exactly as PyYAML does.

    libyaml composes a codebook several times faster than PyYAML's pure-Python parser, but
    it accepts some text PyYAML rejects (tabs, '?' in flow sequences), and a codebook must
    read the same everywhere: with PyYAML built without libyaml, and in ``annotate``'s
    in-place editing. So new content is parsed by PyYAML and compared with libyaml's tree;
    when they agree, its hash goes into a small file and later loads use libyaml alone. The
    file holds hashes only, so a stale, foreign or unreadable one just means parsing with
    PyYAML again.
    """

    KEEP = 16  # contents remembered (a few codebooks, a few edits back)

    def __init__(self, folder: Path, text: str, loader_class: type):
        self.path = folder / "libyaml-checked.txt"
        self.text = text
        self.loader_class = loader_class  # libyaml's
        versions = (__version__, yaml.__version__, yaml._yaml.get_version_string())
        self.key = hashlib.sha256("\0".join((*versions, text)).encode("utf-8")).hexdigest()

    def _known(self) -> list[str]:
        try:
            return self.path.read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError):
            return []

    def passed(self) -> bool:
        return self.key in self._known()

    def compare(self, root: yaml.Node | None) -> None:
        """Remember the content when libyaml's tree equals PyYAML's ``root``."""
        try:
            same = _same_tree(root, _compose(self.text, self.loader_class)[0])
        except (yaml.YAMLError, RecursionError):
            same = False
        if not same:
            return
        keep = [k for k in self._known() if k != self.key][-(self.KEEP - 1):] + [self.key]
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.part")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text("\n".join(keep) + "\n", encoding="ascii")
            tmp.replace(self.path)
        except OSError:  # e.g. a read-only project: PyYAML parses every time, as before
            pass



class _Uncacheable(Exception):
    """A value JSON cannot carry exactly (a date in ``meta`` …): validate every time instead."""


def _plain(value: Any) -> Any:
    """The model as JSON data: dataclasses as objects of their fields, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise _Uncacheable
        return {k: _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise _Uncacheable


def _build(kind: Any, data: Any) -> Any:
    """The value of type ``kind`` (a model annotation) that :func:`_plain` turned into ``data``."""
    if kind is Any:
        return data
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Union or origin is types.UnionType:
        options = [a for a in args if a is not type(None)]
        if data is None:
            return None
        if len(options) != 1:
            raise _Uncacheable
        return _build(options[0], data)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        return kind(**{k: _build(hints[k], v) for k, v in data.items()})
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], x) for x in data)
        return tuple(_build(a, x) for a, x in zip(args, data, strict=True))
    if origin is list:
        return [_build(args[0], x) for x in data]
    if origin is dict:
        return {k: _build(args[1], v) for k, v in data.items()}
    if kind is float and isinstance(data, int) and not isinstance(data, bool):
        return data  # kept as validation left it (1 stays 1)
    if not isinstance(data, kind):
        raise _Uncacheable
    return data


@functools.cache
def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


class _ValidatedCache:
    """The validated codebook of one content, as plain JSON beside the libyaml checks.

    Keyed by the sha256 of the text, the source and default name, and the versions of qualcode
    and PyYAML: any edit, upgrade or move validates again. JSON, never pickle: a project folder
    may be shared, and opening it must not run code someone else put there. A missing, stale or
    unreadable file only means validating again.
    """

    FORMAT = 1

    def __init__(self, folder: Path, text: str, source: str, default_name: str):
        self.key = hashlib.sha256("\0".join(
            (str(self.FORMAT), __version__, yaml.__version__, source, default_name, text)).encode("utf-8")).hexdigest()
        self.path = folder / f"codebook-{hashlib.sha256(source.encode('utf-8')).hexdigest()[:16]}.json"

    def get(self) -> Codebook | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("key") != self.key:
                return None
            codebook = _build(Codebook, data["codebook"])
        except (OSError, ValueError, TypeError, KeyError, AttributeError, _Uncacheable):
            return None
        return codebook if isinstance(codebook, Codebook) else None

    def put(self, codebook: Codebook) -> None:
        try:
            # ASCII: a lone surrogate from a YAML escape ("\\ud800") survives the round trip
            blob = json.dumps({"key": self.key, "codebook": _plain(codebook)}, allow_nan=True)
        except (_Uncacheable, ValueError):
            return
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.part")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(blob, encoding="ascii")
            tmp.replace(self.path)
        except OSError:  # a read-only project validates every time, as before
            tmp.unlink(missing_ok=True)
