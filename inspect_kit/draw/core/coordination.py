"""Coordinated draws with permanent random numbers (PRN; Ohlsson 1995), pure.

A county may coordinate the matters of one year (config ``[coordination.YEAR]``): a published
yearly seed S and groups of matters, each group ``positive`` or ``negative``.

Permanent random numbers. Every entity i gets, for the year and the group g, the 256-bit number

    prn_seed = sha256(utf8(json([PRN_RULE, S, g])))   as hex
    x_i      = int(sha256(hex(sha256(prn_seed)) + i))          # the consistent-sampler digest
    u_i      = x_i / 2**256                                      # in [0, 1)

x_i is the very digest `consistent-sampler` computes for i under the seed prn_seed, so the u_i of
distinct identifiers behave as independent uniform variables (the random-oracle model of SHA-256
every draw already relies on). They do not depend on the matter: every matter of the group sees
the SAME u_i.

Start points. Matter m of a group with K matters holds the slot k(m) in 0..K-1 (its place in the
configured list). Its draw in period p uses the rotated number

    v_i = (u_i + c(p) + s(m)) mod 1,   c(p) = int(sha256(json([START_RULE, S, g, r(p)]))) / 2**256
                                      s(m) = 0 (positive)   or   k(m) / K (negative)

computed exactly on integers modulo 2**256 (the offset is floor(k * 2**256 / K)). r(p), the
rotation key, is the year ("2026") for a matter drawn once a year or with annual coverage (its
frame already drops the earlier samples, so the same order yields the next entities), else the
period label ("2026Q2"), so that an independent quarterly matter does not draw the same entities
every quarter. Within each stratum the draw takes the n entities with the smallest v_i (ties,
which need equal 256-bit values, by identifier).

Inclusion probability. For a fixed frame, v_i = (u_i + c) mod 1 with c fixed is again a family of
independent uniforms (rotation modulo 1 preserves the uniform law, and a bijection of independent
variables keeps them independent). The n smallest of N exchangeable values form a simple random
sample without replacement: every entity of a stratum of size N is drawn with probability exactly
n/N, every n-subset with probability 1/C(N, n) — for each matter, whatever the others do. The
coordination only changes the JOINT law of the samples of several matters:

The frame itself may depend on earlier draws with the same numbers (annual coverage drops the
entities drawn before; a cap drops those inspected enough). Such a rule leaves out entities by
what the earlier samples were, and treats all remaining entities alike: given the frame, their
numbers are still exchangeable, so the draw remains a simple random sample of the frame it is
drawn from, with probability n/N for each of its N members.

* positive (same start): two matters of one stratum of size N with sizes n1 <= n2 take the n1 and
  n2 smallest of the same numbers, so the first sample lies inside the second: overlap
  min(n1, n2), the most the quotas allow (independent draws overlap n1·n2/N on average);
* negative (starts 1/K apart): matter k takes the arc of the circle beginning at k/K; arcs of
  length about n/N do not meet while n1/N, n2/N stay below 1/K, so no entity is drawn twice
  unless the quotas force it (when n1 + n2 > N overlap is unavoidable; expected overlap is then
  small and never below max(0, n1 + n2 - N)).

Published tickets. The ticket of a coordinated draw is v_i written as a decimal fraction of
exactly 78 digits, "0." + str(floor(v_i · 10**78)).zfill(78): a well-formed consistent-sampler
ticket whose string order is the order of v_i (all have the same length).

Verification. Everything above follows from the bundle's "coordination" entry (yearly seed,
group, mode, slot, slots, rotation key) and its frame: `prn_tickets` re-derives the tickets,
`draw_rows_coordinated` the sample. The yearly seed must come from a public source published before
the first coordinated commitment and after the annual plan; the trade-off of PRN sampling is
that, once S is known, anyone can compute the order in which entities would be drawn: the
frame is still frozen and published (its hash) before each draw, and caps and exemptions act on
the frame only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from .frame import DrawResult, draw_stratified
from .sampler import Selected, _checked_ids, digest_block

PRN_RULE = "inspect-kit/prn/1"
START_RULE = "inspect-kit/prn-start/1"
MODES = ("positive", "negative")
_TWO_256 = 1 << 256
_TEN_78 = 10**78

Mode = Literal["positive", "negative"]


def _rule_hash(parts: Sequence[str]) -> str:
    return hashlib.sha256(json.dumps(list(parts), ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class Coordination:
    """How one matter's draw is coordinated (stored in its commitment and its bundle)."""

    yearly_seed: str
    group: str
    mode: Mode
    slot: int
    slots: int
    rotation: str  # the year, or the period label (see the module docstring)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"coordination mode must be one of {MODES}, got {self.mode!r}")
        if not self.yearly_seed or not self.group or not self.rotation:
            raise ValueError("coordination needs a yearly seed, a group and a rotation key")
        if type(self.slots) is not int or type(self.slot) is not int or not 0 <= self.slot < self.slots:
            raise ValueError(f"coordination slot {self.slot!r} outside 0..{self.slots!r}-1")

    @property
    def prn_seed(self) -> str:
        return _rule_hash([PRN_RULE, self.yearly_seed, self.group])

    @property
    def offset(self) -> int:
        """(c(p) + s(m)) · 2**256, as an integer modulo 2**256."""
        start = int(_rule_hash([START_RULE, self.yearly_seed, self.group, self.rotation]), 16)
        shift = self.slot * _TWO_256 // self.slots if self.mode == "negative" else 0
        return (start + shift) % _TWO_256

    def to_dict(self) -> dict[str, Any]:
        return {"rule": PRN_RULE, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Coordination":
        if data.get("rule") != PRN_RULE:
            raise ValueError(f"unknown coordination rule {data.get('rule')!r} (expected {PRN_RULE!r})")
        return cls(
            str(data["yearly_seed"]),
            str(data["group"]),
            data["mode"],
            data["slot"],
            data["slots"],
            str(data["rotation"]),
        )


def rotated(coord: Coordination, ids: Sequence[str]) -> list[int]:
    """(x_i + offset) mod 2**256 for each id, in input order."""
    block = digest_block(coord.prn_seed, list(ids))
    offset = coord.offset
    return [(int.from_bytes(block[k : k + 32], "big") + offset) % _TWO_256 for k in range(0, len(block), 32)]


def ticket_of(value: int) -> str:
    """The 78-digit decimal ticket of a rotated value (see the module docstring)."""
    return "0." + str(value * _TEN_78 >> 256).zfill(78)


def prn_tickets(coord: Coordination, ids: Iterable[str]) -> list[str]:
    return [ticket_of(v) for v in rotated(coord, _checked_ids(ids))]


def coordinated_select(coord: Coordination, ids: Iterable[str], n: int) -> list[Selected]:
    """The n ids with the smallest rotated numbers, in that order (ties by id), ranks 1..n."""
    id_list = _checked_ids(ids)
    if type(n) is not int or not 0 <= n <= len(id_list):
        raise ValueError(f"sample size must be an int in 0..{len(id_list)}, got {n!r}")
    if len(set(id_list)) != len(id_list):
        raise ValueError("duplicate identifiers")
    values = rotated(coord, id_list)
    order = sorted(range(len(id_list)), key=lambda k: (values[k], id_list[k]))[:n]
    return [Selected(id_list[k], ticket_of(values[k]), rank) for rank, k in enumerate(order, start=1)]


def draw_rows_coordinated(
    coord: Coordination, rows: Iterable[Sequence[str]], sizes: Mapping[str, int], seed: str
) -> DrawResult:
    """`draw_stratified` for a coordinated draw."""
    return draw_stratified(seed, rows, sizes, lambda pop, n: coordinated_select(coord, pop, n))


def coordination_for(
    plan: Mapping[str, Any] | None, matter: str, period_label: str, year_rotation: bool
) -> Coordination | None:
    """The coordination of `matter` drawn in `period_label` under a year's plan, or None.

    ``plan``: {"seed": S, "groups": {name: {"mode": ..., "matters": [codes]}}} (the config's
    [coordination.YEAR] table as a plain dict). ``year_rotation``: the matter is drawn once a year
    or with annual coverage (rotation key = the year)."""
    if not plan:
        return None
    for name in sorted(plan["groups"]):
        group = plan["groups"][name]
        codes = list(group["matters"])
        if matter in codes:
            rotation = period_label[:4] if year_rotation else period_label
            return Coordination(str(plan["seed"]), name, group["mode"], codes.index(matter), len(codes), rotation)
    return None
