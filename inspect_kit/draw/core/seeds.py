"""Seeds a dishonest operator cannot steer: structured public sources and the per-draw seed rule.

Pure: no database, no files, no clock. Times are naive datetimes in China Standard Time (UTC+8),
the clock inspect-kit stores everywhere; drand rounds are converted to it.

Seed sources (``SeedSource``). The source is named in the commitment, BEFORE its value exists:

* ``drand``: a League of Entropy round (``quicknet``, 3 s, or ``mainnet``, 30 s). The round's
  publication time, genesis + period × (round − 1), must be after the commitment. At draw time
  the round's BLS signature is verified offline (PyPI ``drand-verify``) and the public seed is
  the round's randomness, sha256(signature), as 64 lowercase hex digits.
* ``lottery``: a public lottery draw (name, issue number 期号, draw date). Its draw date must be
  a later day than the commitment. At draw time the published numbers are entered; the public
  seed is ``"<name> <issue> <date>: <numbers>"``. Checkable against the lottery's own
  announcement, not cryptographically.
* ``witnessed``: dice or a 摇号 machine at a meeting, with the witnesses named. The operator
  could influence it; the notice says so.

The per-draw seed (``derive_seed``). Every (matter, period) draws with its own seed, so that two
matters over the same entities draw independent samples:

    derived = sha256(utf8(json([RULE, public_seed, ticket_group, period] (+ [salt]))))  as hex

where json is ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))``, RULE is
``"inspect-kit/draw-seed/1"``, ``ticket_group`` is the matter code unless the matters list
deliberately gives several matters one group (then they share tickets: an explicit choice, printed
in the bundle), and ``salt`` is the secret of a sealed draw (32 random bytes as hex, revealed when
the draw is unsealed). The derived seed is what `consistent-sampler` is given.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SEED_RULE = "inspect-kit/draw-seed/1"
CST = dt.timezone(dt.timedelta(hours=8), "CST")


# -- drand chains: declarative, from ../shared/BEACONS.md and the League of Entropy's chain info -----


@dataclass(frozen=True)
class DrandChain:
    name: str
    chain_hash: str
    genesis_time: int  # Unix seconds
    period: int  # seconds
    chained: bool  # mainnet's signatures also sign the previous one

    def published_at(self, round_: int) -> dt.datetime:
        """When the round is published, as a naive China Standard Time datetime."""
        utc = dt.datetime.fromtimestamp(self.genesis_time + self.period * (round_ - 1), dt.timezone.utc)
        return utc.astimezone(CST).replace(tzinfo=None)

    def first_round_after(self, moment: dt.datetime) -> int:
        """The first round published strictly after ``moment`` (naive CST)."""
        ts = moment.replace(tzinfo=CST).timestamp()
        r = int((ts - self.genesis_time) // self.period) + 2
        while r > 1 and self.published_at(r - 1) > moment:
            r -= 1
        return max(r, 1)


DRAND_CHAINS: dict[str, DrandChain] = {
    "quicknet": DrandChain(
        "quicknet", "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971", 1692803367, 3, chained=False
    ),
    "mainnet": DrandChain(
        "mainnet", "8990e7a9aaed2ffed73dbd7092123d6f289930540d7651336225dc172e51b2ce", 1595431050, 30, chained=True
    ),
}

SOURCE_KINDS = {
    "drand": "League of Entropy drand beacon round (checked offline by its BLS signature)",
    "lottery": "public lottery draw (checkable against the lottery's announcement)",
    "witnessed": "dice or a 摇号 machine at a witnessed meeting (the operator could influence it)",
}


class SeedError(ValueError):
    """A seed source or value that cannot be accepted; the message says which field and why."""


_HEX = re.compile(r"^[0-9a-f]+$")
_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _text(what: str, value: Any, *, required: bool = True) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise SeedError(f"{what} is required")
        return ""
    if not isinstance(value, str):
        raise SeedError(f"{what} must be text, got {type(value).__name__}")
    text = value.strip()
    bad = _REFUSED.search(text)
    if bad:
        raise SeedError(f"{what} contains the control or direction character U+{ord(bad.group()):04X}")
    return text


def _hex(what: str, value: Any, length: int | None = None) -> str:
    text = _text(what, value).lower()
    if not _HEX.match(text) or (length is not None and len(text) != length):
        size = f"{length} " if length else ""
        raise SeedError(f"{what} must be {size}hexadecimal digits, got {value!r}")
    return text


@dataclass(frozen=True)
class SeedSource:
    """Where the seed will come from, as committed before the draw (see the module docstring).

    ``kind`` is one of SOURCE_KINDS; the other fields belong to it:
    drand: chain, round; lottery: name, issue, date; witnessed: description, witnesses.
    """

    kind: str
    chain: str | None = None
    round: int | None = None
    name: str | None = None
    issue: str | None = None
    date: dt.date | None = None
    description: str | None = None
    witnesses: tuple[str, ...] = ()

    @classmethod
    def drand(cls, round_: int, chain: str = "quicknet") -> "SeedSource":
        if chain not in DRAND_CHAINS:
            raise SeedError(f"unknown drand chain {chain!r}: use one of {', '.join(DRAND_CHAINS)}")
        if type(round_) is not int or round_ < 1:
            raise SeedError(f"a drand round is a positive whole number, got {round_!r}")
        return cls("drand", chain=chain, round=round_)

    @classmethod
    def lottery(cls, name: str, issue: str, date: dt.date) -> "SeedSource":
        if not isinstance(date, dt.date):
            raise SeedError("the lottery's draw date is required")
        return cls(
            "lottery", name=_text("the lottery's name", name), issue=_text("the lottery issue (期号)", issue), date=date
        )

    @classmethod
    def witnessed(cls, description: str, witnesses: Sequence[str]) -> "SeedSource":
        names = tuple(_text("a witness", w) for w in witnesses)
        if not names:
            raise SeedError("a witnessed seed needs at least one witness named (--witness)")
        return cls(
            "witnessed", description=_text("the description of the witnessed draw", description), witnesses=names
        )

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "drand":
            chain = DRAND_CHAINS[self.chain or ""]
            return {
                "kind": "drand",
                "chain": chain.name,
                "chain_hash": chain.chain_hash,
                "round": self.round,
                "published_at": chain.published_at(self.round or 1).isoformat(),
            }
        if self.kind == "lottery":
            return {
                "kind": "lottery",
                "name": self.name,
                "issue": self.issue,
                "date": self.date.isoformat() if self.date else None,
            }
        return {"kind": "witnessed", "description": self.description, "witnesses": list(self.witnesses)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SeedSource":
        if not isinstance(data, Mapping):
            raise SeedError("the seed source must be an object")
        kind = data.get("kind")
        try:
            if kind == "drand":
                src = cls.drand(data.get("round"), data.get("chain", "quicknet"))  # type: ignore[arg-type]
                stated = data.get("chain_hash")
                if stated is not None and stated != DRAND_CHAINS[src.chain or ""].chain_hash:
                    raise SeedError(f"drand chain hash {stated!r} is not the {src.chain} chain's")
                return src
            if kind == "lottery":
                return cls.lottery(
                    str(data.get("name") or ""),
                    str(data.get("issue") or ""),
                    dt.date.fromisoformat(str(data.get("date"))),
                )
            if kind == "witnessed":
                return cls.witnessed(data.get("description"), data.get("witnesses") or [])  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise SeedError(f"seed source {kind}: {exc}") from None
        raise SeedError(f"unknown seed source kind {kind!r}: use one of {', '.join(SOURCE_KINDS)}")

    def available_at(self) -> dt.datetime | None:
        """The earliest moment the value can exist (naive CST), or None for a witnessed seed."""
        if self.kind == "drand":
            return DRAND_CHAINS[self.chain or ""].published_at(self.round or 1)
        if self.kind == "lottery" and self.date is not None:
            return dt.datetime.combine(self.date, dt.time(0, 0))
        return None

    def describe(self) -> str:
        """One line in English, for the terminal."""
        if self.kind == "drand":
            return f"drand {self.chain} round {self.round} (published {self.available_at():%Y-%m-%d %H:%M:%S} CST)"
        if self.kind == "lottery":
            return f"lottery {self.name} issue {self.issue} drawn on {self.date}"
        return f"witnessed: {self.description} (witnesses: {', '.join(self.witnesses)})"

    def describe_zh(self) -> str:
        """One line in Chinese, for the notices."""
        if self.kind == "drand":
            at = self.available_at()
            assert at is not None  # a drand round always has a publication time
            return (
                f"drand公共随机信标（League of Entropy，{self.chain}链）第{self.round}轮，"
                f"发布时间{at.year}年{at.month}月{at.day}日{at:%H:%M:%S}（北京时间）"
            )
        if self.kind == "lottery":
            d = self.date
            return f"{self.name}第{self.issue}期开奖号码（开奖日期{d.year}年{d.month}月{d.day}日）" if d else ""
        return (
            f"现场见证产生（{self.description}；见证人：{'、'.join(self.witnesses)}）。"
            "此类种子的产生过程可能受到操作者影响"
        )


def check_commitment_time(source: SeedSource, committed_at: dt.datetime) -> None:
    """The rule that makes a public source worth using: its value appears after the commitment."""
    if source.kind == "drand":
        at = source.available_at()
        assert at is not None
        if at <= committed_at:
            raise SeedError(
                f"drand {source.chain} round {source.round} was published at {at:%Y-%m-%d %H:%M:%S} CST, "
                f"not after the commitment ({committed_at:%Y-%m-%d %H:%M:%S}): name a later round "
                f"(the first after the commitment is "
                f"{DRAND_CHAINS[source.chain or ''].first_round_after(committed_at)})"
            )
    elif source.kind == "lottery":
        assert source.date is not None
        if source.date <= committed_at.date():
            raise SeedError(
                f"the lottery issue {source.issue} is drawn on {source.date}, not on a later day than the "
                f"commitment ({committed_at:%Y-%m-%d}): name an issue drawn after it"
            )


@dataclass(frozen=True)
class SeedValue:
    """The public seed of a draw and the evidence that it came from the committed source."""

    seed: str
    evidence: dict[str, Any]


def _verify_drand(chain: DrandChain, round_: int, signature: str, previous: str | None) -> str:
    import drand_verify

    try:
        if chain.chained:
            if not previous:
                raise SeedError("a drand mainnet round needs its previous signature too")
            seed: str = drand_verify.verify_mainnet(round_, previous, signature)
        else:
            seed = drand_verify.verify_quicknet(round_, signature)
        return seed
    except ValueError as exc:
        raise SeedError(f"the signature of drand {chain.name} round {round_} does not verify: {exc}") from None


_LOTTERY_NUMBERS = re.compile(r"^[0-9]+([ +,，、]+[0-9]+)*$")


def seed_value(
    source: SeedSource,
    *,
    seed: str | None = None,
    signature: str | None = None,
    previous_signature: str | None = None,
    numbers: str | None = None,
    min_length: int = 20,
) -> SeedValue:
    """Check the value given at draw time against the committed source; return the public seed.

    drand: ``signature`` (and ``previous_signature`` on mainnet), verified offline; the seed is
    the randomness. lottery: ``numbers`` as published. witnessed: ``seed`` of at least
    ``min_length`` characters.
    """
    if source.kind == "drand":
        chain = DRAND_CHAINS[source.chain or ""]
        sig = _hex("the drand signature", signature)
        prev = _hex("the previous drand signature", previous_signature) if previous_signature else None
        randomness = _verify_drand(chain, source.round or 0, sig, prev)
        evidence: dict[str, Any] = {"signature": sig, "randomness": randomness}
        if prev:
            evidence["previous_signature"] = prev
        return SeedValue(randomness, evidence)
    if source.kind == "lottery":
        nums = _text("the lottery numbers", numbers)
        if not _LOTTERY_NUMBERS.match(nums):
            raise SeedError(f"lottery numbers are digits separated by spaces, got {numbers!r}")
        nums = re.sub(r"\s*([+])\s*", r" \1 ", re.sub(r"[,，、]+", " ", nums))
        nums = re.sub(r"\s+", " ", nums).strip()
        return SeedValue(f"{source.name} {source.issue} {source.date}: {nums}", {"numbers": nums})
    value = _text("the seed", seed)
    check_seed_text(value, min_length)
    return SeedValue(value, {})


def check_seed_text(seed: str, min_length: int) -> None:
    """A typed seed: long enough, not one repeated character, no control characters."""
    bad = _REFUSED.search(seed)
    if bad:
        raise SeedError(f"the seed contains the control or direction character U+{ord(bad.group()):04X}")
    if len(seed) < min_length:
        raise SeedError(
            f"the seed must have at least {min_length} characters (got {len(seed)}): use digits from a "
            "public dice roll, a lottery result or a randomness beacon, chosen after the frame was frozen"
        )
    if len(set(seed.replace(" ", ""))) < 2:
        raise SeedError(f"the seed {seed!r} repeats one character: roll the dice")


def verify_evidence(source: SeedSource, seed: str, evidence: Mapping[str, Any]) -> list[str]:
    """Problems with a recorded public seed (empty when it follows from the source and evidence)."""
    problems: list[str] = []
    try:
        if source.kind == "drand":
            again = seed_value(
                source, signature=evidence.get("signature"), previous_signature=evidence.get("previous_signature")
            )
        elif source.kind == "lottery":
            again = seed_value(source, numbers=evidence.get("numbers"))
        else:
            return problems
    except SeedError as exc:
        return [str(exc)]
    if again.seed != seed:
        problems.append(f"the seed {seed!r} is not what the {source.kind} source gives ({again.seed!r})")
    return problems


def derive_seed(public_seed: str, ticket_group: str, period: str, salt: str | None = None) -> str:
    """The seed the tickets of one (matter, period) use (module docstring)."""
    parts = [SEED_RULE, public_seed, ticket_group, period] + ([salt] if salt is not None else [])
    text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def salt_commitment(salt: str) -> str:
    """What a sealed draw's commitment publishes about its secret salt."""
    return hashlib.sha256(salt.encode("ascii")).hexdigest()


def check_salt(salt: str, committed_sha256: str) -> None:
    if not isinstance(salt, str) or not _HEX.match(salt) or len(salt) != 64:
        raise SeedError("a salt is 64 hexadecimal digits")
    if salt_commitment(salt) != committed_sha256:
        raise SeedError(f"the salt does not match the commitment's salt SHA-256 {committed_sha256}")
