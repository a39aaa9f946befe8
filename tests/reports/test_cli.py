"""The report commands and ``qualcode run`` through the CLI."""
from __future__ import annotations

import csv
import io

from qualcode.cli import cli
from tests.helpers import QA_TRANSCRIPT, write_text


def invoke(runner, project, *args):
    result = runner.invoke(cli, ["--project", str(project.root), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_report_frequencies_csv(runner, small):
    out = invoke(runner, small, "report", "frequencies", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    net = next(r for r in rows if r["code"] == "construction/network")
    assert (net["codings"], net["passages"], net["cases"]) == ("3", "3", "2")
    proposed = invoke(runner, small, "report", "frequencies", "--proposed", "--format", "csv")
    assert "governance/legitimacy,合法性,Legitimacy,1,1,1,1,1," in proposed


def test_report_saturation_prints_the_sentence(runner, small):
    out = invoke(runner, small, "report", "saturation", "--base", "1", "--run", "1", "--threshold", "0")
    assert "overall: Saturation was reached at interview 1 of 3 (base 1, run 1, threshold 0%; interviews in date order)." in out
    assert "西街道: Saturation could not be assessed" in out


def test_report_tables_to_files(runner, small, tmp_path):
    out = invoke(runner, small, "report", "cooccurrence", "--unit", "document", "-o", str(tmp_path / "c.xlsx"))
    assert "Wrote 6 rows" in out and (tmp_path / "c.xlsx").is_file()
    out = invoke(runner, small, "report", "quotes", "-k", "1", "--code", "embedding/retirees", "--format", "json")
    assert '"quote": "退休党员"' in out and '"role": "社区党组织书记A"' in out
    out = invoke(runner, small, "report", "cases", "--value", "presence", "--case", "西街道")
    assert "西街道" in out and "东街道" not in out


def test_report_all_no_plots(runner, small, tmp_path):
    out = invoke(runner, small, "report", "all", "-o", str(tmp_path / "r"), "--no-plots")
    assert "Reports on accepted and manual codings written to" in out
    assert (tmp_path / "r" / "report.docx").is_file() and not (tmp_path / "r" / "plots").exists()


def test_unknown_attribute_is_a_clean_error(runner, small):
    result = runner.invoke(cli, ["--project", str(small.root), "report", "cases", "--by", "street"])
    assert result.exit_code == 1 and "no document attribute 'street'" in result.output


def test_run_imports_autocodes_and_reports_on_proposals(runner, project, tmp_path):
    corpus = tmp_path / "corpus"
    write_text(corpus / "a.txt", QA_TRANSCRIPT)
    write_text(corpus / "manifest.csv", "file,case,role,date\na.txt,N街道,互助站站长B,2022-07-21\n")
    out = invoke(runner, project, "run", "--corpus", str(corpus), "--no-plots")
    assert "Imported" in out and "Auto-coded" in out
    assert "No accepted or manual codings yet: the reports count the unreviewed proposals" in out
    report = (project.root / "outputs" / "report.md").read_text(encoding="utf-8")
    assert "已接受、手工及未审核的自动编码" in report  # in the project's language, Chinese
    again = invoke(runner, project, "run", "--corpus", str(corpus), "--no-plots")
    assert "1 documents already imported; not importing again" in again
    invoke(runner, project, "run", "--no-plots", "--lang", "en", "-o", str(tmp_path / "en"))
    english = (tmp_path / "en" / "report.md").read_text(encoding="utf-8")
    assert "accepted, manual and proposed (unreviewed) codings" in english and "已接受" not in english


def test_report_lang_translates_headers_and_labels_for_people_not_for_scripts(runner, small, tmp_path):
    from openpyxl import load_workbook

    zh = invoke(runner, small, "report", "frequencies", "--lang", "zh")
    assert zh.splitlines()[0].split()[:3] == ["编码", "名称", "英文名"]
    en = invoke(runner, small, "report", "frequencies", "--lang", "en")
    assert en.splitlines()[0].startswith("Code") and "Network" in en and "组织网络" not in en
    assert invoke(runner, small, "report", "frequencies", "--lang", "en", "--format", "csv").startswith(
        "code,label,label_en")  # CSV keeps the column ids
    invoke(runner, small, "report", "frequencies", "--lang", "en", "-o", str(tmp_path / "f.xlsx"))
    ws = load_workbook(tmp_path / "f.xlsx").active
    assert [c.value for c in ws[1]][:3] == ["Code", "Label", "English label"]


def test_report_lang_zh_prints_saturation_values_and_sentences_in_chinese(runner, small):
    zh = invoke(runner, small, "report", "saturation", "--lang", "zh")
    assert "全部访谈" in zh and "无法判定" in zh and "无法评估饱和" in zh
    assert "not assessable" not in zh and "overall" not in zh and "Saturation" not in zh
    csv_out = invoke(runner, small, "report", "saturation", "--lang", "zh", "--format", "csv")
    assert "overall" in csv_out and "not assessable" in csv_out  # scripts keep the ids
