"""The assessment office's pages: a manual value entered with its evidence (checked as `inspect
score input` checks it, attributed to the assessor), a scoring run (as `inspect score --year`, its
`by` the assessor), the ranking, one unit's explanation with its server-rendered SVG chart, and the
report PDF."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.webkit import client, csrf_of, demo_accounts_db, demo_app, login


@pytest.fixture(scope="module")
def template(demo_run, tmp_path_factory):
    return demo_accounts_db(demo_run, tmp_path_factory.mktemp("assess"))


@pytest.fixture
def assess(template, tmp_path):
    app, engine, clock = demo_app(template, tmp_path)
    c = client(app)
    assert login(c, "assessor").status_code == 303
    return c, engine, clock


def _enter(c, **form):
    return c.post("/assess/values", data={"csrf_token": csrf_of(c), "year": "2026", **form})


def test_assessor_enters_a_value_runs_scoring_and_reads_the_ranking(assess):
    from inspect_kit.score.service import list_runs, load_run, manual_history
    from inspect_kit.storage.models import ScoringRun

    c, engine, _ = assess
    before = len(list_runs(engine, 2026))
    r = _enter(c, unit="STHJ", indicator="training", value="1", note="培训签到表（2026年第1次）")
    assert r.status_code == 303
    last = manual_history(engine, 2026, "STHJ", "training")[-1]
    assert (last.value, last.note, last.entered_by) == ("1", "培训签到表（2026年第1次）", "assessor")
    assert "培训签到表（2026年第1次）" in c.get("/assess?year=2026").text

    r = c.post("/assess/runs", data={"csrf_token": csrf_of(c), "year": "2026"})
    assert r.status_code == 303 and r.headers["location"] == "/assess/runs/2026"
    runs = list_runs(engine, 2026)
    assert len(runs) == before + 1
    with engine.connect() as conn:
        assert conn.execute(select(ScoringRun.by).where(ScoringRun.id == runs[-1].id)).scalar_one() == "assessor"
    stored = load_run(engine, year=2026)
    assert stored.unit_inputs("STHJ").manual["training"].evidence == "培训签到表（2026年第1次）"

    page = c.get("/assess/runs/2026").text
    assert f"考评运行 #{stored.id}" in page
    for row in stored.ranking():
        assert row["name"] in page and f"/assess/runs/2026/units/{row['code']}" in page
    assert "<svg" in page


def test_a_refused_value_names_its_field_and_writes_nothing(assess):
    from inspect_kit.score.service import manual_history

    c, engine, _ = assess
    before = manual_history(engine, 2026)
    r = _enter(c, unit="STHJ", indicator="training", value="很多", note="")
    assert r.status_code == 422
    errors = re.findall(r'<p class="field-error">([^<]*)</p>', r.text)
    assert any("not a number" in e for e in errors) and any("note is required" in e for e in errors)
    assert 'value="很多"' in r.text  # the form keeps what was typed
    r = _enter(c, unit="STHJ", indicator="plan_completion", value="1", note="x")  # computed from the records
    assert r.status_code == 422 and "cannot be entered by hand" in r.text
    assert manual_history(engine, 2026) == before


def test_unit_explanation_point_by_point_with_an_svg_chart(assess):
    from inspect_kit.score.service import explain_unit, load_run

    c, engine, _ = assess
    stored = load_run(engine, year=2026)
    unit = stored.run.units[0]
    r = c.get(f"/assess/runs/2026/units/{unit.code}")
    assert r.status_code == 200
    for ind in unit.indicators:
        assert ind.name in r.text
    text = html.unescape(r.text)
    for line in explain_unit(stored, unit.code, limit=None):
        assert line.strip() in text
    svg = r.text[r.text.index("<svg") : r.text.index("</svg>")]
    assert svg.count('class="bar') >= len(unit.indicators)
    assert not re.search(r"<script(?![^>]*\bsrc=)", r.text), "no inline script (CSP)"
    assert " style=" not in r.text and "onclick" not in r.text
    assert c.get("/assess/runs/2026/units/NOPE").status_code == 404
    assert c.get("/assess/runs/1999").status_code == 404


def test_bar_chart_scales_escapes_and_marks_negatives():
    from inspect_kit.web.chart import Bar, bar_chart

    svg = str(bar_chart([Bar("<b>甲</b>", Decimal("10"), Decimal("20")), Bar("乙", Decimal("-5"))], "t&t"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "t&amp;t" in svg
    assert svg.count('class="bar neg"') == 1 and svg.count('class="bar-max"') == 1
    widths = [float(w) for w in re.findall(r'class="bar(?: neg)?" x="[^"]+" y="[^"]+" width="([^"]+)"', svg)]
    maxw = float(re.search(r'class="bar-max" x="[^"]+" y="[^"]+" width="([^"]+)"', svg).group(1))
    assert widths[0] == pytest.approx(maxw / 2, abs=0.2)  # 10 of 20
    assert widths[1] == pytest.approx(maxw / 4, abs=0.2)  # 5 on the same scale, to the left


def test_report_pdf_download(assess):
    c, _, _ = assess
    r = c.get("/assess/runs/2026/report.pdf")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert "attachment" in r.headers["content-disposition"]
