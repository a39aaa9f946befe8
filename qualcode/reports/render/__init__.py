"""Writing a built report bundle in every format ``report all`` produces."""
from __future__ import annotations

from pathlib import Path

from qualcode import files
from qualcode.errors import QualcodeError
from qualcode.exchange.tables import csv_text
from qualcode.reports import plots as plotting
from qualcode.reports.render.common import records
from qualcode.reports.render.docx import write_docx
from qualcode.reports.render.html import html_report
from qualcode.reports.render.latex import latex_files
from qualcode.reports.render.markdown import markdown_report
from qualcode.reports.render.xlsx import write_xlsx

LAYOUT = {
    "xlsx": "report.xlsx", "csv": "csv/", "markdown": "report.md", "latex": "latex/", "docx": "report.docx",
    "html": "report.html", "plots": "plots/",
}


def _write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    return files.write_text(path, text, encoding=encoding, newline="\n")


def write_all(bundle, output: Path, plots: bool | None = None) -> dict:
    """Write ``bundle`` under ``output``; returns {kind: [paths], "warnings": [...]}."""
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise files.OutputError(f"{output} is not a folder; report all writes a folder of files",
                                hint="give --output a folder name")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise files.os_error(exc, str(output)) from None
    written: dict[str, list[Path]] = {k: [] for k in LAYOUT}
    warnings: list[str] = []

    xlsx = output / LAYOUT["xlsx"]
    write_xlsx(bundle.tables, xlsx, lang=bundle.options.lang, codes=frozenset(bundle.data.codes["code"]))
    written["xlsx"].append(xlsx)
    for t in bundle.tables:
        cols = [str(c) for c in t.df.columns]
        written["csv"].append(_write_text(output / "csv" / f"{t.name}.csv", csv_text(records(t.df), cols),
                                          encoding="utf-8-sig"))
    written["markdown"].append(_write_text(output / LAYOUT["markdown"], markdown_report(bundle)))
    for name, text in latex_files(bundle).items():
        written["latex"].append(_write_text(output / "latex" / name, text))
    docx = output / LAYOUT["docx"]
    write_docx(bundle, docx)
    written["docx"].append(docx)

    svgs: dict[str, str] = {}
    if bundle.options.plots if plots is None else plots:
        try:
            for name, paths in plotting.write_plots(bundle, output / "plots", skipped=warnings).items():
                written["plots"].extend(paths)
                for path in (p for p in paths if p.suffix == ".svg"):  # the chain has one figure per case
                    svg = path.read_text(encoding="utf-8")
                    svgs[name if name != "chain" else path.stem] = svg[svg.find("<svg"):]
        except QualcodeError as exc:  # e.g. no CJK font: the tables are still worth having
            warnings.append(f"plots skipped: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
    written["html"].append(_write_text(output / LAYOUT["html"], html_report(bundle, svgs)))
    return {**written, "warnings": warnings}
