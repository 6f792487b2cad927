"""Annual coverage mode: every entity of a stratum drawn exactly once per cycle (e.g. 4 × 25%).

With a fixed population of N over P periods (P = 4 quarters, 12 months), period q (0-based)
draws

    n_q = floor((q+1)·N/P) − floor(q·N/P)

from the entities not yet drawn this cycle. The n_q differ by at most one, sum to N, and the
draws are disjoint by construction, so the cycle covers everyone exactly once.

Populations change during a year. The rule used for each draw, with

    D = draws already made from this stratum this cycle (including entities that left since),
    R = the remaining pool: current members of the stratum not drawn this cycle (in any stratum),
    M = D + R, the cycle's population as known now,

is  n = max(0, floor((q+1)·M/P) − D).

* Nothing changed: D = floor(q·N/P) and R = N − D, so M = N and n equals n_q above.
* Disjoint: the draw is made from R only, which excludes everyone drawn this cycle.
* Complete: in the last period (q = P−1) n = M − D = R, so whoever is left is drawn.
* Joiners enter R (and M) when they join: they raise the current and later draws and are
  certainly covered by the last period.
* Leavers drop out of R: not yet drawn, they are simply not drawn; already drawn, they stay in
  D as work done, so they do not push the pace up for the others.
* A change of stratum is a leave from the old stratum and a join to the new one. Someone
  already drawn this cycle stays counted in the old stratum's D and is not in the new
  stratum's R: they were inspected this year.
* The max(0, ·) only matters when so many undrawn members left that the stratum is ahead of
  its pace; the draw is then empty and the last period still takes the rest. (floor((q+1)M/P)
  − D never exceeds R, since (q+1)/P <= 1.)

Everything here is a pure function of counts; choosing R is the caller's job (the frame of a
coverage draw is the remaining pool).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from .quota import Rounding, SizeExplanation


def _check(name: str, value: object, minimum: int = 0) -> int:
    if type(value) is not int or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def period_sizes(N: int, periods: int) -> list[int]:
    """Draw sizes over a cycle for a fixed population, e.g. period_sizes(10, 4) == [2, 3, 2, 3]."""
    _check("N", N)
    _check("periods", periods, 1)
    return [(q + 1) * N // periods - q * N // periods for q in range(periods)]


@dataclass(frozen=True)
class CoverageRule:
    """The size rule of one stratum in coverage mode for period `period` (0-based) of `periods`."""

    period: int
    periods: int
    drawn_before: int

    def __post_init__(self) -> None:
        _check("periods", self.periods, 1)
        _check("period", self.period)
        _check("drawn_before", self.drawn_before)
        if self.period >= self.periods:
            raise ValueError(f"period {self.period} is outside 0..{self.periods - 1}")


def coverage_size(period: int, periods: int, drawn_before: int, remaining: int) -> int:
    """n = max(0, floor((period+1)·(drawn_before+remaining)/periods) − drawn_before)."""
    return explain_coverage(remaining, CoverageRule(period, periods, drawn_before)).n


def explain_coverage(remaining: int, rule: CoverageRule) -> SizeExplanation:
    """n for a remaining pool of `remaining` entities, with the explanation line."""
    _check("remaining", remaining)
    cycle = rule.drawn_before + remaining
    due = Fraction((rule.period + 1) * cycle, rule.periods)
    raw = due - rule.drawn_before
    behind = (rule.period + 1) * cycle // rule.periods - rule.drawn_before
    n = max(0, behind)
    line = (
        f"N={remaining} remaining, annual coverage period {rule.period + 1} of {rule.periods}, "
        f"{rule.drawn_before} drawn before: floor({rule.period + 1}×{cycle}/{rule.periods})"
        f"−{rule.drawn_before}={behind}"
    )
    if behind < 0:
        line += ", ahead of pace, so n=0"
    return SizeExplanation(remaining, "coverage", Rounding.FLOOR, raw, n, line)
