"""Inter-coder agreement: coefficients, who saw which document, and the project comparison.

``coefficients``  pure functions on coders × units arrays and spans (alpha, kappa, uα …)
``assignments``   documents assigned to coders, and the documents each coder saw
``compare``       per-code and per-group agreement of a project, and the disagreements sheet

The function listing the assignment rows is ``assignments.assignments``; it is not
re-exported here, where the name ``assignments`` stays the submodule.
"""
from __future__ import annotations

from qualcode.agreement.assignments import assign, seen_documents
from qualcode.agreement.coefficients import (
    CI_LEVEL,
    N_BOOT,
    SEED,
    binary_alpha,
    binary_alpha_bootstrap,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    merge_spans,
    pairable_units,
    percent_agreement,
    unitized_alpha,
    unitizing_disagreement,
)
from qualcode.agreement.compare import (
    DISAGREEMENT_COLUMNS,
    UNITS,
    AgreementReport,
    CodeAgreement,
    GroupAgreement,
    compute,
    disagreements,
)

__all__ = [
    "CI_LEVEL",
    "DISAGREEMENT_COLUMNS",
    "N_BOOT",
    "SEED",
    "UNITS",
    "AgreementReport",
    "CodeAgreement",
    "GroupAgreement",
    "assign",
    "binary_alpha",
    "binary_alpha_bootstrap",
    "cohen_kappa",
    "compute",
    "disagreements",
    "fleiss_kappa",
    "krippendorff_alpha",
    "merge_spans",
    "pairable_units",
    "percent_agreement",
    "seen_documents",
    "unitized_alpha",
    "unitizing_disagreement",
]
