"""Config files: the shipped example is valid; every error names the file, the key and the problem."""

import shutil

import pytest

from inspect_kit.config import check_file, load_config
from inspect_kit.errors import ValidationFailed
from tests.conftest import CONFIGS

# The coordinated draws of configs/settings.toml; the tests below break them with one mistake each.
COORDINATION = """[coordination.2026]
seed = "青山县2026年度双随机抽查协调种子 68251 40937 15576 82904"
groups = { env-market = { mode = "positive", matters = ["STHJ-01", "LH-01"] } }"""


@pytest.fixture
def cfg_dir(tmp_path):
    d = tmp_path / "configs"
    shutil.copytree(CONFIGS, d)
    return d


def test_shipped_config_is_valid(config):
    assert {m.code for m in config.matters} >= {"STHJ-01", "STHJ-02", "JYTY-01", "JYTY-02", "SCJG-01", "LH-01"}
    sthj01 = config.matter("STHJ-01")
    assert (sthj01.quota, sthj01.coverage, sthj01.period) == ("25%", "annual", "quarter")
    assert config.matter("STHJ-02").quota == "1:10"
    assert config.matter("SCJG-01").quota_for("D") == "60%"
    plan = config.settings.coordination["2026"]  # the demo county coordinates env and market
    assert plan.numbers == "per-meeting" and plan.groups["env-market"].matters == ["STHJ-01", "LH-01"]
    assert config.settings.burden is not None and config.settings.burden.per_category == {"一般排污单位": 1}
    assert config.matter("LH-01").team_demand() == {"STHJ": 1, "SCJG": 1}


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    "file, old, new, key, words",
    [
        (
            "matters.toml",
            'quota = "25%"',
            'quota = "25 percent"',
            "matter[0].quota",
            "is not understood; use a fraction",
        ),
        ("matters.toml", 'unit = "STHJ"', 'unit = "NOPE"', "matter[0].unit", "'NOPE' is not in units.toml"),
        (
            "matters.toml",
            'categories = ["重点排污单位"]',
            'categories = ["火星单位"]',
            "matter[0].categories",
            "火星单位",
        ),
        ("matters.toml", "team_size = 2", "team_size = 1", "matter[0].team_size", "greater than or equal to 2"),
        ("matters.toml", 'rounding = "ceil"', 'rounding = "up"', None, None),
        (
            "settings.toml",
            "min_seed_length = 20",
            "min_seed_length = 0",
            "draw.min_seed_length",
            "greater than or equal to 1",
        ),
        ("units.toml", 'kind = "township"', 'kind = "village"', "unit[3].kind", "'department' or 'township'"),
        (
            "settings.toml",
            COORDINATION,
            COORDINATION.replace('"LH-01"', '"LH-99"'),
            "coordination.2026.groups.env-market.matters",
            "'LH-99' is not in matters.toml",
        ),
        (
            "settings.toml",
            COORDINATION,
            COORDINATION.replace('"positive"', '"sideways"'),
            "coordination.2026.groups.env-market.mode",
            "'positive' or 'negative'",
        ),
        (
            "settings.toml",
            COORDINATION,
            COORDINATION.replace("groups =", 'numbers = "weekly"\ngroups ='),
            "coordination.2026.numbers",
            "'per-meeting' or 'yearly'",
        ),
        ("settings.toml", "outside_cap = []", 'outside_cap = ["XX-01"]', "burden.outside_cap", "'XX-01'"),
        (
            "settings.toml",
            'per_level = { "县级" = 2 }',
            'per_level = { "县级" = 0 }',
            "burden.per_level.县级",
            "at least 1",
        ),
        ("settings.toml", 'lead_order = ["STHJ"', 'lead_order = ["NOPE"', "joint.lead_order", "'NOPE'"),
    ],
)
def test_errors_name_file_key_and_problem(cfg_dir, file, old, new, key, words):
    text = (cfg_dir / file).read_text(encoding="utf-8")
    if old not in text:  # a default not written in the example: add it
        edit(cfg_dir / file, "[[matter]]\n", f"[[matter]]\n{new}\n")
        key, words = "matter[0].rounding", "'ceil', 'floor' or 'round'"
    else:
        edit(cfg_dir / file, old, new)
    with pytest.raises(ValidationFailed) as err:
        load_config(cfg_dir)
    p = next(p for p in err.value.problems if p.key == key)
    assert p.file == str(cfg_dir / file) and words in p.reason


def test_toml_syntax_error_names_the_line(cfg_dir):
    (cfg_dir / "matters.toml").write_text("[[matter]\ncode = 1\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"line 1"):
        load_config(cfg_dir)


def test_check_a_single_file(cfg_dir):
    assert check_file(cfg_dir / "matters.toml").endswith("OK")
    renamed = cfg_dir / "my-matters.toml"
    shutil.copy(cfg_dir / "matters.toml", renamed)
    assert check_file(renamed).endswith("OK")


def test_result_code_lists_are_configurable(cfg_dir):
    from inspect_kit.findings.service import policy_from_config

    edit(
        cfg_dir / "settings.toml",
        "extra_workdays = []\n",
        "extra_workdays = []\n\n[findings.codes]\n"
        'extra_categories = [{ code = "R11", label = "未按规定执行排污许可", problem = true }]\n',
    )
    policy = policy_from_config(load_config(cfg_dir))
    assert policy.codebook.categories.get("未按规定执行排污许可").code == "R11"
    assert policy.codebook.problem_found(["R11"])


def test_bad_result_code_list_names_the_key(cfg_dir):
    edit(
        cfg_dir / "settings.toml",
        "extra_workdays = []\n",
        'extra_workdays = []\n\n[findings.codes]\nextra_categories = [{ code = "R12", label = "无标记" }]\n',
    )
    with pytest.raises(ValidationFailed) as err:
        load_config(cfg_dir)
    assert any(
        p.file.endswith("settings.toml") and p.key.startswith("findings.codes.extra_categories[0]")
        for p in err.value.problems
    ), err.value.problems
