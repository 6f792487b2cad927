"""Plain-text explanation of one unit's score, for the CLI: every number that makes the total."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from inspect_kit.score.numbers import cents_to_decimal, format_number, round_to_cents
from inspect_kit.score.results import CategoryResult, IndicatorResult, ScoringRun, UnitResult

FLAG_NAMES = {"missing": "数据缺失", "not_applicable": "不适用", "veto": "一票否决"}
GROUP_NAMES = {"department": "部门", "township": "乡镇"}


def explain(unit: UnitResult) -> list[str]:
    """Lines of text; the last one shows the total as the sum of the presented indicator points."""
    lines = [
        f"{unit.name}（{unit.code}）：总分 {unit.total}，等次 {unit.grade}，排名 第{unit.rank}名"
        + ("" if unit.group == "all" else f"（{GROUP_NAMES.get(unit.group, unit.group)}组内）")
    ]
    if unit.grade != unit.score_grade:
        lines.append(f"  按总分应为“{unit.score_grade}”")
    lines.extend(f"  ※ {note}" for note in unit.notes)
    for cat in unit.categories:
        lines.append(_category_header(cat))
        for ind in cat.indicators:
            lines.extend(_indicator_lines(ind))
    parts = " + ".join(_signed(i.points) for i in unit.indicators)
    lines.append(f"合计：{parts} = {unit.total}")
    return lines


def explain_run(run: ScoringRun) -> list[str]:
    """A header naming the rulebook and its fingerprints, then every unit."""
    lines = [
        f"考评细则：{run.rulebook_name}（版本 {run.rulebook_version}）",
        f"细则 SHA-256：{run.rulebook_sha256}",
        f"输入 SHA-256：{run.inputs_sha256}",
    ]
    lines.extend(f"注意：{w}" for w in run.warnings)
    lines.append("")
    for unit in run.units:
        lines.extend(explain(unit))
        lines.append("")
    return lines


def _category_header(cat: CategoryResult) -> str:
    base = f" / 满分 {_num(cat.max)}"
    if cat.effective_max != cat.max:
        base += f"（因不适用指标调整为 {cents_to_decimal(round_to_cents(cat.effective_max))}）"
    limit = {
        "base": base,
        "bonus": f"（加分上限 {_num(cat.max)}）",
        "penalty": f"（扣分上限 {_num(cat.max)}）",
        "veto": "",
    }[cat.kind]
    return f"【{cat.name}】小计 {cat.points}{limit}"


def _indicator_lines(ind: IndicatorResult) -> list[str]:
    flags = "".join(f"［{FLAG_NAMES[f]}］" for f in ind.flags)
    out = [f"  {ind.name}（{ind.key}）：{ind.points} 分{flags}"]
    value = _input_text(ind)
    if value:
        out.append(f"    数据：{value}")
    if ind.criteria:
        out.append(f"    标准：{ind.criteria}")
    out.append(f"    规则：{ind.rule}")
    if ind.kind != "veto" and "not_applicable" not in ind.flags:
        out.append(f"    计分：{_calculation(ind)}")
    if ind.note:
        out.append(f"    说明：{ind.note}")
    for rec in ind.records:
        ref = f"{rec.ref}：" if rec.ref else ""
        out.append(f"    · {_signed_num(rec.points)} {ref}{rec.note}".rstrip())
    return out


def _input_text(ind: IndicatorResult) -> str:
    if ind.value is None:
        return ""
    text = format_number(ind.value, ind.display == "percent")
    if ind.numerator is not None and ind.denominator is not None:
        text += f"（{ind.numerator}/{ind.denominator}）"
    if ind.normalised is not None:
        text += f"，标准化得分 {format_number(ind.normalised)}"
    return text


def _calculation(ind: IndicatorResult) -> str:
    text = f"规则得分 {_num(ind.raw_points)}"
    if ind.weight != 1:
        exact = f"（={ind.weight}）" if _num(ind.weight).startswith("≈") else ""
        text += f" × 系数 {_num(ind.weight)}{exact} = {_num(ind.exact_points)}"
    if Fraction(ind.points) != ind.exact_points:
        text += f"，记 {ind.points}"
        if round_to_cents(ind.exact_points) != round_to_cents(Fraction(ind.points)):
            text += "（尾差调整：各项之和须等于四舍五入后的小计与总分）"
    return text


def _num(x: Fraction) -> str:
    return format_number(x)


def _signed(x: Decimal) -> str:
    return f"({x})" if x < 0 else str(x)


def _signed_num(x: Fraction) -> str:
    return ("+" if x >= 0 else "−") + format_number(abs(x))
