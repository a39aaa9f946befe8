"""REFI-QDA exchange: codebooks (.qdc) and whole projects (.qdpx) with NVivo, ATLAS.ti,
MAXQDA, QualCoder and other qualcode projects.

Public API:

* ``export_qdc(project, path, codebook=None, validate=False) -> ExportReport``
* ``export_qdpx(project, path, include_proposed=False, validate=False) -> ExportReport``
  (``validate``: check against the REFI-QDA schemas shipped in ``qualcode/data/refi_qda``)
* ``import_qdc(project, path) -> ImportReport``   (codebook → codebooks/*.yaml, made current)
* ``import_qdpx(project, path) -> ImportReport``  (into a project with no documents)
* ``read_qdc(path) -> (Codebook, warnings)``
* ``ExchangeError``: a file that cannot be read safely or is not REFI-QDA (one line).

Positions written are code points, end exclusive, over the exact text in ``sources/``.
See docs/exchange.md for the mapping of qualcode's model onto REFI-QDA.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from qualcode.errors import ExchangeError

if TYPE_CHECKING:  # pragma: no cover
    from qualcode.exchange.qdc import export_qdc, import_qdc, read_qdc
    from qualcode.exchange.qdpx import export_qdpx, import_qdpx

__all__ = ["ExchangeError", "export_qdc", "export_qdpx", "import_qdc", "import_qdpx", "read_qdc"]

# The REFI-QDA modules load on first use: every listing command prints through
# ``qualcode.exchange.tables``, which must not bring in the importer, the auto-coder and numpy.
_MODULE_OF = {"export_qdc": "qdc", "import_qdc": "qdc", "read_qdc": "qdc", "export_qdpx": "qdpx",
              "import_qdpx": "qdpx"}


def __getattr__(name: str):
    if name in _MODULE_OF:
        return getattr(importlib.import_module(f"qualcode.exchange.{_MODULE_OF[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
