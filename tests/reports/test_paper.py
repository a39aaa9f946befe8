"""The paper outputs as a journal prints them: one language, A4, n (%), tables numbered in the
order the text cites them, quotes in an appendix; the bundled corpus's LaTeX compiled with
xelatex and its docx rendered by LibreOffice (tools .ci/run installs; skipped elsewhere,
failing in CI)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qualcode.reports import load
from qualcode.reports.bundle import ReportOptions, build_tables
from qualcode.reports.render.common import MARGINS_MM
from qualcode.reports.render.docx import write_docx
from qualcode.reports.render.latex import latex_files
from qualcode.reports.render.markdown import markdown_report
from qualcode.reports.selection import Selection
from qualcode.text.script import traditional_share

MM = 72 / 25.4


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{', '.join(missing)} missing: .ci/run installs them")
        pytest.skip(f"{', '.join(missing)} not installed (.ci/run installs them)")


def _docx_text(path: Path) -> list[str]:
    from docx import Document

    return [p.text for p in Document(path).paragraphs]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_one_language_per_output(small, tmp_path, lang):
    bundle = build_tables(load(small), ReportOptions(lang=lang))
    write_docx(bundle, tmp_path / "r.docx")
    paragraphs = _docx_text(tmp_path / "r.docx")
    md = markdown_report(bundle)
    tex = latex_files(bundle)
    if lang == "en":
        assert "Table 1 Codebook" in paragraphs and not any(p.startswith(("表", "注：")) for p in paragraphs)
        assert "### Table 2 Code frequencies" in md and "注：" not in md and "| Code | Label |" in md
        assert r"\renewcommand{\tablename}{Table}" in tex["report.tex"]
        assert "| construction | Construction |" in md  # code labels in English too
    else:
        assert "表1 编码表" in paragraphs and any(p.startswith("注：") for p in paragraphs)
        assert not any(p.startswith(("Table", "Note:")) for p in paragraphs)
        assert "### 表2 编码频次" in md and "Note:" not in md and "| 编码 | 名称 |" in md
        assert r"\renewcommand{\tablename}{表}" in tex["report.tex"]


def test_counts_as_n_percent_with_the_denominator_named(small):
    data = load(small)
    bundle = build_tables(data)
    freq = bundle.table("frequencies")
    row = freq.paper.set_index("code").loc["construction/network"]
    passages = int(freq.df.set_index("code").at["construction/network", "passages"])
    assert row["passages_pct"] == f"{passages} ({100 * passages / data.n_passages:.1f})"
    assert f"N = {data.n_passages}" in freq.notes("zh") and f"N = {data.n_passages}" in freq.notes("en")
    # a table of shares per case: n (%) of the case's passages, N in the column header
    share = bundle.table("case_share").paper
    sizes = data.passages_per(data.groups("case"))
    assert [c for c in share.columns if "(N=" in c] == [f"{g} (N={int(n)})" for g, n in sizes.items()] + [
        f"合计 (N={data.n_passages})"]
    assert all(re.fullmatch(r"\d+ \(\d+\.\d\)", v) for c in share.columns[1:] for v in share[c])


def test_tables_are_numbered_as_cited_and_quotes_follow_in_an_appendix(small, tmp_path):
    bundle = build_tables(load(small))
    write_docx(bundle, tmp_path / "r.docx")
    paragraphs = _docx_text(tmp_path / "r.docx")
    captions = [p for p in paragraphs if re.match(r"附?表\d+ ", p)]
    cited = next(p for p in paragraphs if p.startswith("表1至表"))
    main = [c.split(" ", 1)[1] for c in captions if c.startswith("表")]
    assert cited == f"表1至表{len(main)}依次为：" + "；".join(main) + "。"  # the text cites them in their order
    assert [int(c.split(" ")[0][1:]) for c in captions if c.startswith("表")] == list(range(1, len(main) + 1))
    appendix = paragraphs.index("附录 典型引语")
    assert all(paragraphs.index(c) < appendix for c in captions if c.startswith("表"))
    assert paragraphs[appendix + 1] == "附表1 典型引语"


def test_docx_pages_are_a4_with_journal_margins(small, tmp_path):
    from docx import Document

    write_docx(build_tables(load(small)), tmp_path / "r.docx")
    for section in Document(tmp_path / "r.docx").sections:
        assert sorted([round(section.page_width.mm), round(section.page_height.mm)]) == [210, 297]
        assert round(section.left_margin.mm, 1) == MARGINS_MM["left"]


def test_interviewee_codes_wherever_a_quote_is_listed(small):
    bundle = build_tables(load(small))
    quotes = bundle.table("quotes").paper
    assert (quotes["role"] != "").all()
    codebook = bundle.table("codebook").paper.set_index("code")
    assert codebook.at["construction/network", "example"].endswith("（社区党组织书记A）")


# -- the bundled corpus compiled and rendered -------------------------------------------------


@pytest.fixture(scope="module")
def corpus_reports(tmp_path_factory):
    """``report all --lang zh`` and ``--lang en`` of the bundled corpus (auto-coded), no plots."""
    from qualcode.autocode.run import autocode
    from qualcode.ingest.manifest import load_manifest
    from qualcode.ingest.model import ImportOptions
    from qualcode.ingest.pipeline import import_paths
    from qualcode.project import Project
    from qualcode.reports.render import write_all

    corpus = Path(__file__).parents[2] / "corpus"
    root = tmp_path_factory.mktemp("paper")
    project = Project.init(root / "p")
    import_paths(project, [corpus], ImportOptions(manifest=load_manifest(corpus / "manifest.csv")))
    autocode(project, project.codebook())
    data = load(project, Selection(proposed=True))
    out = {}
    for lang in ("zh", "en"):
        write_all(build_tables(data, ReportOptions(lang=lang, plots=False)), root / lang)
        out[lang] = root / lang
    out["latin"] = _corpus_latin(project, data)
    project.close()
    return out


# Latin a Chinese table may hold besides the data's own (statistics and their authors, units)
ALLOWED_LATIN = {"Jaccard", "Fisher", "BH", "PMI", "Chao2", "CI", "Guest", "Francis", "Hennink", "et", "al",
                 "Benjamini", "Hochberg", "ATLAS.ti", "c", "Q1", "Q2", "b+r", "P5", "P95", "n", "N", "p", "q"}
LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_.+]*[A-Za-z0-9+]|[A-Za-z]")


def _corpus_latin(project, data) -> frozenset[str]:
    """Latin words that are the data's own: code ids and their parts, document, coder and project
    names, and every Latin word the transcripts contain (quotes print them as spoken)."""
    import sqlalchemy as sa

    from qualcode.store.schema import documents

    with project.store.read() as conn:
        texts = [r[0] for r in conn.execute(sa.select(documents.c.text))]
    names = [*data.codes["code"], *data.documents["document"], *data.codings["coder"].dropna().astype(str),
             data.project_name, *texts]
    words = {w for text in names for w in LATIN.findall(str(text))}
    return frozenset(words | {seg for c in data.codes["code"] for seg in c.split("/")})


def english_words(texts, allowed: frozenset[str]) -> list[str]:
    """Latin words in ``texts`` that are neither the data's own (``allowed``) nor in ALLOWED_LATIN,
    a code path's segments counting as the code's id."""
    found = []
    for text in texts:
        for path in re.findall(r"[a-z_]+(?:/[a-z_]+)+", text):
            if all(seg in allowed for seg in path.split("/")):
                text = text.replace(path, " ")
        found += [w for w in LATIN.findall(text) if w not in allowed and w not in ALLOWED_LATIN]
    return sorted(set(found))


def _latex_text(folder: Path) -> list[str]:
    """What a reader sees of report.tex and its tables: the text with commands and their
    technical arguments (environments, column specs, labels, files) left out."""
    out = []
    for path in sorted(folder.glob("*.tex")):
        tex = path.read_text(encoding="utf-8")
        tex = tex.split(r"\begin{document}", 1)[-1]
        tex = re.sub(r"(?<!\\)%.*", "", tex)
        tex = re.sub(r"\\begin\{longtable\}\{.*", "", tex)
        tex = re.sub(r"\\(begin|end|input|label)\{[^}]*\}", " ", tex)
        tex = re.sub(r"\\text(backslash|asciitilde|asciicircum)\{\}", " ", tex)
        tex = re.sub(r"\\[A-Za-z@]+\*?", " ", tex)
        out.append(re.sub(r"\\([%&$#_{}])", r"\1", tex))
    return out


def test_the_chinese_outputs_print_no_english_words(corpus_reports):
    """The zh Markdown, docx, LaTeX and workbook of the bundled corpus: every caption, note, header
    and value in Chinese; only code ids, names, the transcripts' own words and the statistics'
    names (Jaccard, Chao2, Fisher p …) in Latin."""
    from docx import Document
    from openpyxl import load_workbook

    folder, allowed = corpus_reports["zh"], corpus_reports["latin"]
    md = re.sub(r"&(lt|gt|amp);", " ", (folder / "report.md").read_text(encoding="utf-8"))
    doc = Document(folder / "report.docx")
    docx = [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
    book = load_workbook(folder / "report.xlsx", read_only=True)
    xlsx = [v for ws in book for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)]
    latex = _latex_text(folder / "latex")
    assert len(docx) > 1000 and len(xlsx) > 1000 and "表1" in md and r"\caption{编码表}" in "".join(
        (folder / "latex" / "codebook.tex").read_text(encoding="utf-8"))
    for name, texts in (("report.md", [md]), ("report.docx", docx), ("latex/", latex), ("report.xlsx", xlsx)):
        assert english_words(texts, allowed) == [], name
    # the check finds what it looks for: the English report is full of such words
    assert {"Codebook", "Note", "overall"} <= set(english_words(
        [(corpus_reports["en"] / "report.md").read_text(encoding="utf-8")], allowed))


def _pdfinfo(pdf: Path) -> dict[str, str]:
    text = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_corpus_latex_compiles_without_overfull_boxes_or_missing_characters(corpus_reports, lang):
    need("xelatex", "pdfinfo", "pdftotext")
    folder = corpus_reports[lang] / "latex"
    for _ in range(2):  # longtable settles its column widths on the second run
        run = subprocess.run(["xelatex", "-interaction=nonstopmode", "-halt-on-error", "report.tex"], cwd=folder,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout[-2000:]
    log = (folder / "report.log").read_text(encoding="utf-8", errors="replace")
    overfull = [float(w) for w in re.findall(r"Overfull \\hbox \((\d+\.?\d*)pt too wide\)", log)]
    assert [w for w in overfull if w > 1] == []
    assert "Missing character" not in log
    typeset = subprocess.run(["pdftotext", str(folder / "report.pdf"), "-"], capture_output=True, text=True,
                             check=True).stdout
    assert traditional_share(typeset) > 0  # traditional characters (the corpus's 繁體 transcript) typeset too
    info = _pdfinfo(folder / "report.pdf")
    pages = int(info["Pages"])
    sizes = {v.strip() for k, v in info.items() if k.startswith("Page") and "size" in k}
    assert sizes and all("595.2" in s and "841.8" in s or "841.8" in s and "595.2" in s for s in sizes)  # A4
    # every table is there, in order, and the appendix of quotes comes last, on pages of its own
    text = subprocess.run(["pdftotext", str(folder / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    n_tables = len(re.findall(r"\\input\{", (folder / "report.tex").read_text(encoding="utf-8")))
    word = "表" if lang == "zh" else "Table "
    page_of = {m.group(1): text[:m.start()].count("\f") for m in re.finditer(r"((?:附表|表|Table A?) ?\d+)", text)}
    if lang == "zh":  # 表1 as the docx prints it, in the captions and where the text cites them
        assert "表1 编码表" in text and "表1至表" in text and not re.search(r"表 \d", text)
    main = [f"{word}{i}" for i in range(1, n_tables)]
    assert all(label in page_of for label in main), sorted(page_of)
    assert [page_of[label] for label in main] == sorted(page_of[label] for label in main)  # in citation order
    heading = re.search(r"附录\s*典型引语" if lang == "zh" else r"Appendix:\s*exemplar quotes", text)
    assert heading is not None
    appendix = text[:heading.start()].count("\f")
    assert page_of[main[-1]] < appendix < pages  # the quotes on pages of their own after the last table
    assert line_starts(folder / "report.pdf") == []  # no line starts with 」，。、；：？！）》


CLOSING = "」』）》，。、；：？！"


def line_starts(pdf: Path) -> list[str]:
    """Words that start a typeset line with closing punctuation: no word ends within about an
    em to their left on the same line (pdftotext -layout puts a compressed 。 of "）。" on a line
    of its own, so the words' boxes are compared instead)."""
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    found = []
    for number, page in enumerate(re.split(r"<page ", bbox)[1:], start=1):
        words = [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)', page)]
        for x0, y0, _, y1, word in words:
            height = y1 - y0
            if word[:1] in CLOSING and not any(
                    v[0] < x0 and v[2] >= x0 - 1.2 * height and min(v[3], y1) - max(v[1], y0) > 0.3 * height
                    for v in words):
                found.append(f"page {number}: {word}")
    return found


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_corpus_docx_renders_on_a4_with_no_table_off_the_page(corpus_reports, lang, tmp_path):
    need("soffice", "pdftotext", "pdfinfo")
    run = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to",
                          "pdf", "--outdir", str(tmp_path), str(corpus_reports[lang] / "report.docx")],
                         capture_output=True, text=True, timeout=300)
    pdf = tmp_path / "report.pdf"
    assert run.returncode == 0 and pdf.exists(), run.stderr
    bbox = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    margin, slack = MARGINS_MM["left"] * MM, 3.0
    pages = re.split(r"<page ", bbox)[1:]
    assert pages
    for number, page in enumerate(pages, start=1):
        width, height = (float(v) for v in re.search(r'width="([\d.]+)" height="([\d.]+)"', page).groups())
        assert sorted([round(width), round(height)]) == [595, 842], f"page {number} is not A4"
        for x_min, x_max, word in re.findall(r'xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)',
                                             page):
            assert float(x_min) >= margin - slack and float(x_max) <= width - margin + slack, (
                f"page {number}: {word!r} runs off the text block ({x_min}–{x_max} of {width})")


def test_the_language_comes_from_the_project_unless_given(runner, small, tmp_path):
    from qualcode.cli import cli
    from qualcode.project import CONFIG_NAME, Project

    def report(*args) -> list[str]:
        out = tmp_path / "_".join(args or ("default",))
        result = runner.invoke(cli, ["--project", str(small.root), "report", "all", "--no-plots", "-o", str(out),
                                     *args])
        assert result.exit_code == 0, result.output
        return _docx_text(out / "report.docx")

    assert "表1 编码表" in report()  # no setting: Chinese
    small.set_setting("lang", "en")
    assert "Table 1 Codebook" in report()
    assert "表1 编码表" in report("--lang", "zh")
    small.set_setting("lang", "fr")
    result = runner.invoke(cli, ["--project", str(small.root), "report", "all", "-o", str(tmp_path / "x")])
    assert result.exit_code != 0 and "lang must be one of zh, en" in result.output
    assert Project.init(tmp_path / "new").report_lang == "zh"
    assert 'lang = "zh"' in (tmp_path / "new" / CONFIG_NAME).read_text(encoding="utf-8")
