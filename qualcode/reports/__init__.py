"""Reports on a chosen set of codings, each a function returning a pandas DataFrame.

    from qualcode import Project
    from qualcode.reports import Selection, load, frequencies, saturation

    data = load(Project.find(), Selection(proposed=True))
    frequencies(data)            # per code, rolled up to parents
    curve, summary = saturation(data, base=4, run=2, threshold=0.05)

One module per report command, named as the command: frequencies, cases, framework,
cooccurrence, saturation, quotes, codebook, chain, subcodes, interviews; selection (Selection, load: which codings
count); placement (which units a coding counts in); bundle (report all); render/ (xlsx, Markdown, LaTeX, docx, HTML); plots; fonts.
``report_all(project, output_dir)`` writes every table as xlsx, CSV, Markdown, LaTeX,
docx and HTML, plus the plots. Formulas and columns: docs/reports.md.
"""
from __future__ import annotations

from qualcode.reports.bundle import ReportOptions, Table, build_tables, report_all
from qualcode.reports.cases import case_matrix, stage_profile
from qualcode.reports.chain import chain, chain_summary
from qualcode.reports.codebook import codebook_table
from qualcode.reports.cooccurrence import cooccurrence, cooccurrence_matrix, pair_statistics
from qualcode.reports.framework import framework_matrix
from qualcode.reports.frequencies import frequencies, frequencies_by
from qualcode.reports.interviews import interviews
from qualcode.reports.quotes import quotes
from qualcode.reports.saturation import (
    chao1,
    chao1_ci,
    chao2,
    expected_accumulation,
    francis_stop,
    guest_saturation,
    saturation,
)
from qualcode.reports.selection import ReportData, Selection, load, role_group
from qualcode.reports.subcodes import subcode_matrix, subcodes

__all__ = [
    "ReportData", "ReportOptions", "Selection", "Table", "build_tables", "case_matrix", "chain", "chain_summary",
    "chao1", "chao1_ci", "chao2",
    "codebook_table", "cooccurrence", "cooccurrence_matrix", "expected_accumulation", "framework_matrix",
    "francis_stop", "frequencies", "frequencies_by", "guest_saturation", "interviews", "load", "pair_statistics", "quotes",
    "report_all", "role_group", "saturation", "stage_profile", "subcode_matrix", "subcodes",
]
