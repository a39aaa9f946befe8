"""Validation against the REFI-QDA XML schemas shipped in ``qualcode/data/refi_qda``."""
from __future__ import annotations

from functools import cache

from qualcode.data import data_path

SCHEMA_FILES = {"project": "Project-mrt2019.xsd", "codebook": "Codebook-mrt2019.xsd"}


@cache
def _schema(kind: str):
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(data_path("refi_qda", SCHEMA_FILES[kind]))))


def schema_problems(kind: str, xml: bytes) -> list[str]:
    """Every way ``xml`` departs from the REFI-QDA ``kind`` schema ('project' | 'codebook'), one line each."""
    from lxml import etree

    schema = _schema(kind)
    if schema.validate(etree.fromstring(xml).getroottree()):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
