"""`inspect findings ...` as a user types it: options, prompts, JSON, exit codes and reports.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import openpyxl
import pytest
from typer.testing import CliRunner

from inspect_kit.cli import app
from inspect_kit.errors import InspectError, ValidationFailed
from tests.conftest import CONFIGS, write_csv
from tests.test_findings_service import tasks  # noqa: F401  (fixture)

runner = CliRunner()
AS_OF = "2026-06-30"


def url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def run(engine, *args, input: str | None = None, catch: bool = False):
    base = ["--config", str(CONFIGS), "--db", url(engine)]
    return runner.invoke(app, base + [str(a) for a in args], input=input, catch_exceptions=catch)


def run_main(engine, *args):
    """Through main(), which turns user errors into exit code 1; stdin is not a terminal."""
    return subprocess.run(
        [sys.executable, "-m", "inspect_kit", "--config", str(CONFIGS), "--db", url(engine), *map(str, args)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def test_add_show_history(tasks):  # noqa: F811
    engine, q1, _ = tasks
    r = run(
        engine,
        "findings",
        "add",
        q1[0].lower(),
        "--date",
        "2026-03-06",
        "-r",
        "R05",
        "-r",
        "未按规定公示应当公示的信息",
        "--problems",
        "废气处理设施未正常运行",
        "-f",
        "责令改正",
        "--deadline",
        "2026-04-06",
        "--by",
        "张三",
        "--as-of",
        AS_OF,
    )
    assert r.exit_code == 0 and "finding added" in r.output
    r = run(
        engine,
        "findings",
        "add",
        q1[0],
        "--recheck-date",
        "2026-04-03",
        "--status",
        "closed",
        "--by",
        "李四",
        "--as-of",
        AS_OF,
    )
    assert "finding updated (rectification_status, recheck_date)" in r.output
    r = run(engine, "findings", "add", q1[0], "--recheck-date", "2026-04-03", "--by", "李四", "--as-of", AS_OF)
    assert "no change" in r.output
    shown = json.loads(run(engine, "findings", "show", q1[0], "--as-of", AS_OF, "--json").output)
    f = shown["finding"]
    assert (f["results"], f["follow_ups"], f["recorded_by"], f["status"]) == (["R02", "R05"], ["F02"], "张三", "closed")
    assert f["rectification_due"] == "2026-04-07"  # 6 April 2026 is a holiday (清明)
    assert shown["task"]["task_no"] == q1[0]
    history = json.loads(run(engine, "findings", "history", q1[0], "--json").output)
    assert [h["by"] for h in history] == ["张三", "李四"]
    assert history[1]["changes"] == {"rectification_status": [None, "closed"], "recheck_date": [None, "2026-04-03"]}
    r = run(engine, "findings", "history", q1[0])
    assert "recheck_date: ∅ → 2026-04-03" in r.output
    assert "(not recorded yet)" in run(engine, "findings", "show", q1[1]).output


def test_interactive_add_prompts_and_re_prompts(tasks):  # noqa: F811
    engine, q1, _ = tasks
    answers = (
        "\n".join(
            [
                "2026-03-32",  # 检查日期: not a date → asked again
                "2026-3-9至2026/3/10",  # a range
                "5, 99",  # 检查结果: 99 is not in the list → asked again
                "5,9",  # R05 and R09 by their numbers
                "废水超标排放",  # 问题描述 (asked because a problem was chosen)
                "立案",  # 后续处置: not a label → asked again
                "2,F03",  # 责令改正 and 立案查处
                "2026-03-01",  # 整改期限: a date, but before the inspection end → asked again below
                "青山环立〔2026〕7号",  # 立案号 (asked because a case was opened)
                "maybe",  # 检查项 01 (STHJ-01 has a checklist): not a result → asked again
                "不符合：废水超标排放：R05",  # 01
                "符合",  # 02
                "符合",  # 03
                "符合",  # 04
                "不涉及：无自动监测设备",  # 05
                "2026-04-30",  # 整改期限 again
            ]
        )
        + "\n"
    )
    r = run(engine, "findings", "add", q1[1], "-i", "--by", "赵六", "--as-of", AS_OF, input=answers)
    assert r.exit_code == 0, r.output
    assert "is not a real date" in r.output and "not in the list: 99" in r.output
    assert "must be after the inspection end" in r.output
    f = json.loads(run(engine, "findings", "show", q1[1], "--as-of", AS_OF, "--json").output)["finding"]
    assert (f["inspection_start"], f["inspection_end"]) == ("2026-03-09", "2026-03-10")
    assert (f["results"], f["follow_ups"], f["case_no"]) == (["R05", "R09"], ["F02", "F03"], "青山环立〔2026〕7号")
    assert f["recorded_by"] == "赵六"
    assert "检查项 01" in r.output and "(--item 05)" in r.output
    assert [(i["code"], i["result"]) for i in f["item_results"]][::4] == [("01", "不符合"), ("05", "不涉及")]


def test_template_import_list_due(tasks, tmp_path):  # noqa: F811
    engine, q1, q1b = tasks
    out = tmp_path / "results-2026Q1.xlsx"
    r = run(engine, "findings", "template", "--quarter", "2026Q1", "-o", out)
    assert r.exit_code == 0 and "wrote 7 tasks of 2026Q1" in r.output
    wb = openpyxl.load_workbook(out)
    ws = wb["STHJ-01"]
    col = {c.value: c.column for c in ws[2]}
    rows = {
        3: {
            "检查开始日期": dt.date(2026, 3, 6),
            "检查结束日期": dt.date(2026, 3, 6),
            "检查结果": "R05",
            "问题描述": "危废标识缺失",
            "后续处置": "F02",
            "整改期限": dt.date(2026, 4, 30),
            "录入人": "王五",
        },
        4: {
            "检查开始日期": dt.date(2026, 3, 9),
            "检查结束日期": dt.date(2026, 3, 9),
            "检查结果": "未发现问题",
            "后续处置": "无需后续处置",
            "录入人": "王五",
        },
    }
    for r_no, values in rows.items():
        for header, value in values.items():
            ws.cell(r_no, col[header], value)
    wb.save(out)
    r = run(engine, "findings", "import", out, "--as-of", AS_OF)
    assert r.exit_code == 0 and "2 added" in r.output and "5 task rows without a result skipped" in r.output
    r = run(engine, "findings", "import", out, "--as-of", AS_OF)
    assert "2 unchanged; 0 revisions written" in r.output
    listed = json.loads(
        run(engine, "findings", "list", "--quarter", "2026Q1", "--as-of", "2026-05-06", "--json").output
    )
    assert [f["task_no"] for f in listed] == q1[:2]
    assert (
        json.loads(run(engine, "findings", "list", "--status", "open", "--as-of", "2026-04-30", "--json").output)[0][
            "task_no"
        ]
        == q1[0]
    )
    assert (
        json.loads(run(engine, "findings", "list", "--status", "open", "--as-of", "2026-05-06", "--json").output) == []
    )
    assert "findings: 2" in run(engine, "findings", "list", "--as-of", AS_OF).output
    due = json.loads(run(engine, "findings", "due", "--as-of", "2026-04-03", "--json").output)
    assert [(i["task_no"], i["kind"], i["deadline"], i["overdue"], i["working_days"]) for i in due["items"]] == [
        (q1[0], "publicity", "2026-04-03", False, 0),  # the 20th working day after 6 March: still due
        (q1[1], "publicity", "2026-04-07", False, 1),
    ]  # after the 清明 holiday (4–6 April)
    due = json.loads(run(engine, "findings", "due", "--as-of", "2026-05-06", "--all", "--json").output)
    assert [(i["kind"], i["overdue"]) for i in due["items"] if i["task_no"] == q1[0]] == [
        ("publicity", True),
        ("rectification", True),
    ]
    assert "overdue by" in run(engine, "findings", "due", "--as-of", "2026-05-06").output


def test_user_errors_exit_1_with_the_report_and_no_traceback(tasks, tmp_path):  # noqa: F811
    engine, q1, _ = tasks
    bad = write_csv(
        tmp_path / "bad.csv",
        [
            ["任务编号", "检查日期", "检查结果", "后续处置", "录入人"],
            [q1[0], "2026-03-05", "R01", "F01", "张三"],
            [q1[1], "2026-03-05", "火星", "F01", "张三"],
            ["NOPE-1", "2026-03-05", "R01", "F01", "张三"],
        ],
    )
    r = run_main(engine, "findings", "import", bad)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "the import was refused (2 problem(s); nothing was written)" in r.stderr
    assert f"{bad}, row 3, column '检查结果': unknown result category '火星'" in r.stderr
    assert f"{bad}, row 4, column '任务编号': no task NOPE-1" in r.stderr
    # (main() turns every ValidationFailed into this exit code and report; in-process from here on)
    r = run(engine, "findings", "add", q1[0], "--date", "2026-03-05", "-r", "R05", "-f", "F02", catch=True)
    assert isinstance(r.exception, ValidationFailed)  # stdin is not a terminal: no prompts
    report = str(r.exception)
    assert "--deadline: is required when rectification" in report and "--by: is required" in report
    assert "--problems: a description is required" in report
    assert json.loads(run(engine, "findings", "list", "--json").output) == []


def test_option_errors(tasks, tmp_path):  # noqa: F811
    engine, q1, _ = tasks
    for args, message in [
        (("template", "-o", tmp_path / "t.xlsx"), "give the period"),
        (("template", "--quarter", "2026Q1", "--year", "2026", "-o", tmp_path / "t.xlsx"), "only one of"),
        (("template", "--quarter", "2026Q5", "-o", tmp_path / "t.xlsx"), "cannot read period"),
        (("show", "NOPE"), "no task NOPE"),
        (("history", "NOPE"), "no task NOPE"),
        (("due", "--as-of", "tomorrow"), "--as-of"),
    ]:
        r = run(engine, "findings", *args, catch=True)
        assert isinstance(r.exception, InspectError) and message in str(r.exception), (args, r.exception)
    r = run(engine, "findings", "add", q1[0], "--date", "2099-01-01", "-r", "R01", "-f", "F01", "--by", "x", catch=True)
    assert isinstance(r.exception, ValidationFailed) and "--date: 2099-01-01 is in the future" in str(r.exception)
    assert run(engine, "findings", "list", "--status", "bogus").exit_code == 2  # usage error


@pytest.mark.parametrize("command", ["add", "import", "template", "list", "show", "history", "due"])
def test_help(command):
    r = runner.invoke(app, ["findings", command, "--help"])
    assert r.exit_code == 0 and "Example:" in r.output
