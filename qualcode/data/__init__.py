"""Files shipped inside the package: the bundled codebooks, the common-character list and the
REFI-QDA XML schemas (``refi_qda/README.md`` names their source). Nothing outside the
installed package is ever read."""
from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent


def data_path(*parts: str) -> Path:
    """A shipped file, e.g. ``data_path("codebooks", "template.yaml")``."""
    return DATA.joinpath(*parts)
