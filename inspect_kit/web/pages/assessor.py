"""The assessment office's pages (role assessor) under /assess: manual indicator values with their
evidence, scoring runs, the ranking, one unit's explanation point by point with a chart, and the
report PDF.

Thin shell over inspect_kit.score.service, as `inspect score ...`: `add_manual_value` (score
input), `run_scoring` (score --year), `load_run` / `explain_unit` (score explain) and
`score.report.report_pdf` (the file `score report` writes; downloading it records no notice).
Every write carries the assessor's name (entered_by, the run's by).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from inspect_kit.errors import InspectError, ValidationFailed
from inspect_kit.web.access import Actor, staff
from inspect_kit.web.chart import Bar, bar_chart
from inspect_kit.web.context import Services, services

router = APIRouter(prefix="/assess", include_in_schema=False)

RULES_FILE = "assessment.toml"  # in the config folder, as `inspect score` reads it


def _rulebook(svc: Services) -> Any:
    from inspect_kit.score import load

    return load(svc.config_dir / RULES_FILE)


def _year(svc: Services, year: int | None) -> int:
    return year if year is not None else svc.clock().year


def _home(request: Request, year: int, status_code: int = 200, **ctx: Any) -> Response:
    from inspect_kit.score.observe import source_of
    from inspect_kit.score.service import list_runs, manual_history

    svc = services(request)
    rulebook = _rulebook(svc)
    indicators = [i for i in rulebook.indicators if i.metric is None]
    ctx.setdefault("form", {})
    ctx.setdefault("problems", {})
    with svc.engine.connect() as conn:
        from sqlalchemy import select

        from inspect_kit.storage.models import Unit

        units = conn.execute(select(Unit.code, Unit.name).order_by(Unit.code)).all()
    return svc.render(
        request,
        "assess/home.html",
        status_code=status_code,
        year=year,
        rulebook=rulebook,
        indicators=[(i, source_of(i)) for i in indicators],
        units=units,
        values=list(reversed(manual_history(svc.engine, year))),
        runs=list(reversed(list_runs(svc.engine, year))),
        **ctx,
    )


@router.get("")
def home(request: Request, year: int | None = None, actor: Actor = staff("assessor")) -> Response:
    return _home(request, _year(services(request), year))


@router.post("/values")
def enter_value(
    request: Request,
    year: int = Form(...),
    unit: str = Form(""),
    indicator: str = Form(""),
    value: str = Form(""),
    note: str = Form(""),
    actor: Actor = staff("assessor"),
) -> Response:
    """`inspect score input`: one manual value or judgement deduction, by the assessor."""
    from inspect_kit.score.service import add_manual_value

    svc = services(request)
    try:
        add_manual_value(
            svc.engine,
            _rulebook(svc),
            year=year,
            unit=unit,
            indicator=indicator,
            value=value,
            note=note,
            now=svc.clock(),
            by=actor.name,
        )
    except ValidationFailed as exc:
        problems: dict[str, list[str]] = {}
        for p in exc.problems:
            problems.setdefault(p.key or "", []).append(p.reason)
        form = dict(unit=unit, indicator=indicator, value=value, note=note)
        return _home(request, year, status_code=422, form=form, problems=problems)
    return RedirectResponse(f"/assess?year={year}&entered=1", status_code=303)


@router.post("/runs")
def run(request: Request, year: int = Form(...), actor: Actor = staff("assessor")) -> Response:
    """`inspect score --year`: score every unit as of today (at most 31 December) and store the run."""
    from inspect_kit.score.service import default_as_of, policy_from_config, run_scoring

    svc = services(request)
    now = svc.clock()
    run_scoring(
        svc.engine,
        _rulebook(svc),
        year,
        as_of=default_as_of(year, now.date()),
        now=now,
        policy=policy_from_config(svc.config()),
        by=actor.name,
    )
    return RedirectResponse(f"/assess/runs/{year}", status_code=303)


def _stored(request: Request, year: int, run_id: int | None = None) -> Any:
    from inspect_kit.score.service import list_runs, load_run

    engine = services(request).engine
    if run_id is None and not list_runs(engine, year):
        raise HTTPException(404, f"{year}年度尚无考评运行")
    return load_run(engine, run_id, year=year)


@router.get("/runs/{year}")
def ranking(request: Request, year: int, actor: Actor = staff("assessor")) -> Response:
    from decimal import Decimal

    stored = _stored(request, year)
    bars = [Bar(f"{u.name}", Decimal(u.total)) for u in stored.run.units]
    chart = bar_chart(bars, f"{year}年度各单位考评总分")
    warnings = list(stored.warnings) + list(stored.run.warnings)
    return services(request).render(
        request, "assess/ranking.html", stored=stored, rows=stored.ranking(), chart=chart, warnings=warnings
    )


@router.get("/runs/{year}/units/{code}")
def unit(request: Request, year: int, code: str, actor: Actor = staff("assessor")) -> Response:
    """`inspect score explain CODE --year`: every indicator with its rule and points, and a chart."""
    from decimal import Decimal

    from inspect_kit.score.service import explain_unit

    stored = _stored(request, year)
    try:
        result = stored.run.unit(code)
    except KeyError:
        raise HTTPException(404, f"考评运行 #{stored.id} 中没有单位 {code}") from None
    lines = explain_unit(stored, code, limit=None)
    bars = [
        Bar(i.name, Decimal(i.points), Decimal(str(float(i.max))) if i.max > 0 else None) for i in result.indicators
    ]
    chart = bar_chart(bars, f"{result.name}各项指标得分")
    return services(request).render(request, "assess/unit.html", stored=stored, unit=result, lines=lines, chart=chart)


@router.get("/runs/{year}/report.pdf")
def report(request: Request, year: int, actor: Actor = staff("assessor")) -> Response:
    """The report PDF of the year's latest run, as `inspect score report` writes it (dated today;
    not recorded as a notice: publishing it stays `inspect score report`)."""
    from inspect_kit.score.report import default_issuer, fonts_from_config, report_pdf

    svc = services(request)
    _stored(request, year)  # 404 when there is no run
    cfg = svc.config()
    try:
        stored, pdf = report_pdf(
            svc.engine,
            year=year,
            issuer=default_issuer(cfg),
            issue_date=svc.clock().date(),
            county=cfg.settings.county.name,
            fonts=fonts_from_config(cfg),
        )
    except InspectError as exc:
        raise HTTPException(422, str(exc)) from None
    name = f"score-{stored.year}-run{stored.id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
