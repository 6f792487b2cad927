"""The year-end scoring report (考评结果) as PDF, in the notices' layout and fonts.

Built on the notice engine (inspect_kit.publish): the text is a `publish.NoticeDocument` (ranking table,
a breakdown table per unit, verification details) laid out by `publish.layout` per GB/T 9704,
with the same embedded TrueType fonts (the shipped free faces, or settings.publish fonts). The
bar chart of the totals is a ReportLab `Drawing` (HorizontalBarChart) inserted into the composed
story after the chart caption, its labels set in a registered face of the same FontSet, so every
font in the file is an embedded subset. A public view of the stored run (rulebook text, inputs,
results) is embedded as a JSON file (`public_run`): the notes of metrics that name people — the
teams, confidential until the entities are notified, and their officers' certificates — are
replaced by whether the item complied, and every other string has the registries' private values
masked. The full run stays in the database, where `inspect score verify` checks it.

The generated file passes the public-output guard and is recorded in `notices` (kind='score',
period=str(year)) by `publish.service.record_pdf`: an existing file is refused unless `force`.

One module over 400 lines on purpose: it follows the report's one outline (ranking, breakdowns,
chart, verification, embedded public run); most of its length is the tables' Chinese text.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from sqlalchemy import Engine

from inspect_kit.score.explain import FLAG_NAMES, GROUP_NAMES
from inspect_kit.score.numbers import cents_to_decimal, format_number, round_to_cents
from inspect_kit.score.results import IndicatorResult, UnitResult
from inspect_kit.score.service import StoredRun, load_run, unit_flags

if TYPE_CHECKING:  # the publish stage and reportlab load only when a report is built
    from reportlab.graphics.shapes import Drawing

    from inspect_kit.publish.document import NoticeDocument, Section, Table
    from inspect_kit.publish.fonts import Face, FontConfig, FontSet
    from inspect_kit.score.estimates import MatterEstimate

__all__ = [
    "ReportResult",
    "build_report",
    "write_report",
    "report_pdf",
    "fonts_from_config",
    "default_issuer",
    "public_run",
    "CHART_CAPTION",
]

CHART_CAPTION = "图1　各单位考评总分（单位：分）"
CHART_HEADING = "二、总分对比"
_GROUP_COLOURS = {"department": (0.16, 0.33, 0.58), "township": (0.20, 0.55, 0.45), "all": (0.16, 0.33, 0.58)}


@dataclass(frozen=True)
class ReportResult:
    path: Path
    run_id: int
    notice_id: int
    sha256: str
    pages: int
    size: int
    reissue_of: int | None = None  # the notice recorded before at the same path (written with force)


def fonts_from_config(config: Any) -> FontConfig:
    """The notices' font settings; the same resolution as the notices themselves."""
    from inspect_kit.publish.service import fonts_from_config as notice_fonts

    return notice_fonts(config)


def default_issuer(config: Any) -> str:
    return f"{config.settings.county.name}“双随机、一公开”监管工作考评组"


# -- the document -----------------------------------------------------------------------------


def _group_label(group: str) -> str:
    return "全部" if group == "all" else GROUP_NAMES.get(group, group)


def _max_text(ind: IndicatorResult, category_kind: str) -> str:
    if category_kind == "veto":
        return "—"
    if category_kind == "bonus":
        return f"+{format_number(ind.max)}"
    if category_kind == "penalty":
        return f"−{format_number(-ind.min)}"
    if "not_applicable" in ind.flags:
        return "—"
    return _points(ind.max * ind.weight)


def _points(x: Fraction) -> str:
    """Points as presented elsewhere: two decimals, rounded half-up."""
    return str(cents_to_decimal(round_to_cents(x)))


def _note_text(ind: IndicatorResult) -> str:
    parts = []
    if ind.value is not None and ind.kind not in ("judgement",):
        text = format_number(ind.value, ind.display == "percent", places=2)
        if ind.numerator is not None and ind.denominator is not None:
            text += f"（{ind.numerator}/{ind.denominator}）"
        parts.append(text)
    parts += [FLAG_NAMES[f] for f in ind.flags if f in FLAG_NAMES]
    if ind.kind == "judgement":
        parts += [f"{r.note}（扣{format_number(-r.points)}分）" for r in ind.records if r.points]
    elif "not_applicable" in ind.flags and ind.note:
        parts.append(ind.note.removeprefix("不适用："))
    return "；".join(parts)


