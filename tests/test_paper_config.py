"""Checklists (检查表) and materials (一次告知) in the matters config: the shipped ones, and every
error naming the file and the key — inline items, checklist files (missing, outside the config
folder, bad items, given beside an inline list), duplicate codes, empty materials; the config's
SHA-256 covers the checklist files; matters without checklists keep their stored spec hash."""

import shutil

import pytest

from inspect_kit.config import check_file, load_config
from inspect_kit.config.load import matter_spec
from inspect_kit.errors import ValidationFailed
from tests.conftest import CONFIGS


@pytest.fixture
def cfg_dir(tmp_path):
    """The demo config with SCJG-01's checklist moved into checklists/SCJG-01.toml (checklist_file)."""
    d = tmp_path / "configs"
    shutil.copytree(CONFIGS, d)
    text = (d / "matters.toml").read_text(encoding="utf-8")
    start = text.index('code = "SCJG-01"')
    first, end = text.index("[[matter.checklist]]", start), text.index("[[matter]]", start)
    (d / "checklists").mkdir()
    (d / "checklists" / "SCJG-01.toml").write_text(
        "# SCJG-01's checklist\n" + text[first:end].replace("[[matter.checklist]]", "[[item]]"), encoding="utf-8"
    )
    (d / "matters.toml").write_text(
        text[:first] + 'checklist_file = "checklists/SCJG-01.toml"\n\n' + text[end:], encoding="utf-8"
    )
    return d


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problem(cfg_dir, key):
    with pytest.raises(ValidationFailed) as err:
        load_config(cfg_dir)
    found = [p for p in err.value.problems if p.key == key]
    assert found, [(p.file, p.key, p.reason) for p in err.value.problems]
    return found[0]


def test_the_demo_matters_have_checklists_and_materials(config, cfg_dir):
    sthj = config.matter("STHJ-01")
    assert [i.content.split("：")[0] for i in sthj.checklist] == [
        "排污许可证执行情况",
        "污染防治设施运行",
        "自动监测设备",
        "台账记录",
        "危险废物管理",
    ]
    assert all(i.basis and i.method for i in sthj.checklist)
    for m in config.matters:
        assert len(m.checklist) >= 3 and m.materials, m.code
    scjg = load_config(cfg_dir).matter("SCJG-01")  # read from its own file: the same items
    assert scjg.checklist_file == "checklists/SCJG-01.toml" and scjg.checklist == config.matter("SCJG-01").checklist


def test_inline_item_errors_name_matters_toml_and_the_item(cfg_dir):
    edit(cfg_dir / "matters.toml", 'content = "台账记录：', 'content = "  "\nx = "台账记录：')
    p = problem(cfg_dir, "matter[0].checklist[3].content")
    assert p.file == str(cfg_dir / "matters.toml")


def test_duplicate_item_codes_are_refused(cfg_dir):
    edit(
        cfg_dir / "matters.toml", 'code = "02"\ncontent = "污染防治设施运行', 'code = "01"\ncontent = "污染防治设施运行'
    )
    p = problem(cfg_dir, "matter[0].checklist")
    assert "'01' is used more than once" in p.reason


def test_empty_material_is_refused(cfg_dir):
    edit(
        cfg_dir / "matters.toml",
        'materials = ["排污许可证或排污登记回执",',
        'materials = ["", "排污许可证或排污登记回执",',
    )
    assert "empty" in problem(cfg_dir, "matter[1].materials").reason


def test_a_bad_item_in_a_checklist_file_names_that_file_and_item(cfg_dir):
    edit(cfg_dir / "checklists" / "SCJG-01.toml", 'method = "现场查看"', 'method = "现场查看"\nweight = 3')
    p = problem(cfg_dir, "item[1].weight")
    assert p.file == str(cfg_dir / "checklists" / "SCJG-01.toml")
    with pytest.raises(ValidationFailed):  # checking matters.toml alone reads the file too
        check_file(cfg_dir / "matters.toml")


@pytest.mark.parametrize(
    "value, words",
    [
        ('"checklists/nope.toml"', "no such file"),
        ('"../settings.toml"', "outside the config folder"),
        ('""', "must be a file name"),
    ],
)
def test_checklist_file_errors_name_the_matters_key(cfg_dir, value, words):
    edit(cfg_dir / "matters.toml", 'checklist_file = "checklists/SCJG-01.toml"', f"checklist_file = {value}")
    p = problem(cfg_dir, "matter[4].checklist_file")
    assert p.file == str(cfg_dir / "matters.toml") and words in p.reason


def test_checklist_and_checklist_file_together_are_refused(cfg_dir):
    edit(
        cfg_dir / "matters.toml",
        'checklist_file = "checklists/SCJG-01.toml"',
        'checklist_file = "checklists/SCJG-01.toml"\nchecklist = [{ code = "1", content = "x" }]',
    )
    assert "not both" in problem(cfg_dir, "matter[4].checklist_file").reason


def test_the_config_hash_covers_checklist_files_and_old_specs_keep_their_hash(cfg_dir):
    before = load_config(cfg_dir)
    edit(cfg_dir / "checklists" / "SCJG-01.toml", "登记事项：", "登记事项（含分支机构）：")
    after = load_config(cfg_dir)
    assert after.sha256 != before.sha256
    assert matter_spec(after.matter("SCJG-01"))[1] != matter_spec(before.matter("SCJG-01"))[1]
    # a matter without checklist or materials has the spec (and hash) it had before checklists existed
    m = before.matter("STHJ-02").model_copy(update={"checklist": [], "materials": []})
    spec, _ = matter_spec(m)
    assert not {"checklist", "checklist_file", "materials"} & set(spec)


def test_a_missing_checklist_file_does_not_hide_or_renumber_other_errors(cfg_dir):
    edit(cfg_dir / "matters.toml", 'checklist_file = "checklists/SCJG-01.toml"', 'checklist_file = "gone.toml"')
    edit(cfg_dir / "matters.toml", "quota = 3\n", 'quota = "three"\n')  # LH-01, the matter after it
    with pytest.raises(ValidationFailed) as err:
        load_config(cfg_dir)
    keys = {p.key for p in err.value.problems}
    assert {"matter[4].checklist_file", "matter[5].quota"} <= keys
    with pytest.raises(ValidationFailed) as err:
        check_file(cfg_dir / "matters.toml")
    assert {"matter[4].checklist_file", "matter[5].quota"} <= {p.key for p in err.value.problems}
