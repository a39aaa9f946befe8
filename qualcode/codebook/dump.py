"""Writing a codebook as YAML: canonical layout, block text for multi-line strings.

``dumps``/``dump`` write :meth:`Codebook.to_dict`; :class:`CodebookDumper` is the PyYAML
dumper they use, also for editing a codebook file in place. Comments are not kept;
content is, exactly (loading the output gives the same ``version``).
"""
from __future__ import annotations

from pathlib import Path

import yaml

from qualcode.codebook.model import Codebook


class CodebookDumper(yaml.SafeDumper):
    """SafeDumper with the codebook's layout for strings and lists."""


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


def _list_representer(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    # Short lists of short strings (term lists, roles) read best on one line.
    flow = all(isinstance(x, str) and "\n" not in x and len(x) <= 20 for x in data) and len(data) > 0
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


CodebookDumper.add_representer(str, _str_representer)
CodebookDumper.add_representer(list, _list_representer)


def dumps(codebook: Codebook) -> str:
    """The codebook as canonical YAML text."""
    return yaml.dump(
        codebook.to_dict(), Dumper=CodebookDumper, allow_unicode=True, sort_keys=False, width=100, indent=2
    )


def dump(codebook: Codebook, path: str | Path) -> None:
    """Write ``codebook`` to ``path`` (canonical YAML; loading it gives the same content)."""
    Path(path).write_text(dumps(codebook), encoding="utf-8")