def _unit_table(unit: UnitResult, full_marks: Fraction) -> Table:
    from inspect_kit.publish import Table

    rows: list[list[str]] = []
    for cat in unit.categories:
        if cat.kind == "base":
            cap = _points(cat.effective_max)
        elif cat.kind in ("bonus", "penalty"):
            cap = ("+" if cat.kind == "bonus" else "−") + format_number(cat.max)
        else:
            cap = "—"
        rows.append([f"【{cat.name}】", cap, str(cat.points), ""])
        for ind in cat.indicators:
            rows.append([f"  {ind.name}", _max_text(ind, cat.kind), str(ind.points), _note_text(ind)])
    rows.append(["合计", _points(full_marks), str(unit.total), f"等次：{unit.grade}"])
    return Table(
        columns=["考评内容", "满分", "得分", "说明"],
        rows=rows,
        col_widths_mm=[58, 18, 18, 62],
        align=["left", "center", "center", "left"],
    )


def _estimate_section(number: int, estimates: Sequence[MatterEstimate]) -> Section:
    from inspect_kit.publish import Section, Table, heading_number
    from inspect_kit.score.estimates import HEADER

    return Section(
        heading=f"{heading_number(number)}抽查结果对全体监管对象的推断",
        paragraphs=[
            "各次抽查均为随机抽样，已录入的检查结果可推断相应检查对象名录中存在问题的比例（分层估计，"
            "含有限总体校正；括号内为95%置信区间）。"
        ],
        table=Table(
            columns=HEADER,
            rows=[e.row() for e in estimates],
            col_widths_mm=[48, 16, 18, 16, 16, 18, 24],
            align=["left", "center", "right", "right", "right", "right", "center"],
        ),
    )


def _notice(
    stored: StoredRun,
    *,
    issuer: str,
    issue_date: dt.date,
    county: str,
    title: str | None,
    log_head: str | None = None,
    estimates: Sequence[MatterEstimate] = (),
) -> NoticeDocument:
    from inspect_kit.publish import Section, Table, chinese_date, heading_number
    from inspect_kit.publish.document import NoticeDocument
    from inspect_kit.publish.notices import log_head_paragraph

    run = stored.run
    groups = sorted({u.group for u in run.units})
    counts = {g: sum(1 for u in run.units if u.group == g) for g in groups}
    who = "、".join(f"{counts[g]}个{_group_label(g)}" if g != "all" else f"{counts[g]}个单位" for g in groups)
    intro = [
        f"根据《{run.rulebook_name}》（版本{run.rulebook_version}），对{who}{stored.year}年度“双随机、一公开”"
        f"监管工作进行了考评，数据截至{chinese_date(stored.as_of)}。现将考评结果通报如下。"
    ]
    ranking = Table(
        columns=["组别", "名次", "单位", "总分", "等次", "备注"],
        rows=[
            [_group_label(u.group), str(u.rank), u.name, str(u.total), u.grade, "；".join(unit_flags(u))]
            for u in run.units
        ],
        col_widths_mm=[14, 12, 50, 18, 16, 46],
        align=["center", "center", "left", "center", "center", "left"],
    )
    grade_lines = []
    for g in groups:
        members = [u for u in run.units if u.group == g]
        tally = []
        for band in stored.rulebook.model.grades.bands:
            n = sum(1 for u in members if u.grade == band.grade)
            if n:
                tally.append(f"{band.grade}{n}个")
        label = "参评单位" if g == "all" else f"{_group_label(g)}组"
        grade_lines.append(f"{label}共{len(members)}个单位，其中{'、'.join(tally)}。")
    sections = [
        Section(
            heading=f"{heading_number(1)}考评结果",
            paragraphs=["".join(grade_lines)],
            table=ranking,
            notes=["注：名次在同组单位内排列，总分相同者名次并列。"] if len(groups) > 1 else [],
        ),
        Section(heading=CHART_HEADING, paragraphs=[CHART_CAPTION]),
        Section(heading=f"{heading_number(3)}各单位得分明细"),
    ]
    for n, unit in enumerate(run.units, 1):
        head = f"{heading_number(n, 2)}{unit.name}：{unit.total}分，{unit.grade}"
        notes = [f"注：{note}" for note in unit.notes]
        sections.append(Section(heading=head, level=2, table=_unit_table(unit, run.full_marks), notes=notes))
    if estimates:
        sections.append(_estimate_section(4, estimates))
    sections.append(
        Section(
            heading=f"{heading_number(5 if estimates else 4)}复核信息",
            paragraphs=[
                f"本结果由第{stored.id}号考评运行生成（{stored.created_at:%Y-%m-%d %H:%M}）。考评细则SHA-256："
                f"{run.rulebook_sha256}；输入数据SHA-256：{run.inputs_sha256}。考评细则原文、各单位输入数据和得分结果"
                f"的公开版本已作为附件嵌入本文件（检查组名单等个人信息不予公开）；完整运行记录保存在考评系统中，"
                f"可用“inspect score verify {stored.id}”复核。",
            ]
            + log_head_paragraph(log_head),
        )
    )
    title = title or f"{county}{stored.year}年度“双随机、一公开”监管工作考评结果"
    return NoticeDocument(
        issuer=issuer,
        title=title,
        issue_date=issue_date,
        intro=intro,
        sections=sections,
        keywords=("考评", str(stored.year), f"run {stored.id}"),
    )


