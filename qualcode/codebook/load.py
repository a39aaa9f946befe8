"""Reading a codebook: file or text to a validated :class:`Codebook`, with a parse cache.

``load_codebook(path)`` reads a YAML file, ``parse_codebook(text)`` YAML text; both compose
the YAML node tree and hand it to ``qualcode.codebook.validate``, which raises every
problem at once as :class:`CodebookError`. With ``cache_dir`` they remember which contents
libyaml reads exactly as PyYAML does, so that loading them again is several times faster
(:class:`_LibyamlChecks`).
"""
from __future__ import annotations

import hashlib
import os
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
    checks = _LibyamlChecks(Path(cache_dir), text, _LIBYAML) if cache_dir is not None and _LIBYAML else None
    try:
        root, loader, problem = _parse(text, source, checks)
        if problem is not None:
            raise CodebookError(source, [problem])
        return validate_tree(root, loader, source, name or Path(source).stem or "codebook")
    except RecursionError:  # thousands of nested brackets, or an alias that contains itself
        raise CodebookError(source, [f"{source}:1: (yaml): nested too deeply, or an alias (*name) that refers to "
                                     "itself; a codebook is a tree a few levels deep"]) from None


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

