"""The drawn-list notice (抽查对象名单公示): one section per matter with its table of drawn entities,
then the verification details of every draw and how anyone can re-run it. Pure; re-exported by
inspect_kit.publish.notices."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from inspect_kit.periods import Period
from inspect_kit.publish import texts
from inspect_kit.publish.document import NoticeDocument, Section, Table, heading_number
from inspect_kit.publish.notices import (
    DASH,
    VERIFY_COMMAND,
    _day,
    _id_label,
    _moment,
    _title,
    bundle_file_name,
    log_head_paragraph,
    period_text,
    public_entity_name,
    scrub,
)

# -- the drawn list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrawEntity:
    """One drawn entity as published: public registry fields only."""

    task_no: str
    identifier: str
    name: str
    township: str | None
    stratum: str
    rank: int
    category: str | None = None


@dataclass(frozen=True)
class DrawStep:
    """One draw of a (matter, period): the first, or a re-draw with its reason."""

    draw_id: int
    drawn_at: dt.datetime
    seed: str
    seed_source: str
    frame_sha256: str
    n_selected: int
    reason: str | None = None  # why this re-draw was made (None for the first draw)


@dataclass(frozen=True)
class DrawRecord:
    """A matter's current draw of the period, with what the notice prints about it.

    ``strata`` are the bundle's stratum entries ({stratum, N, quota, rounding, n, explanation,
    coverage?}); ``history`` every draw of the matter and period, oldest first (the last is this one).
    """

    matter_code: str
    matter_name: str
    period: str
    authority: str  # 检查实施机关, e.g. "青山县生态环境局" or two departments for a joint matter
    legal_basis: str
    method: str
    algorithm: str
    algorithm_version: str
    seed: str
    seed_source: str
    frame_sha256: str
    frame_rows: int
    frame_prepared_at: dt.datetime
    frame_as_of: dt.date
    drawn_at: dt.datetime
    strata: Sequence[Mapping[str, Any]]
    entities: Sequence[DrawEntity]
    bundle_name: str
    excluded: Mapping[str, int] = field(default_factory=dict)
    history: Sequence[DrawStep] = ()
    on_duty_inspectors: int | None = None
    # The procedure (inspect_kit.draw.core.record): the commitment block of the bundle, the public seed
    # and its source in Chinese, every frame frozen for the period, and whether the list is still
    # sealed on the issue date (then no entity and no bundle are published).
    commitment: Mapping[str, Any] | None = None
    public_seed: str | None = None
    source_text: str | None = None
    frames: Sequence[Mapping[str, Any]] = ()
    sealed_hidden: bool = False


_ROUNDING = {"ceil": "向上取整", "floor": "向下取整", "round": "四舍五入"}


def _quota_parts(entry: Mapping[str, Any], on_duty: int | None) -> tuple[str, str]:
    """(抽取标准, 计算过程) of one stratum, in Chinese."""
    quota, N, n = str(entry["quota"]), int(entry["N"]), int(entry["n"])
    rounding = _ROUNDING.get(str(entry.get("rounding")), str(entry.get("rounding")))
    if "coverage" in entry:
        c = entry["coverage"]
        k, periods, before = int(c["period"]) + 1, int(c["periods"]), int(c["drawn_before"])
        standard = f"全年全覆盖（{periods}期）"
        calc = (
            f"第{k}期，本年此前已抽{before}家、剩余{N}家：⌊{k}×{before + N}/{periods}⌋−{before}"
            f"={(k * (before + N)) // periods - before}" + ("，已超进度，本期不抽" if n == 0 and N else "")
        )
        return standard, calc
    from inspect_kit.draw.core.quota import Quota

    try:
        q = Quota.parse(quota)
    except ValueError:
        return quota, str(entry.get("explanation", ""))
    return q.describe_zh(N, n, rounding, on_duty, str(entry.get("explanation", "")))


def _excluded_text(reason: str) -> str:
    fixed = {
        "not active (closed or cancelled)": "非存续状态（注销、吊销或停业）",
        "exempt on the draw date (正面清单)": "抽取日在正面清单内，免予现场检查",
        "drawn earlier this year (annual coverage)": "本年度此前各期已抽取（全年全覆盖）",
    }
    if reason in fixed:
        return fixed[reason]
    m = re.fullmatch(r"inspected with no problem within (\d+) months", reason)
    if m:
        return f"{m.group(1)}个月内已检查且未发现问题"
    return scrub(reason)


def verification_snippet(bundle_name: str) -> list[str]:
    """Python lines that re-run a draw from its bundle with the `consistent-sampler` package.

    They print the frame's SHA-256, whether the draw's seed follows from the public seed by the
    published rule (True), and, per stratum, the drawn identifiers in ticket order — to be compared
    with the notice. No indentation, so that the lines survive copying from a PDF.
    """
    return [
        "import json, hashlib",
        "from consistent_sampler import sampler",
        f'b = json.load(open("{bundle_name}", encoding="utf-8"))',
        'rows, seed = b["frame"]["rows"], b["seed"]',
        'print(hashlib.sha256("".join(f"{i}\\t{s}\\n" for i, s in rows).encode()).hexdigest())',
        'd = b.get("seed_derivation")',
        'if d: print(seed == hashlib.sha256(json.dumps([d["rule"], d["public_seed"], d["ticket_group"], d["period"]] '
        '+ ([d["salt"]] if "salt" in d else []), ensure_ascii=False, separators=(",", ":")).encode()).hexdigest())',
        'for t in b["strata"]: print(t["stratum"], list(sampler([i for i, s in rows if s == t["stratum"]], '
        'seed=seed, take=t["n"], output="id")))',
    ]


def coordinated_snippet(bundle_name: str) -> list[str]:
    """Python lines (standard library only, no indentation) that re-run a coordinated draw from its
    bundle: the permanent random numbers of inspect_kit.draw.core.coordination, rotated by the
    shift (rule 2: numbers from the yearly and the draw's public seed; rule 1: from the yearly seed,
    rotated by a start), the n smallest per stratum."""
    return [
        "import json, hashlib",
        f'b = json.load(open("{bundle_name}", encoding="utf-8"))',
        'rows, c, M = b["frame"]["rows"], b["coordination"], 2**256',
        'print(hashlib.sha256("".join(f"{i}\\t{s}\\n" for i, s in rows).encode()).hexdigest())',
        'H = lambda p: hashlib.sha256(json.dumps(p, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()',
        'd, r1 = b["seed_derivation"], c["rule"].endswith("/1")',
        'k = [c["yearly_seed"], c["group"]] + ([] if r1 else [d["public_seed"]] + ([d["salt"]] if "salt" in d else []))',
        'ps = hashlib.sha256(H(["inspect-kit/prn/1" if r1 else "inspect-kit/prn/2"] + k).encode()).hexdigest()',
        'off = (int(H(["inspect-kit/prn-start/1", c["yearly_seed"], c["group"], c["rotation"]]), 16) if r1 else 0) '
        '+ (c["slot"] * M // c["slots"] if c["mode"] == "negative" else 0)',
        "v = lambda i: ((int(hashlib.sha256((ps + i).encode()).hexdigest(), 16) + off) % M, i)",
        'for t in b["strata"]: print(t["stratum"], [i for _, i in sorted(v(i) for i, s in rows '
        'if s == t["stratum"])[: t["n"]]])',
    ]


def draw_notice(
    issuer: str,
    period: Period,
    draws: Sequence[DrawRecord],
    issue_date: dt.date,
    *,
    id_scheme: str = "uscc",
    doc_number: str | None = None,
    log_head: str | None = None,
) -> NoticeDocument:
    """The drawn-list notice of ``period`` for one issuer; ``draws`` in the order to print.

    ``NoticeDocument.files`` is left empty: the service embeds the bundles (it has their bytes).
    """
    when = period_text(period)
    id_label = _id_label(id_scheme)
    total = sum(len(d.entities) for d in draws)
    sealed = [d for d in draws if d.sealed_hidden]
    one_step = [d for d in draws if d.commitment and d.commitment.get("one_step")]
    intro = [
        texts.DRAW_INTRO.format(
            legal_basis=texts.LEGAL_BASIS, issuer=issuer, when=when, matters=len(draws), total=total
        ),
        texts.DRAW_PROCEDURE,
    ]
    if sealed:
        intro.append(texts.DRAW_SEALED.format(matters="、".join(d.matter_name for d in sealed)))
    if one_step:
        intro.append(texts.DRAW_ONE_STEP.format(matters="、".join(d.matter_name for d in one_step)))
    sections: list[Section] = []
    number = 0
    for d in draws:
        number += 1
        N = sum(int(s["N"]) for s in d.strata)
        lead = (
            f"事项编号：{d.matter_code}。检查依据：{d.legal_basis}。检查方式：{d.method}。检查实施机关：{d.authority}。"
        )
        if d.sealed_hidden:
            table = None
            lead += (
                f"本期从{N}家检查对象中抽取{sum(int(s['n']) for s in d.strata)}家。本事项为保密抽查，"
                "名单在检查完成后解密公示。"
            )
        elif d.entities:
            rows = [
                [
                    str(k),
                    public_entity_name(e.name, e.identifier, e.category),
                    e.identifier,
                    e.township or DASH,
                    e.stratum,
                ]
                for k, e in enumerate(d.entities, 1)
            ]
            table = Table(
                ["序号", "单位名称", id_label, "所属乡镇", "抽取层"],
                rows,
                align=["center", "left", "left", "center", "center"],
            )
            lead += f"本期从{N}家检查对象中抽取{len(d.entities)}家，名单如下。"
        else:
            table = None
            lead += f"本期检查对象{N}家，按抽取标准本期抽取0家。"
        sections.append(Section(f"{heading_number(number)}{d.matter_name}", [lead], table))

    number += 1
    sections.append(Section(f"{heading_number(number)}抽取验证信息", [texts.ALGORITHM.format(id_label=id_label)]))
    for k, d in enumerate(draws, 1):
        sections.extend(_verification_sections(k, d, id_label))

    number += 1
    names = [d.bundle_name for d in draws if not d.sealed_hidden]
    first = names[0] if names else bundle_file_name("MATTER", period.label)
    sections.append(
        Section(
            f"{heading_number(number)}复核方法",
            [
                texts.CHECK_FILES.format(count=len(names), names="、".join(names)),
                texts.CHECK_TOOL.format(command=VERIFY_COMMAND, first=first),
                texts.CHECK_BROWSER,
                texts.CHECK_PACKAGE.format(version=draws[0].algorithm_version if draws else "1.0.10"),
            ],
            Table(["Python代码"], [[line] for line in verification_snippet(first)], align=["left"]),
        )
    )
    coordinated = [d.bundle_name for d in draws if not d.sealed_hidden and (d.commitment or {}).get("coordination")]
    if coordinated:
        sections.append(
            Section(
                f"{heading_number(number)}协调抽样的复核方法",
                [
                    f"{'、'.join(coordinated)}为协调抽样（永久随机数法），上述代码不适用；请改用以下代码"
                    "（只需Python标准库），它打印名录SHA-256和各层抽中对象，应与本公告一致："
                ],
                Table(["Python代码"], [[line] for line in coordinated_snippet(coordinated[0])], align=["left"]),
                level=2,
            )
        )
    if log_head:
        number += 1
        sections.append(Section(f"{heading_number(number)}透明日志", log_head_paragraph(log_head)))
    return NoticeDocument(
        issuer=issuer,
        title=_title(f"{issuer}{when}", "“双随机、一公开”抽查对象名单公示"),
        issue_date=issue_date,
        doc_number=doc_number,
        intro=intro,
        sections=sections,
        closing=[texts.CLOSING],
        keywords=("双随机、一公开", "抽查对象名单", period.label, *(d.matter_code for d in draws)),
    )


def _verification_sections(k: int, d: DrawRecord, id_label: str) -> list[Section]:
    current = d.history[-1] if d.history else None
    facts = [
        ["抽取算法", f"一致抽样，SHA-256票号（{d.algorithm}）"],
        ["算法版本", f"{d.algorithm_version}（与PyPI软件包consistent-sampler {d.algorithm_version}逐字节一致）"],
    ]
    c = d.commitment
    if c is not None:
        facts += [
            [
                "公开承诺",
                f"{_moment(dt.datetime.fromisoformat(c['committed_at']))}承诺：名录SHA-256和种子来源在种子产生前确定"
                + ("（一步完成，承诺与抽取同时进行，未事先公布）" if c.get("one_step") else ""),
            ],
            ["承诺校验码", str(c.get("sha256"))],
            ["种子来源", scrub(d.source_text or "")],
            ["公开随机数", d.public_seed or ""],
        ]
        if c.get("sealed"):
            facts.append(
                [
                    "保密抽查",
                    f"抽取另加密钥，密钥SHA-256为{c.get('salt_sha256')}；"
                    + (
                        "密钥已于解密时公布，见抽取数据文件"
                        if not d.sealed_hidden
                        else "密钥在检查完成后公布，届时任何人均可复核名单"
                    ),
                ]
            )
        coord = c.get("coordination")
        if coord:
            mode = (
                "正协调：与同组事项尽量抽中同一批对象，便于合并检查"
                if coord["mode"] == "positive"
                else ("负协调：与同组事项尽量不抽中同一对象")
            )
            facts.append(
                [
                    "协调抽样",
                    f"{mode}（协调组“{coord['group']}”，年度协调种子“{coord['yearly_seed']}”"
                    + (
                        f"，轮换键{coord['rotation']}）。票号由年度协调种子计算的永久随机数给出"
                        if coord.get("rotation")
                        else "）。票号由年度协调种子和本次公开随机数共同计算，抽取前任何人无法预知名单，"
                        "同一次抽签会抽取的同组事项共用这些随机数"
                    )
                    + "；每个对象被抽中的概率仍为n/N；复核方法见下文",
                ]
            )
        if not d.sealed_hidden:
            facts.append(
                [
                    "本事项种子",
                    f"{d.seed}（由公开随机数、事项分组“{c.get('ticket_group')}”和期别按"
                    "公开规则计算，见抽取数据文件seed_derivation）",
                ]
            )
    else:
        facts += [["随机种子", d.seed], ["种子来源", scrub(d.seed_source)]]
    facts += [
        ["名录冻结时间", f"{_moment(d.frame_prepared_at)}（名录基准日{_day(d.frame_as_of)}）"],
        ["抽取时间", _moment(d.drawn_at)],
        ["名录对象数", f"{d.frame_rows}家"],
        ["名录SHA-256", d.frame_sha256],
        ["抽取数据文件", "解密后公布" if d.sealed_hidden else d.bundle_name],
    ]
    if len(d.frames) > 1:
        facts.append(
            [
                "名录冻结记录",
                f"本期共冻结名录{len(d.frames)}次："
                + "；".join(
                    f"第{i}次{_moment(dt.datetime.fromisoformat(f['prepared_at']))}，{f['N']}家，SHA-256 {str(f['sha256'])[:16]}…"
                    + (
                        "（本次抽取所用）"
                        if f.get("sha256") == d.frame_sha256 and f.get("drawn")
                        else ("（已用于抽取）" if f.get("drawn") else "（未用于抽取）")
                    )
                    for i, f in enumerate(d.frames, 1)
                ),
            ]
        )
    if d.excluded:
        facts.append(["未纳入名录", "；".join(f"{_excluded_text(r)}{n}家" for r, n in d.excluded.items())])
    if len(d.history) > 1:
        facts.append(
            [
                "重新抽取",
                f"本期共抽取{len(d.history)}次，以第{len(d.history)}次（最后一次）为准，此前各次抽取记录保留并公示如下",
            ]
        )
    else:
        facts.append(["重新抽取", "无"])
    out = [
        Section(
            f"{heading_number(k, 2)}{d.matter_name}（{d.matter_code}）",
            table=Table(["项目", "内容"], facts, col_widths_mm=[30, 126], align=["center", "left"]),
            level=2,
        )
    ]
    rows = []
    for s in d.strata:
        standard, calc = _quota_parts(s, d.on_duty_inspectors)
        rows.append([str(s["stratum"]), str(s["N"]), standard, calc, str(s["n"])])
    out.append(
        Section(
            paragraphs=["各抽取层的对象数、抽取标准和抽取数："],
            table=Table(
                ["抽取层", "对象数N", "抽取标准", "计算过程", "抽取数n"],
                rows,
                align=["center", "right", "left", "left", "right"],
            ),
        )
    )
    if len(d.history) > 1 and not d.sealed_hidden:
        hist = []
        for i, step in enumerate(d.history, 1):
            hist.append(
                [
                    f"第{i}次",
                    _moment(step.drawn_at),
                    step.seed,
                    scrub(step.seed_source),
                    scrub(step.reason) if step.reason else ("首次抽取" if i == 1 else DASH),
                    "现行" if step is current else "已作废",
                ]
            )
        out.append(
            Section(
                paragraphs=["抽取记录（含重新抽取及其原因）："],
                table=Table(
                    ["次序", "抽取时间", "随机种子", "种子来源", "重新抽取原因", "状态"],
                    hist,
                    align=["center", "left", "left", "left", "left", "center"],
                ),
            )
        )
    return out
