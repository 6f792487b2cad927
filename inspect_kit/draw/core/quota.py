"""Quotas and sample sizes: exact arithmetic, explicit rounding, one explanation line each.

A quota comes from configuration in one of four kinds:

    fraction        "25%", "0.25"                  n = rounding(q × N)
    ratio           "1:10", "1：10"                n = rounding(N × 1/10)
    fixed count     12, "12"                       n = 12
    per inspector   "5×inspectors", "5*inspectors", "5x"
                                                   n = rounding(5 × on-duty inspectors)

n never exceeds N. All arithmetic is in `fractions.Fraction`, so 25% of 16 is exactly 4 and
ceil gives 4, not 5 as a float 4.000000001 would. Rounding is always named: ceil (the usual
reading of 不低于), floor, or round = half up (never Python's round-half-to-even).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from fractions import Fraction


class Rounding(str, Enum):
    CEIL = "ceil"
    FLOOR = "floor"
    ROUND = "round"  # half up: 2.5 -> 3

    @classmethod
    def parse(cls, value: Rounding | str) -> Rounding:
        if isinstance(value, Rounding):
            return value
        key = str(value).strip().lower()
        found = _ROUNDING_WORDS.get(key)
        if found is None:
            raise ValueError(f"rounding {value!r} is not one of ceil, floor, round (half up)")
        return found

    def apply(self, value: Fraction) -> int:
        if self is Rounding.CEIL:
            return math.ceil(value)
        if self is Rounding.FLOOR:
            return math.floor(value)
        return math.floor(value + Fraction(1, 2))

    def __str__(self) -> str:
        return self.value


_ROUNDING_WORDS = {
    "ceil": Rounding.CEIL,
    "不低于": Rounding.CEIL,
    "向上取整": Rounding.CEIL,
    "floor": Rounding.FLOOR,
    "不超过": Rounding.FLOOR,
    "向下取整": Rounding.FLOOR,
    "round": Rounding.ROUND,
    "half_up": Rounding.ROUND,
    "四舍五入": Rounding.ROUND,
}


class QuotaKind(str, Enum):
    FRACTION = "fraction"
    RATIO = "ratio"
    FIXED = "fixed"
    PER_INSPECTOR = "per_inspector"


_HELP = (
    "use a fraction ('25%' or '0.25'), a ratio ('1:10'), a count ('12') or a per-inspector multiple ('5×inspectors')"
)
_NUMBER = r"(\d+(?:\.\d+)?)"
_PERCENT = re.compile(_NUMBER + r"%")
_RATIO = re.compile(r"(\d+):(\d+)")
_COUNT = re.compile(r"\d+")
_DECIMAL = re.compile(r"\d*\.\d+|\d+\.")
_PER_INSPECTOR = re.compile(_NUMBER + r"[×*xX](?:inspectors?|在岗执法人员|执法人员)?", re.IGNORECASE)


@dataclass(frozen=True)
class Quota:
    """A parsed quota. `value` is the share of N (fraction, ratio), the count (fixed) or the
    multiple (per inspector). `text` is the normalised spelling, parseable again."""

    kind: QuotaKind
    value: Fraction
    text: str = field(compare=False)

    def __str__(self) -> str:
        return self.text

    # -- the behaviour of each kind, in one place ---------------------------------------------

    @property
    def pooled(self) -> bool:
        """True when the strata of a matter share one total (a per-inspector quota: the on-duty
        officers' count times the multiple, split across strata by largest remainders)."""
        return self.kind is QuotaKind.PER_INSPECTOR

    def raw_size(self, N: int, on_duty_inspectors: int | None = None) -> Fraction:
        """n before rounding and before the cap at N."""
        if self.kind is QuotaKind.FIXED:
            return self.value
        if self.kind is QuotaKind.PER_INSPECTOR:
            if on_duty_inspectors is None:
                raise ValueError(f"quota {self.text} needs the number of on-duty inspectors")
            _check_count("on_duty_inspectors", on_duty_inspectors)
            return self.value * on_duty_inspectors
        return self.value * N

    def describe_zh(
        self, N: int, n: int, rounding_zh: str, on_duty_inspectors: int | None, explanation: str
    ) -> tuple[str, str]:
        """(抽取标准, 计算过程) as the drawn-list notice prints them."""
        if self.kind is QuotaKind.FIXED:
            return (
                f"{self.text}家",
                f"固定抽取{self.text}家" + (f"，以对象数{N}为限" if int(self.value) > N else "") + f"：{n}",
            )
        if self.kind is QuotaKind.PER_INSPECTOR:
            standard = f"在岗执法人员数×{_exact_zh(self.value)}"
            if on_duty_inspectors is not None:
                standard += f"（{on_duty_inspectors}名）"
            return standard, explanation
        share, standard = self.text, self.text
        if self.kind is QuotaKind.RATIO:
            part, whole = self.text.split(":")
            share, standard = f"{part}/{whole}", f"{self.text}（每{whole}家抽{part}家）"
        return standard, f"{N}×{share}={_exact_zh(self.value * N)}，{rounding_zh}：{n}"

    @classmethod
    def parse(cls, spec: Quota | str | int | float) -> Quota:
        if isinstance(spec, Quota):
            return spec
        if isinstance(spec, bool) or not isinstance(spec, (str, int, float)):
            raise ValueError(f"quota {spec!r}: expected text or a number; {_HELP}")
        if isinstance(spec, int):
            if spec < 0:
                raise ValueError(f"quota {spec}: a count cannot be negative")
            return cls(QuotaKind.FIXED, Fraction(spec), str(spec))
        if isinstance(spec, float):  # YAML/TOML give 0.25 as a float: read its shortest decimal
            if not math.isfinite(spec):
                raise ValueError(f"quota {spec!r} is not a number")
            spec = format(Decimal(repr(spec)), "f")
        return _parse_text(spec)


def _parse_text(spec: str) -> Quota:
    # NFKC folds full-width digits, "％" and "："; whitespace carries no meaning in a quota.
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", spec))
    if m := _PERCENT.fullmatch(text):
        share = Fraction(m.group(1)) / 100
        if share > 1:
            raise ValueError(f"quota {spec!r}: a percentage cannot exceed 100%")
        return Quota(QuotaKind.FRACTION, share, text)
    if m := _RATIO.fullmatch(text):
        part, whole = int(m.group(1)), int(m.group(2))
        if whole == 0:
            raise ValueError(f"quota {spec!r}: the second number of a ratio must be positive")
        if part > whole:
            raise ValueError(f"quota {spec!r}: ratio {part}:{whole} means more than all of N")
        return Quota(QuotaKind.RATIO, Fraction(part, whole), f"{part}:{whole}")
    if _COUNT.fullmatch(text):
        return Quota(QuotaKind.FIXED, Fraction(int(text)), str(int(text)))
    if _DECIMAL.fullmatch(text):
        share = Fraction(text)
        if share > 1:
            raise ValueError(
                f"quota {spec!r}: a decimal quota is a share of N and must lie between 0 and 1 "
                f"(write a count without a decimal point, e.g. '12')"
            )
        return Quota(QuotaKind.FRACTION, share, text)
    if m := _PER_INSPECTOR.fullmatch(text):
        return Quota(QuotaKind.PER_INSPECTOR, Fraction(m.group(1)), f"{m.group(1)}×inspectors")
    raise ValueError(f"quota {spec!r} is not understood; {_HELP}")


def _exact_zh(x: Fraction) -> str:
    """An exact number for a notice: '3', '2.9', or '3.3333…' when the decimals do not end within 4."""
    if x.denominator == 1:
        return str(x.numerator)
    text = f"{float(x):.4f}".rstrip("0").rstrip(".")
    return text if Fraction(text) == x else f"{text}…"


@dataclass(frozen=True)
class SizeExplanation:
    """How n followed from N, the quota and the rounding; `line` is for humans and notices."""

    N: int
    quota_text: str
    rounding: Rounding
    raw: Fraction  # before rounding and before the cap at N
    n: int
    line: str


def format_exact(value: Fraction) -> str:
    """'5.0', '4.25', or '10/3≈3.3333' when the decimal expansion does not end."""
    denominator, twos, fives = value.denominator, 0, 0
    while denominator % 2 == 0:
        denominator, twos = denominator // 2, twos + 1
    while denominator % 5 == 0:
        denominator, fives = denominator // 5, fives + 1
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}≈{float(value):.4f}"
    places = max(twos, fives, 1)
    return f"{Decimal(value.numerator) / Decimal(value.denominator):.{places}f}"