# -- the chart --------------------------------------------------------------------------------


def _chart_face(fontset: FontSet, texts: Sequence[str]) -> Face:
    """A face that draws every chart label (a chart string has one font): body, else fallback."""
    from inspect_kit.publish.fonts import MissingGlyph, MissingGlyphError

    chars = {c for t in texts for c in t if c not in " \n"}
    for face in (fontset.body, fontset.fallback, fontset.heading):
        if face is not None and all(face.has(c) for c in chars):
            return face
    missing = sorted(c for c in chars if not fontset.body.has(c))
    raise MissingGlyphError([MissingGlyph(c, "chart label", fontset.body.label) for c in missing])


def _chart(stored: StoredRun, fontset: FontSet, width: float) -> Drawing:
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.colors import Color

    units = list(stored.run.units)[::-1]  # HorizontalBarChart draws the first category at the bottom
    names = [u.name for u in units]
    totals = [float(u.total) for u in units]
    groups = sorted({u.group for u in units})
    labels = names + [_group_label(g) for g in groups] + [f"{t:.2f}" for t in totals] + ["0123456789.-"]
    face = _chart_face(fontset, labels)
    size = 9.0
    pitch = max(10.0, min(22.0, 520.0 / max(len(units), 1)))
    label_width = min(face.advance("国", size) * max(len(n) for n in names) + 8, width * 0.45)
    legend_h = 18 if len(groups) > 1 else 0
    height = pitch * len(units) + 30 + legend_h
    # The renderer starts from Helvetica unless told otherwise: an unembedded font in the file.
    drawing = Drawing(width, height, initialFontName=face.name, initialFontSize=size)
    chart = HorizontalBarChart()
    # reportlab takes any number for positions and sizes; its stubs say int for the four marked.
    chart.x, chart.y = label_width, 20  # type: ignore[assignment]
    chart.width, chart.height = width - label_width - 40, pitch * len(units)  # type: ignore[assignment]
    chart.data = [totals]
    chart.barWidth = pitch * 0.6  # type: ignore[assignment]
    chart.groupSpacing = pitch * 0.4  # type: ignore[assignment]
    chart.categoryAxis.categoryNames = names
    chart.categoryAxis.labels.fontName = face.name
    chart.categoryAxis.labels.fontSize = size
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    top = float(stored.run.full_marks)
    chart.valueAxis.valueMin = min(0.0, math.floor(min(totals) / 10) * 10)
    chart.valueAxis.valueMax = max(top, math.ceil(max(totals) / 10) * 10)
    chart.valueAxis.valueStep = 20 if chart.valueAxis.valueMax - chart.valueAxis.valueMin > 60 else 10
    chart.valueAxis.labels.fontName = face.name
    chart.valueAxis.labels.fontSize = size
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = Color(0.85, 0.85, 0.85)
    chart.barLabelFormat = "%.2f"
    chart.barLabels.fontName = face.name
    chart.barLabels.fontSize = size
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    chart.bars.strokeColor = None
    for i, u in enumerate(units):
        chart.bars[(0, i)].fillColor = Color(*_GROUP_COLOURS.get(u.group, (0.3, 0.3, 0.3)))
    drawing.add(chart)
    if len(groups) > 1:
        legend = Legend()
        legend.fontName, legend.fontSize = face.name, size
        legend.alignment = "right"
        legend.columnMaximum = 1
        legend.x, legend.y = label_width, height - 4  # type: ignore[assignment]  # a number; the stubs say int
        legend.deltax = 60
        legend.colorNamePairs = [(Color(*_GROUP_COLOURS.get(g, (0.3, 0.3, 0.3))), _group_label(g)) for g in groups]
        drawing.add(legend)
    return drawing


