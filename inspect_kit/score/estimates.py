"""What the year's samples say about every registry (inspect_kit.findings.estimates), per matter
and period: pure, over a scoring Snapshot.

For each current draw of the year (as of the snapshot's day) the frame's strata give N, the tasks
with a recorded finding give n, and those whose results the code book counts as a problem give
x; `stratified` turns them into the share of the frame with problems and its 95% interval. A
draw whose frame records no strata is skipped (nothing to weight by).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from inspect_kit.findings.estimates import Estimate, percent, stratified
from inspect_kit.score.records import Snapshot


@dataclass(frozen=True)
class MatterEstimate:
    matter: str
    name: str
    period: str
    estimate: Estimate

    def to_dict(self) -> dict[str, Any]:
        return {"matter": self.matter, "period": self.period} | self.estimate.to_dict()

    def row(self) -> list[str]:
        e = self.estimate
        interval = "—" if e.low is None else f"{percent(e.low)}～{percent(e.high)}"
        return [self.name, self.period, str(e.N), str(e.n), str(e.x), percent(e.share), interval]


HEADER = ["抽查事项", "期次", "总体户数", "已检查", "发现问题", "问题率估计", "95%置信区间"]


def snapshot_estimates(s: Snapshot, problem: Callable[[Sequence[str]], bool]) -> list[MatterEstimate]:
    """One estimate per current draw of the year that has a recorded finding, by matter and period."""
    out = []
    for (code, _), d in sorted(s.draws.items(), key=lambda kv: (kv[0][0], kv[1].period)):
        if d.period.year != s.year:
            continue
        strata = s.strata.get(d.frame_id) or []
        n: Counter[str] = Counter()
        x: Counter[str] = Counter()
        for t in s.tasks.get(d.id, ()):
            f = s.findings.get(t.id)
            if f is None or f.inspection_end > s.as_of:
                continue
            n[t.stratum] += 1
            x[t.stratum] += bool(problem(f.results))
        if not strata or not n:
            continue
        rows = [(str(e["stratum"]), int(e["N"]), n[str(e["stratum"])], x[str(e["stratum"])]) for e in strata]
        spec = s.matters.get(code)
        out.append(MatterEstimate(code, spec.name if spec else code, d.period.label, stratified(rows)))
    return out
