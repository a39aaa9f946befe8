"""Reports on a chosen set of codings, each a function returning a pandas DataFrame.

    from qualcode import Project
    from qualcode.reports import Selection, load, frequencies, saturation

    data = load(Project.find(), Selection(proposed=True))
    frequencies(data)            # per code, rolled up to parents
    curve, summary = saturation(data, base=4, run=2, threshold=0.05)

Modules: selection (Selection, load), counting (frequencies), cases, pairs (co-occurrence),
accumulation (saturation), exemplars (quotes), appendix (codebook table), bundle
(report_all), render/ (xlsx, Markdown, LaTeX, docx, HTML), plots, fonts, pipeline (run).
``report_all(project, output_dir)`` writes every table as xlsx, CSV, Markdown, LaTeX,
docx and HTML, plus the plots. Formulas and columns: docs/reports.md.
"""
from __future__ import annotations

from .selection import ReportData, Selection, load, role_group  # noqa: F401  (cheap: no pandas at import)

_LAZY = {
    "frequencies": ".counting", "frequencies_by": ".counting",
    "case_matrix": ".cases", "framework_matrix": ".cases", "stage_profile": ".cases",
    "cooccurrence": ".pairs", "cooccurrence_matrix": ".pairs", "pair_statistics": ".pairs",
    "saturation": ".accumulation", "guest_saturation": ".accumulation", "francis_stop": ".accumulation",
    "chao1": ".accumulation", "chao1_ci": ".accumulation", "chao2": ".accumulation",
    "expected_accumulation": ".accumulation",
    "quotes": ".exemplars", "codebook_table": ".appendix",
    "report_all": ".bundle", "build_tables": ".bundle", "ReportOptions": ".bundle", "Table": ".bundle",
}


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(name)


__all__ = ["ReportData", "Selection", "load", "role_group", *_LAZY]
