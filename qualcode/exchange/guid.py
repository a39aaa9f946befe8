"""Deterministic GUIDs: the same project object gets the same GUID in every export.

Each project has a namespace UUID kept in qualcode.toml (``[project] guid``, created on the
first export); an object's GUID is uuid5(namespace, "kind:key"), where the key is what
identifies the object in qualcode (a document name, a code path, a coder ...).
"""
from __future__ import annotations

import re
import uuid

# Fixed root namespace for qualcode (uuid5 of the URL namespace and "qualcode").
QUALCODE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://qualcode.invalid/refi-qda")
_GUID_RE = re.compile(r"^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$")


def project_namespace(project) -> uuid.UUID:
    """The project's namespace UUID; created and saved in qualcode.toml the first time."""
    value = project.settings.get("project", {}).get("guid")
    if value:
        try:
            return uuid.UUID(str(value))
        except ValueError:
            pass
    ns = uuid.uuid4()
    project.set_setting("guid", str(ns))
    return ns


class Guids:
    """GUIDs for one export: ``guids("doc", name)`` → '0f1e…' (lower-case, no braces)."""

    def __init__(self, namespace: uuid.UUID):
        self.namespace = namespace

    def __call__(self, kind: str, *key: object) -> str:
        text = kind + ":" + "\x1f".join(str(k) for k in key)
        return str(uuid.uuid5(self.namespace, text))


def normalize_guid(value: str | None) -> str | None:
    """Compare GUIDs case-insensitively and without braces; non-GUID ids are kept (lower-cased)."""
    if value is None:
        return None
    value = value.strip()
    m = _GUID_RE.match(value)
    return (m.group(1) if m else value).lower() or None
