"""Coordinated draws with shared random numbers (PRN; Ohlsson 1995), pure.

A county may coordinate the matters of one year (config ``[coordination.YEAR]``): a published
yearly seed S and groups of matters, each group ``positive`` or ``negative``.

The numbers (rule 2, "inspect-kit/prn/2", every new commitment). A draw of group g whose
commitment named a seed source gets, for every entity i, the 256-bit number

    prn_seed = sha256(utf8(json([PRN_RULE_2, S, g, P(, salt)])))   as hex
    x_i      = int(sha256(hex(sha256(prn_seed)) + i))          # the consistent-sampler digest
    u_i      = x_i / 2**256                                      # in [0, 1)

P is the draw's PUBLIC SEED: the value of the seed source its commitment named (a lottery issue, a
drand round, a witnessed meeting's dice), which exists only after the frame is frozen and
committed; salt is a sealed draw's salt (revealed when it is unsealed). x_i is the very digest
`consistent-sampler` computes for i under the seed prn_seed, so the u_i of distinct identifiers
behave as independent uniform variables (the random-oracle model of SHA-256 every draw already
relies on). They do not depend on the matter or the period: every draw of the group committed to
the SAME seed source (one draw meeting: the year's matters and the first quarter's, say) sees the
same u_i, and these draws are coordinated with each other. Draws committed to different sources
get independent numbers, and overlap as independent draws do; a sealed draw is coordinated only
with draws sharing its salt.

Why the public seed is in the numbers. The textbook PRN is permanent: drawn once (here it would be
from S alone, published with the annual plan) and kept. Then anyone who knows S knows the
numbers before a draw, and with them who is favoured: a start point drawn afresh at each draw
does not cure it, because given the numbers an entity's chance is the gap before it on the
circle, not n/N (tests/test_coordination.py measures the spread). With P in the numbers, nothing
known before the commitment tells who will be drawn — the same guarantee as an uncoordinated draw
— at the price that the numbers are shared within one draw meeting, not across the year.

Shifts. Matter m of a group with K matters holds the slot k(m) in 0..K-1 (its place in the
configured list). Its draw uses v_i = (u_i + s(m)) mod 1 with s(m) = 0 (positive) or k(m)/K
(negative), computed exactly on integers modulo 2**256 (the shift is floor(k * 2**256 / K)).
Within each stratum the draw takes the n entities with the smallest v_i (ties, which need equal
256-bit values, by identifier).

Rule 1 ("inspect-kit/prn/1") is the permanent form, for a county that wants the numbers kept for
the year (``numbers = "yearly"``) and accepts that they are known once S is published: prn_seed
= sha256(json([PRN_RULE, S, g])), and v_i = (u_i + c(p) + s(m)) mod 1 with the start
c(p) = int(sha256(json([START_RULE, S, g, r(p)]))) / 2**256, r(p) the year for a matter drawn once
a year or with annual coverage, else the period label ("rotation"). Its commitments are verified
as before. Every probability below holds under rule 1 only over the randomness of S.

Inclusion probability. For a fixed frame, v_i = (u_i + s) mod 1 with s fixed is again a family of
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

* positive (same shift): two matters of one stratum of size N with sizes n1 <= n2 take the n1 and
  n2 smallest of the same numbers, so the first sample lies inside the second: overlap
  min(n1, n2), the most the quotas allow (independent draws overlap n1·n2/N on average);
* negative (shifts 1/K apart): matter k takes the arc of the circle beginning at k/K; arcs of
  length about n/N do not meet while n1/N, n2/N stay below 1/K, so no entity is drawn twice
  unless the quotas force it (when n1 + n2 > N overlap is unavoidable; expected overlap is then
  small and never below max(0, n1 + n2 - N)).

Published tickets. The ticket of a coordinated draw is v_i written as a decimal fraction of
exactly 78 digits, "0." + str(floor(v_i · 10**78)).zfill(78): a well-formed consistent-sampler
ticket whose string order is the order of v_i (all have the same length).

Verification. Everything above follows from the bundle's "coordination" entry (rule, yearly
seed, group, mode, slot, slots; rule 1: rotation key), its seed derivation (public seed, salt) and
its frame: `prn_tickets` re-derives the tickets, `draw_rows_coordinated` the sample. Under rule 2
the yearly seed may be any text published with the annual plan (it names the group's numbers; P
decides who is drawn); the frame is frozen and published (its hash) before each draw, and caps
and exemptions act on the frame only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from .frame import DrawResult, draw_stratified
from .sampler import Selected, _checked_ids, digest_block

PRN_RULE = "inspect-kit/prn/1"  # rule 1: numbers and start from the yearly seed alone
PRN_RULE_2 = "inspect-kit/prn/2"  # rule 2: numbers from the yearly seed and the draw's public seed
RULES = (PRN_RULE, PRN_RULE_2)
START_RULE = "inspect-kit/prn-start/1"
MODES = ("positive", "negative")
_TWO_256 = 1 << 256
_TEN_78 = 10**78

Mode = Literal["positive", "negative"]


def _rule_hash(parts: Sequence[str]) -> str:
    return hashlib.sha256(json.dumps(list(parts), ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class Coordination:
    """How one matter's draw is coordinated. ``to_dict`` is what its commitment and bundle store.

    Rule 2 (``rotation`` None): the numbers need ``public_seed`` (and a sealed draw's ``salt``),
    which exist only at the draw: `at_draw` fills them in; they are not part of ``to_dict``
    (the bundle's seed derivation carries them). Rule 1: ``rotation`` is the rotation key."""

    yearly_seed: str
    group: str
    mode: Mode
    slot: int
    slots: int
    rotation: str | None = None  # rule 1 only: the year, or the period label
    public_seed: str | None = None  # rule 2: the draw's public seed, known once its source is
    salt: str | None = None  # rule 2: a sealed draw's salt

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"coordination mode must be one of {MODES}, got {self.mode!r}")
        if not self.yearly_seed or not self.group or self.rotation == "":
            raise ValueError("coordination needs a yearly seed, a group (and, rule 1, a rotation key)")
        if type(self.slots) is not int or type(self.slot) is not int or not 0 <= self.slot < self.slots:
            raise ValueError(f"coordination slot {self.slot!r} outside 0..{self.slots!r}-1")

    @property
    def rule(self) -> str:
        return PRN_RULE if self.rotation is not None else PRN_RULE_2

    @property
    def prn_seed(self) -> str:
        """The seed of the entities' numbers (see the module docstring)."""
        if self.rotation is not None:
            return _rule_hash([PRN_RULE, self.yearly_seed, self.group])
        if self.public_seed is None:
            raise ValueError("a coordinated draw's numbers need the draw's public seed (its seed derivation)")
        parts = [PRN_RULE_2, self.yearly_seed, self.group, self.public_seed]
        return _rule_hash(parts + ([self.salt] if self.salt is not None else []))

    def at_draw(self, public_seed: str, salt: str | None = None) -> "Coordination":
        """This coordination with the draw's public seed (and salt): what rule 2's numbers need."""
        return replace(self, public_seed=public_seed, salt=salt)

    @property
    def offset(self) -> int:
        """(s(m), rule 1: c(p) + s(m)) · 2**256, as an integer modulo 2**256."""
        start = 0
        if self.rotation is not None:
            start = int(_rule_hash([START_RULE, self.yearly_seed, self.group, self.rotation]), 16)
        shift = self.slot * _TWO_256 // self.slots if self.mode == "negative" else 0
        return (start + shift) % _TWO_256

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"rule": self.rule, "yearly_seed": self.yearly_seed, "group": self.group}
        data |= {"mode": self.mode, "slot": self.slot, "slots": self.slots}
        if self.rotation is not None:
            data["rotation"] = self.rotation
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Coordination":
        rule = data.get("rule")
        if rule not in RULES:
            raise ValueError(f"unknown coordination rule {rule!r} (expected one of {RULES})")
        rotation = str(data["rotation"]) if rule == PRN_RULE else None
        return cls(str(data["yearly_seed"]), str(data["group"]), data["mode"], data["slot"], data["slots"], rotation)

    @classmethod
    def of_bundle(cls, entry: Mapping[str, Any], derivation: Mapping[str, Any] | None) -> "Coordination":
        """A bundle's coordination entry with its public seed and salt from its seed derivation."""
        coord = cls.from_dict(entry)
        if coord.rotation is not None:
            return coord
        if not isinstance(derivation, Mapping) or not isinstance(derivation.get("public_seed"), str):
            raise ValueError("a coordinated draw (rule 2) needs the bundle's seed derivation (its public seed)")
        salt = derivation.get("salt")
        return coord.at_draw(derivation["public_seed"], salt if isinstance(salt, str) else None)


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

    ``plan``: {"seed": S, "numbers": "per-meeting" | "yearly", "groups": {name: {"mode": ...,
    "matters": [codes]}}} (the config's [coordination.YEAR] table as a plain dict). "per-meeting"
    (the default) gives rule 2; "yearly" rule 1, whose rotation key is the year when
    ``year_rotation`` (the matter is drawn once a year or with annual coverage), else the period."""
    if not plan:
        return None
    for name in sorted(plan["groups"]):
        group = plan["groups"][name]
        codes = list(group["matters"])
        if matter in codes:
            rotation = None
            if plan.get("numbers", "per-meeting") == "yearly":
                rotation = period_label[:4] if year_rotation else period_label
            return Coordination(str(plan["seed"]), name, group["mode"], codes.index(matter), len(codes), rotation)
    return None