# -- rendering ----------------------------------------------------------------------------------


# Metrics whose record notes name people: metric key → (note if the item complied, note if not).
_WITHHELD_NOTES = {
    "team_compliance": ("检查组符合规定", "检查组不符合规定（涉及检查人员个人信息，详情不公开）"),
}
PUBLIC_VIEW_NOTE = (
    "本文件为考评运行的公开版本：检查组名单等个人信息不予公开（相关记录只列是否符合规定），"
    "其余文字中的个人信息已做遮盖处理；完整运行记录保存在考评系统数据库中，输入数据SHA-256为完整记录的校验值。"
)


def _withhold(records: list[dict[str, Any]], notes: tuple[str, str], ok: Any = None) -> list[dict[str, Any]]:
    return [{**r, "note": notes[0] if (r.get("ok") if ok is None else ok) else notes[1]} for r in records]


def _masked_strings(value: Any, private: Any) -> Any:
    from inspect_kit.publish.privacy import mask

    if isinstance(value, str):
        return mask(value, private)
    if isinstance(value, dict):
        return {k: _masked_strings(v, private) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_strings(v, private) for v in value]
    return value


def public_run(stored: StoredRun, private: Any = None) -> dict[str, Any]:
    """The public view of a stored run, as embedded in the report (see the module docstring).

    ``private`` is a `publish.privacy.PrivateValues` (None: notes withheld, nothing masked)."""
    from inspect_kit.score.inputs import to_canonical

    inputs = to_canonical(stored.inputs)
    for unit in inputs:
        for key, notes in _WITHHELD_NOTES.items():
            metric = unit["metrics"].get(key)
            if metric and metric.get("records"):
                metric["records"] = _withhold(metric["records"], notes)
    results = json.loads(json.dumps(stored.stored_results))
    for unit in results.get("units", []):
        for cat in unit.get("categories", []):
            for ind in cat.get("indicators", []):
                withheld = _WITHHELD_NOTES.get(ind.get("metric"))
                if withheld and ind.get("records"):
                    ind["records"] = _withhold(ind["records"], withheld, ok=False)  # a scored record is a deduction
    data = {
        "run_id": stored.id,
        "year": stored.year,
        "as_of": stored.as_of.isoformat(),
        "public_view": PUBLIC_VIEW_NOTE,
        "rulebook_sha256": stored.run.rulebook_sha256,
        "rulebook_text": stored.rulebook.source_text,
        "inputs": inputs,
        "results": results,
    }
    return _masked_strings(data, private) if private is not None else data


