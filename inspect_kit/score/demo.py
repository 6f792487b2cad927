"""Demo step: score the demo county's units for 2026 as of DEMO_TODAY and write the report.

Runs after the draw / assign / findings / publish steps; whatever of them is absent simply shows
in the metrics (a plan not carried out, NotApplicable where there is nothing to measure).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from inspect_kit.demo import DemoContext

YEAR = 2026
# (unit, indicator, value, note): entered through the same service function as `inspect score input`.
DEMO_MANUAL = (
    ("STHJ", "training", "4", "双随机业务培训签到表（2026年第1—4期）"),
    ("JYTY", "training", "2", "教育督导业务培训通知（青教体〔2026〕12号、21号）"),
    ("SCJG", "training", "3", "市场监管执法培训台账第3—5页"),
    ("STHJ", "info_disclosure", "18", "县政府网站、信用中国（江西）公开记录截图"),
    ("SCJG", "info_disclosure", "24", "国家企业信用信息公示系统公开记录"),
    ("JYTY", "info_disclosure", "9", "县政府网站公开记录截图"),
    ("CHENGGUAN", "training", "4", "镇综合执法培训签到表（第1—4期）"),
    ("CHENGGUAN", "info_disclosure", "12", "镇政府信息公开专栏截图"),
    ("QINGSHUI", "training", "2", "镇综合执法培训签到表"),
    ("QINGSHUI", "info_disclosure", "10", "镇政府信息公开专栏截图"),
    ("BAISHA", "training", "3", "乡综合执法培训签到表"),
    ("BAISHA", "info_disclosure", "6", "乡政府信息公开专栏截图"),
    ("LONGTAN", "training", "1", "镇综合执法培训签到表"),
    ("LONGTAN", "info_disclosure", "11", "镇政府信息公开专栏截图"),
    ("SHIQIAO", "training", "0", "本年度未组织专项培训（乡情况说明）"),
    ("SHIQIAO", "info_disclosure", "4", "乡政府信息公开专栏截图"),
)
# One judgement deduction by the assessment team, with its reason.
DEMO_JUDGEMENT = ("SCJG", "case_quality", "1.5", "抽查后续处置案卷3件，其中1件发现案件线索未按规定移送")


def run(ctx: DemoContext) -> None:
    from inspect_kit.demo import DEMO_TODAY
    from inspect_kit.score import load
    from inspect_kit.score.report import default_issuer, fonts_from_config, write_report
    from inspect_kit.score.service import add_manual_value, policy_from_config, run_scoring

    rulebook = load(ctx.config.folder / "assessment.toml")
    now = dt.datetime.combine(DEMO_TODAY, dt.time(17, 0))
    for unit, indicator, value, note in DEMO_MANUAL + (DEMO_JUDGEMENT,):
        add_manual_value(
            ctx.engine,
            rulebook,
            year=YEAR,
            unit=unit,
            indicator=indicator,
            value=value,
            note=note,
            by="考评组",
            now=now,
        )
    ctx.echo(
        f"manual values: {len(DEMO_MANUAL)} entered, 1 judgement deduction ({DEMO_JUDGEMENT[0]} "
        f"{DEMO_JUDGEMENT[1]} −{DEMO_JUDGEMENT[2]})"
    )
    stored = run_scoring(ctx.engine, rulebook, YEAR, as_of=DEMO_TODAY, now=now, policy=policy_from_config(ctx.config))
    for w in list(stored.warnings) + list(stored.run.warnings):
        ctx.echo(f"warning: {w}")
    ctx.table(
        f"scoring run #{stored.id}: {YEAR}, as of {DEMO_TODAY} ({rulebook.name}, version {rulebook.version})",
        ["group", "rank", "unit", "name", "total", "grade", "flags"],
        [
            [r["group"], r["rank"], r["code"], r["name"], r["total"], r["grade"], "；".join(r["flags"])]
            for r in stored.ranking()
        ],
    )
    report = write_report(
        ctx.engine,
        ctx.out / f"考评结果-{YEAR}.pdf",
        run_id=stored.id,
        issuer=default_issuer(ctx.config),
        issue_date=DEMO_TODAY,
        now=now,
        county=ctx.config.settings.county.name,
        fonts=fonts_from_config(ctx.config),
        force=True,
        policy=policy_from_config(ctx.config),
    )  # the demo starts afresh: its files of an earlier run are replaced
    from inspect_kit.score.estimates import HEADER
    from inspect_kit.score.service import year_estimates

    estimates = year_estimates(ctx.engine, YEAR, DEMO_TODAY, policy_from_config(ctx.config))
    ctx.table(
        f"{YEAR}: what the samples say about every registry (printed in the report)",
        HEADER,
        [e.row() for e in estimates],
    )
    ctx.echo(f"report: {report.path} ({report.pages} pages, notice #{report.notice_id})")
    ctx.results["score"] = {"run_id": stored.id, "report": report.path}