def _check_count(name: str, value: object) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return value


def sample_size(
    N: int,
    quota: Quota | str | int | float,
    rounding: Rounding | str = Rounding.CEIL,
    on_duty_inspectors: int | None = None,
) -> SizeExplanation:
    """n for a population of N, e.g. line 'N=50, quota 1:10, ceil(5.0)=5'."""
    _check_count("N", N)
    quota, rounding = Quota.parse(quota), Rounding.parse(rounding)
    described = f"quota {quota.text}"
    raw = quota.raw_size(N, on_duty_inspectors)
    if quota.pooled:
        described += f" with {on_duty_inspectors} on duty"
    rounded = rounding.apply(raw)
    n = min(rounded, N)
    line = f"N={N}, {described}, {rounding}({format_exact(raw)})={rounded}"
    if n < rounded:
        line += f", capped at N={N}"
    return SizeExplanation(N, quota.text, rounding, raw, n, line)


def allocate_largest_remainder(total: int, sizes: Mapping[str, int]) -> dict[str, int]:
    """Split `total` across strata in proportion to their sizes (Hamilton's method).

    Each stratum first gets floor(total × N_s / ΣN); the units left over go one each to the
    largest remainders, equal remainders in ascending order of stratum label (code points).
    Never gives a stratum more than its size, since total <= ΣN.
    """
    _check_count("total", total)
    for label, size in sizes.items():
        _check_count(f"size of stratum {label!r}", size)
    population = sum(sizes.values())
    if total > population:
        raise ValueError(f"cannot allocate {total} across strata holding {population} in all")
    if population == 0:
        return {label: 0 for label in sorted(sizes)}
    shares = {label: Fraction(total * size, population) for label, size in sizes.items()}
    allocation = {label: math.floor(share) for label, share in shares.items()}
    left_over = total - sum(allocation.values())
    by_remainder = sorted(shares, key=lambda label: (-(shares[label] - allocation[label]), label))
    for label in by_remainder[:left_over]:
        allocation[label] += 1
    return {label: allocation[label] for label in sorted(allocation)}


@dataclass(frozen=True)
class QuotaRule:
    """The size rule of one stratum: a quota and its rounding."""

    quota: Quota
    rounding: Rounding = Rounding.CEIL

    @classmethod
    def of(cls, quota: Quota | str | int | float, rounding: Rounding | str = "ceil") -> QuotaRule:
        return cls(Quota.parse(quota), Rounding.parse(rounding))
