"""Editing a codebook file in place: add a code where it belongs, keeping comments and layout."""
from __future__ import annotations

import yaml

from qualcode.codebook.dump import CodebookDumper


def insert_code_text(text: str, codebook, code) -> str:
    """``text`` with ``code`` inserted as the last child of its parent, keeping comments and layout."""
    try:
        root = yaml.compose(text)
        if root is None:  # an empty file
            return ""
        m = _pairs(root)
        seq = m.get("codes")
        owner = root
        for segment in (code.parent.split("/") if code.parent else []):
            if seq is None:
                return ""
            owner = next(item for item in seq.value if _scalar(_pairs(item).get("id")) == segment)
            seq = _pairs(owner).get("children")
    except Exception:  # unusual layout: the caller falls back to a canonical dump
        return ""
    item = codebook._code_dict(code)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if seq is not None and isinstance(seq, yaml.SequenceNode) and not seq.flow_style and seq.value:
        dash_col = seq.value[0].start_mark.column - 2
        at = _content_end_line(seq)
        block = yaml.dump([item], Dumper=CodebookDumper, allow_unicode=True, sort_keys=False, width=100, indent=2)
    elif seq is None and owner is not root:
        at = _content_end_line(owner)
        dash_col = owner.start_mark.column  # 'children:' lines up with the parent's keys
        block = yaml.dump([item], Dumper=CodebookDumper, allow_unicode=True, sort_keys=False, width=100, indent=2)
        block = "children:\n" + "".join("  " + ln for ln in block.splitlines(keepends=True))
    else:
        return ""
    pad = " " * dash_col
    new = "".join(pad + ln if ln.strip() else ln for ln in block.splitlines(keepends=True))
    return "".join(lines[:at]) + new + "".join(lines[at:])


def _pairs(node) -> dict:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: v for k, v in node.value}


def _scalar(node):
    return getattr(node, "value", None)


def _content_end_line(node) -> int:
    """Index of the first line after ``node``'s last content (trailing comments not included)."""
    def end(n):
        if isinstance(n, yaml.ScalarNode) or getattr(n, "flow_style", False):
            return n.end_mark
        kids = [v for pair in n.value for v in pair] if isinstance(n, yaml.MappingNode) else list(n.value)
        return max((end(k) for k in kids), key=lambda m: (m.line, m.column), default=n.end_mark)

    mark = end(node)
    return mark.line if mark.column == 0 else mark.line + 1
