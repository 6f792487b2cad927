"""Exact arithmetic for scores: conversion to Fraction, rounding to cents, apportioning cents.

Scores are computed with `Fraction` so that re-weighting by 100/90 or capping a bonus
proportionally never loses a cent. Rounding happens once, at presentation, by `apportion_cents`,
which guarantees that the rounded parts add up to the rounded total.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Sequence, Union

Number = Union[int, float, Decimal, Fraction, str]


def to_fraction(value: object) -> Fraction:
    """An exact Fraction from an int, Decimal, Fraction, numeric string or float.

    A float goes through its shortest repr, so 0.95 becomes 19/20, not the binary
    approximation 0.9499999999999999555910790149937... that Fraction(0.95) would give.
    """
    if isinstance(value, bool):
        return Fraction(int(value))
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        return Fraction(repr(value))
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"not a number: {value!r}") from None
    raise TypeError(f"not a number: {value!r} ({type(value).__name__})")


def round_to_cents(value: Fraction) -> int:
    """`value` in hundredths, rounded half away from zero (the 四舍五入 people expect)."""
    return round_half_up(value * 100)


def cents_to_decimal(cents: int) -> Decimal:
    """1234 → Decimal('12.34'); always two decimal places."""
    return Decimal(cents).scaleb(-2)


def apportion_cents(parts: Sequence[Fraction], target: int | None = None) -> tuple[list[int], int]:
    """Round `parts` to cents so that they add up to `target` cents (largest remainder).

    `target` defaults to sum(parts) rounded half-up; a given target must be the floor or the
    ceiling of the exact sum in cents. Each part starts at its floor in cents; the cents still
    missing go, one each, to the parts with the largest remainders (ties: the earlier part).
    So every presented part is within 0.01 of its exact value, exact parts stay exact, and the
    presented parts sum to the target. Returns (cents per part, target).
    """
    exact_sum = sum(parts, Fraction(0))
    total = round_to_cents(exact_sum) if target is None else target
    scaled = [p * 100 for p in parts]
    floors = [math.floor(s) for s in scaled]
    missing = total - sum(floors)
    if not 0 <= missing <= sum(1 for s, f in zip(scaled, floors) if s != f):
        raise ValueError(f"cannot apportion {exact_sum} to {total} cents")
    by_remainder = sorted(range(len(parts)), key=lambda i: (-(scaled[i] - floors[i]), i))
    for i in by_remainder[:missing]:
        floors[i] += 1
    return floors, total


def format_number(value: Fraction, percent: bool = False, places: int = 4) -> str:
    """A readable exact number: '0.95', '95%', '12', or '≈1.1111' when it has no short decimal form."""
    shown = value * 100 if percent else value
    suffix = "%" if percent else ""
    scaled = shown * 10**places
    if scaled.denominator == 1:
        text = format(Decimal(scaled.numerator).scaleb(-places), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return (text if text != "-0" else "0") + suffix
    approx = Decimal(round_half_up(scaled)).scaleb(-places)
    return "≈" + format(approx, "f") + suffix


def round_half_up(value: Fraction) -> int:
    """The nearest integer, halves away from zero."""
    n = math.floor(abs(value) + Fraction(1, 2))
    return n if value >= 0 else -n
