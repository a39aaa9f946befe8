"""``qualcode run``: import the corpus once, auto-code it, write every report."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qualcode.autocode.run import autocode
from qualcode.autocode.scoring import clear_confidence, scorer_setting
from qualcode.autocode.suggest import attach_confidence
from qualcode.errors import ConfigError
from qualcode.ingest.manifest import load_manifest
from qualcode.ingest.pipeline import ImportOptions, import_paths
from qualcode.reports.bundle import ReportOptions, report_all
from qualcode.reports.chain import chain, chain_summary
from qualcode.reports.selection import Selection, load
from qualcode.store import queries


def default_corpus(project) -> Path:
    """./corpus inside the project or in the current directory (never a path beside the installed package)."""
    for candidate in (project.root / "corpus", Path.cwd() / "corpus"):
        if (candidate / "manifest.csv").is_file() or candidate.is_dir():
            return candidate
    raise ConfigError("no corpus to import", hint="pass --corpus DIR (a folder of transcripts)")


@dataclass
class RunResult:
    """What ``qualcode run`` produced: the report folder, the files by kind, the codings counted."""

    output: Path
    written: dict[str, list]  # kind (tables, latex, plots …) → paths, plus "warnings"
    selection: Selection


def run_pipeline(project, corpus: Path | None = None, manifest: Path | None = None, output: Path | None = None,
                 plots: bool = True, lang: str | None = None, progress: Callable[[str], None] = lambda line: None) -> RunResult:
    """Import (only when the project has no documents yet), auto-code, report.

    ``lang``: the reports' language (zh or en; default: the project's ``lang`` setting).
    Reports count accepted and manual codings; while there are none (right after the first
    auto-coding) they count the proposals instead, and say so.
    """
    n_docs = queries.count_documents(project.store)
    if n_docs == 0:
        corpus = Path(corpus) if corpus else default_corpus(project)
        manifest = Path(manifest) if manifest else (corpus / "manifest.csv")
        man = None
        if manifest.is_file():
            man = load_manifest(manifest)
        report = import_paths(project, [corpus], ImportOptions(manifest=man))
        progress(f"Imported {corpus}" + (f" with {manifest.name}" if man else "") + f": {report.summary()}")
    else:
        progress(f"{n_docs} documents already imported; not importing again")
    codebook = project.codebook()
    coded = autocode(project, codebook)
    progress(f"Auto-coded {coded.units} passages in {coded.documents} documents with "
             f"{Path(coded.codebook).name}: {coded.summary()}")
    if scorer_setting(project) == "combined":
        progress(f"Combined scorer: {attach_confidence(project, codebook).summary()}")
    else:
        clear_confidence(project.store)
    reviewed = queries.count_counted_codings(project.store)
    selection = Selection(proposed=reviewed == 0)
    if reviewed == 0:
        progress("No accepted or manual codings yet: the reports count the unreviewed proposals")
    else:
        progress(f"Reporting on {reviewed} accepted and manual codings (proposals are left out)")
    output = Path(output) if output else project.root / "outputs"
    data = load(project, selection, codebook=codebook)
    written = report_all(project, output, options=ReportOptions(plots=plots, lang=lang or project.report_lang), data=data)
    for line in chain_summary(chain(data)):  # the framework's chain: where each case breaks
        progress(f"Chain: {line}")
    return RunResult(output, written, selection)
