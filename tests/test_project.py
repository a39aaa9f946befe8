import sqlite3

import pytest

from qualcode.autocode.run import autocode
from qualcode.cli import cli
from qualcode.errors import ConfigError, ProjectNotFound, QualcodeError
from qualcode.ingest.pipeline import ImportOptions, import_paths
from qualcode.project import CONFIG_NAME, Project, find_root
from qualcode.store import SCHEMA_VERSION, SchemaTooNew, Store


def test_init_creates_the_layout(tmp_path):
    p = Project.init(tmp_path / "study")
    root = tmp_path / "study"
    for name in (CONFIG_NAME, "qualcode.db", "dictionary.txt"):
        assert (root / name).is_file(), name
    for name in ("codebooks", "outputs"):
        assert (root / name).is_dir(), name
    assert p.store.schema_version() == SCHEMA_VERSION
    p.close()


def test_init_refuses_an_existing_project(project):
    with pytest.raises(QualcodeError, match="already a qualcode project"):
        Project.init(project.root)


def test_found_from_a_subdirectory_like_git(project):
    sub = project.root / "outputs" / "deep"
    sub.mkdir(parents=True)
    assert find_root(sub) == project.root


def test_env_variable_names_the_project(project, monkeypatch, tmp_path):
    monkeypatch.setenv("QUALCODE_PROJECT", str(project.root))
    assert find_root() == project.root
    monkeypatch.setenv("QUALCODE_PROJECT", str(tmp_path))
    with pytest.raises(ProjectNotFound, match="QUALCODE_PROJECT="):
        find_root()


def test_no_project_is_a_clear_error(tmp_path):
    with pytest.raises(ProjectNotFound, match="no qualcode project in"):
        find_root(tmp_path)


def test_reopening_does_not_reapply_migrations(project):
    assert project.store.migrate() == []
    con = sqlite3.connect(project.root / "qualcode.db")
    assert con.execute("select count(*) from schema_migrations").fetchone()[0] == SCHEMA_VERSION


def test_a_project_from_a_newer_qualcode_is_refused(project):
    con = sqlite3.connect(project.root / "qualcode.db")
    con.execute("insert into schema_migrations values (99, 'future', '2030-01-01')")
    con.commit()
    with pytest.raises(SchemaTooNew, match="newer than this qualcode"):
        Store(f"sqlite:///{project.root / 'qualcode.db'}").migrate()


def test_coder_comes_from_env_then_settings(project, monkeypatch):
    monkeypatch.setenv("QUALCODE_CODER", "李老师")
    assert project.default_coder == "李老师"


# -- the segmenter setting (docs/segmentation.md) -------------------------------------------------------
def _set_segmenter(project: Project, line: str | None) -> Project:
    config = project.root / CONFIG_NAME
    kept = [x for x in config.read_text(encoding="utf-8").splitlines() if not x.startswith("segmenter")]
    if line is not None:
        kept.insert(kept.index("[project]") + 1, line)
    config.write_text("\n".join(kept) + "\n", encoding="utf-8")
    project.close()
    return Project(project.root)


def test_a_new_project_segments_with_jieba_rs_and_an_old_one_keeps_jieba(project):
    assert 'segmenter = "jieba-rs"' in (project.root / CONFIG_NAME).read_text(encoding="utf-8")
    assert project.segmenter_kind == "jieba-rs" and project.segmenter().kind == "jieba-rs"
    old = _set_segmenter(project, None)  # made before the setting existed
    assert old.segmenter_kind == "jieba" and old.segmenter().kind == "jieba"
    old.close()


@pytest.mark.parametrize("line", ['segmenter = "pkuseg"', "segmenter = 2", 'segmenter = ""', 'segmenter = "JIEBA"'])
def test_a_bad_segmenter_is_a_one_line_config_error(project, runner, line):
    config = project.root / CONFIG_NAME
    config.write_text(config.read_text(encoding="utf-8").replace('segmenter = "jieba-rs"', line), encoding="utf-8")
    result = runner.invoke(cli, ["--project", str(project.root), "docs", "list"])
    assert result.exit_code == 1, result.output
    errors = [x for x in result.output.splitlines() if x.startswith("Error: ")]
    assert len(errors) == 1 and "qualcode.toml" in errors[0] and "segmenter" in errors[0], result.output
    assert "Traceback" not in result.output
    with pytest.raises(ConfigError, match="segmenter"):
        Project(project.root)


def test_changing_the_segmenter_re_segments_at_the_next_autocode(project, tmp_path):
    (tmp_path / "a.txt").write_text("问：楼里的事怎么办？\n答：我们到邻里议事厅商量，网格员也来。\n", encoding="utf-8")
    import_paths(project, [tmp_path / "a.txt"], ImportOptions())
    assert autocode(project, project.codebook()).retokenized == 0  # tokens from import are current
    jieba = _set_segmenter(project, 'segmenter = "jieba"')
    assert autocode(jieba, jieba.codebook()).retokenized == 1
    assert autocode(jieba, jieba.codebook()).retokenized == 0
    with jieba.store.read() as conn:
        version = conn.exec_driver_sql("select dict_version from documents").scalar_one()
    assert version == jieba.segmenter().version
    back = _set_segmenter(jieba, 'segmenter = "jieba-rs"')
    assert autocode(back, back.codebook()).retokenized == 1
    back.close()