def _run_file(stored: StoredRun, private: Any = None) -> tuple[str, bytes]:
    blob = json.dumps(public_run(stored, private), ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
    return f"scoring-run-{stored.id}.json", blob


def build_report(
    stored: StoredRun,
    *,
    issuer: str,
    issue_date: dt.date,
    county: str = "",
    title: str | None = None,
    fonts: Any = None,
    private: Any = None,
    log: dict[str, Any] | None = None,
    estimates: Sequence[MatterEstimate] = (),
) -> bytes:
    """The report of a stored run as PDF bytes (deterministic for the same run, fonts and date).

    The title defaults to "<county><year>年度“双随机、一公开”监管工作考评结果"; `fonts` is a
    publish.FontConfig (None: the shipped free fonts); `private` (publish.privacy.PrivateValues)
    is masked in the printed text and in the embedded public view of the run; `log` (a
    transparency-log excerpt) puts its head in the text and the excerpt beside the run."""
    from reportlab.platypus import CondPageBreak, Spacer

    from inspect_kit.publish import layout
    from inspect_kit.publish.compose import compose
    from inspect_kit.publish.document import finish_pdf, located_texts, validate_tables
    from inspect_kit.publish.fonts import FontSet
    from inspect_kit.publish.privacy import mask_notice

    notice = _notice(
        stored,
        issuer=issuer,
        issue_date=issue_date,
        county=county,
        title=title,
        log_head=log["head"] if log else None,
        estimates=estimates,
    )
    if private is not None:
        notice = mask_notice(notice, private)
    fontset = FontSet.load(fonts)
    validate_tables(notice)
    fontset.check(located_texts(notice))
    geometry = layout.PageGeometry()
    story = compose(notice, fontset, geometry)
    chart = _chart(stored, fontset, geometry.block_width)
    texts = [item.text if isinstance(item, layout.TextBlock) else None for item in story]
    at, head = texts.index(CHART_CAPTION), texts.index(CHART_HEADING)
    marker = story[at]
    assert isinstance(marker, layout.TextBlock)  # found by its text above
    caption = layout.TextBlock(marker.setter, CHART_CAPTION, replace(marker.style, align="center", first_indent=0.0))
    story[at : at + 1] = [Spacer(0, geometry.line_pitch / 4), chart, caption]
    # The heading goes to the next page with the chart rather than stay behind alone.
    story.insert(head, CondPageBreak(chart.height + 3 * geometry.line_pitch))
    pdf = layout.build_pdf(story, fontset, geometry)
    from inspect_kit.publish.document import metadata_title

    info = {
        "/Title": metadata_title(notice.title),
        "/Author": issuer,
        "/Subject": f"考评运行 #{stored.id}",
        "/Keywords": ", ".join(notice.keywords),
        "/Creator": "inspect-kit",
    }
    files = [_run_file(stored, private)]
    if log:
        from inspect_kit.publish.notices import log_file_name

        files.append(
            (
                log_file_name("score", str(stored.year)),
                (json.dumps(log, ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
            )
        )
    return finish_pdf(pdf, info, issue_date, files)


def report_pdf(
    engine: Engine,
    *,
    issuer: str,
    issue_date: dt.date,
    year: int | None = None,
    run_id: int | None = None,
    county: str = "",
    title: str | None = None,
    fonts: Any = None,
    policy: Any = None,
) -> tuple[StoredRun, bytes]:
    """The report of a stored run (by id, or the latest of `year`) as PDF bytes, with the registries'
    private values masked, the run's transparency-log excerpt and what the year's samples say about
    every registry (estimates as of the run's day; ``policy`` gives the code book, default the
    standard one): the file `write_report` writes."""
    from inspect_kit.publish.service import private_values
    from inspect_kit.score.service import DEFAULT_POLICY, year_estimates
    from inspect_kit.transparency.store import excerpt

    stored = load_run(engine, run_id, year=year)
    with engine.connect() as conn:
        log = excerpt(conn, [("scoring_run", stored.id)])
    pdf = build_report(
        stored,
        issuer=issuer,
        issue_date=issue_date,
        county=county,
        title=title,
        fonts=fonts,
        private=private_values(engine),
        log=log,
        estimates=year_estimates(engine, stored.year, stored.as_of, policy or DEFAULT_POLICY),
    )
    return stored, pdf


def write_report(
    engine: Engine,
    path: Path | str,
    *,
    issuer: str,
    issue_date: dt.date,
    now: dt.datetime,
    year: int | None = None,
    run_id: int | None = None,
    county: str = "",
    title: str | None = None,
    fonts: Any = None,
    force: bool = False,
    policy: Any = None,
) -> ReportResult:
    """Write the report of a stored run (by id, or the latest of `year`) and record it in notices.
    An existing file at `path` is refused unless `force` (then recorded as a re-issue)."""
    from inspect_kit.publish.service import check_target, record_pdf

    check_target(engine, path, force=force)  # before the rendering: a refused target costs nothing
    stored, pdf = report_pdf(
        engine,
        issuer=issuer,
        issue_date=issue_date,
        year=year,
        run_id=run_id,
        county=county,
        title=title,
        fonts=fonts,
        policy=policy,
    )
    rec = record_pdf(
        engine, pdf, path, kind="score", period=str(stored.year), issued_on=issue_date, now=now, force=force
    )
    return ReportResult(rec.path, stored.id, rec.notice_id, rec.sha256, rec.pages, rec.size, rec.reissue_of)
