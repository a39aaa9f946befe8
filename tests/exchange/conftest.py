"""The REFI-QDA tests' fixture: schema validation with the schemas shipped in the package."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def xsd():
    """validate(kind, xml_bytes): assert the bytes conform to the REFI-QDA schema ('project' | 'codebook'),
    using the copies shipped in the package (the same ones ``export --validate`` uses)."""
    from qualcode.exchange.schemas import schema_problems

    def validate(kind: str, data: bytes) -> None:
        problems = schema_problems(kind, data)
        assert not problems, "\n".join(problems)

    return validate
