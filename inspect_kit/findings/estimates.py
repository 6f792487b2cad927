"""What a random sample says about everyone: the share of entities with problems, with 95% intervals.

Pure. Because the entities inspected were drawn at random within each stratum, the share of them
found with a problem estimates the share in the whole stratum (the sector), and the strata
together estimate the matter's whole frame:

* one stratum — x problems among n inspected, out of N in the frame: p = x/n with the Wilson
  score interval (``wilson``; good at small n and near 0 or 1) or the exact Clopper–Pearson
  interval (``exact``). Neither uses the finite-population correction, so both are conservative
  when n is a large part of N; a stratum inspected in full (n = N) is known exactly: [p, p].
* several strata — the stratified estimator p_st = Σ W_h p_h with W_h = N_h / N, and
  Var(p_st) = Σ W_h² (1 − n_h/N_h) p_h (1 − p_h) / (n_h − 1) (with the finite-population
  correction). The interval is Wilson's around p_st with Kish's effective sample size
  n_eff = p_st (1 − p_st) / Var (Σ n_h when Var is 0 but some stratum was not inspected in
  full): the plain p_st ± z·√Var under-covers badly when problems are rare (a few per cent),
  which is the usual case. A stratum with n_h = 0 contributes no
  information: the estimate then covers only the strata inspected, and says so (``covered``).

Only inspected tasks count (a drawn task without a result is not evidence either way); if results
are missing not at random, the estimate is biased, and the notice states how many are missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Z95 = 1.959963984540054  # the two-sided 95% normal quantile


@dataclass(frozen=True)
class StratumEstimate:
    stratum: str
    N: int  # entities in the frame
    n: int  # inspected (with a recorded result)
    x: int  # of which with a problem found
    share: float | None  # x / n, None when n = 0
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Estimate:
    strata: tuple[StratumEstimate, ...]
    N: int
    n: int
    x: int
    share: float | None  # the stratified estimate for the strata inspected
    low: float | None
    high: float | None
    covered: int  # frame entities in strata with n > 0 (the part the estimate speaks for)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: N, inspected, problems, share, low, high, covered and the strata."""
        return {
            "N": self.N,
            "inspected": self.n,
            "problems": self.x,
            "share": self.share,
            "low": self.low,
            "high": self.high,
            "covered": self.covered,
            "strata": [
                {"stratum": s.stratum, "N": s.N, "n": s.n, "x": s.x, "share": s.share, "low": s.low, "high": s.high}
                for s in self.strata
            ],
        }


def _check(N: int, n: int, x: int) -> None:
    if not (0 <= x <= n <= N):
        raise ValueError(f"need 0 <= problems ({x}) <= inspected ({n}) <= frame size ({N})")


def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for x successes in n trials."""
    if n == 0:
        raise ValueError("no trials")
    return _wilson(x / n, n, z)


def _wilson(p: float, n: float, z: float) -> tuple[float, float]:
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def exact(x: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """The Clopper–Pearson interval (beta quantiles)."""
    from scipy.stats import beta

    if n == 0:
        raise ValueError("no trials")
    low = 0.0 if x == 0 else float(beta.ppf(alpha / 2, x, n - x + 1))
    high = 1.0 if x == n else float(beta.ppf(1 - alpha / 2, x + 1, n - x))
    return low, high


def stratum_estimate(stratum: str, N: int, n: int, x: int, method: str = "wilson") -> StratumEstimate:
    _check(N, n, x)
    if n == 0:
        return StratumEstimate(stratum, N, n, x, None, None, None)
    p = x / n
    if n == N:  # the whole stratum was inspected: no sampling error
        return StratumEstimate(stratum, N, n, x, p, p, p)
    low, high = (wilson if method == "wilson" else exact)(x, n)
    return StratumEstimate(stratum, N, n, x, p, low, high)


def stratified(strata: Sequence[tuple[str, int, int, int]], method: str = "wilson", z: float = Z95) -> Estimate:
    """The estimate over strata given as (label, N, n, x); see the module docstring."""
    each = tuple(stratum_estimate(label, N, n, x, method) for label, N, n, x in strata)
    N_all, n_all, x_all = sum(s.N for s in each), sum(s.n for s in each), sum(s.x for s in each)
    seen = [s for s in each if s.n > 0]
    covered = sum(s.N for s in seen)
    if not seen or covered == 0:
        return Estimate(each, N_all, n_all, x_all, None, None, None, covered)
    if len(seen) == 1:
        s = seen[0]
        return Estimate(each, N_all, n_all, x_all, s.share, s.low, s.high, covered)
    share = sum(s.N / covered * (s.x / s.n) for s in seen)
    var = 0.0
    for s in seen:
        if s.n > 1 and s.n < s.N:
            p = s.x / s.n
            var += (s.N / covered) ** 2 * (1 - s.n / s.N) * p * (1 - p) / (s.n - 1)
    sampled = [s for s in seen if s.n < s.N]
    if not sampled:  # every stratum inspected in full
        return Estimate(each, N_all, n_all, x_all, share, share, share, covered)
    n_eff = share * (1 - share) / var if var > 0 else float(sum(s.n for s in seen))
    low, high = _wilson(share, n_eff, z)
    return Estimate(each, N_all, n_all, x_all, share, low, high, covered)


def percent(value: float | None) -> str:
    """'12.3%' (one decimal), or '—' when there is nothing to estimate."""
    return "—" if value is None else f"{100 * value:.1f}%"
