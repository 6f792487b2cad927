"""The two public notices of a period, built from plain rows: pure functions, no database.

* the drawn list (抽查对象名单公示): one section per matter with its table of drawn entities, then
  the verification details of every draw (algorithm and version, seed and its source, frame
  SHA-256, per-stratum N / quota / rounding / n, re-draws and their reasons) and how anyone can
  re-run it; each draw's bundle is embedded in the PDF as ``draw-<matter>-<period>.json``;
* the results (抽查结果公示): a summary per matter (drawn, inspected, problems found, rectified,
  pending), then per task 检查实施机关, 抽查事项, 任务编号, 单位名称, 统一社会信用代码, 检查日期,
  检查结果 (with the scrubbed problem description), 后续处置; tasks without a finding print as
  待录入 and are listed by task number. The tasks are grouped by matter: 抽查事项 and
  检查实施机关 are the same for every task of a matter, so they head its group instead of filling
  two columns — eight columns on the 156 mm measure of GB/T 9704 wrap every cell into a
  one-character-wide stack (seven tasks took six pages).

Personal data. The rows given here never hold private registry columns (the service's query
helper refuses them), but operators type free text — problem descriptions, seed sources, re-draw
reasons — that may quote a phone number, an ID-card number or a legal representative's name.
`scrub` replaces those with "***" before anything is printed, and masks the registries' own private
values when given them (`privacy.mask`: "龙**"). A sole proprietor (个体工商户)
registered under the bare name of its operator would print a person's name as the entity name;
`public_entity_name` masks such names ("张**").

inspect_kit.publish.service reads the database and calls these; tests call them directly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from inspect_kit.periods import Period
from inspect_kit.publish import texts
from inspect_kit.publish.document import Notice, Section, Table, chinese_numeral, heading_number
from inspect_kit.publish.privacy import PrivateValues, mask

__all__ = [
    "DRAW_NOTICE_FILE", "RESULTS_NOTICE_FILE", "VERIFY_COMMAND",
    "DrawEntity", "DrawStep", "DrawRecord", "TaskOutcome", "MatterResults",
    "bundle_file_name", "default_file_name", "draw_notice", "period_text", "public_entity_name",
    "log_file_name", "log_head_paragraph", "results_notice", "scrub", "looks_like_resident_id", "verification_snippet",
]

DRAW_NOTICE_FILE = "抽查名单公示"
RESULTS_NOTICE_FILE = "抽查结果公示"
# How the notice tells readers to re-run a draw with inspect-kit (the draw stage's command).
VERIFY_COMMAND = "inspect verify --bundle"
PENDING = "待录入"
DASH = "—"

# -- names, periods, files ------------------------------------------------------------------------


def period_text(period: Period) -> str:
    """2026Q1 → "2026年第一季度", 2026-03 → "2026年3月", 2026 → "2026年度"."""
    if period.kind == "quarter":
        return f"{period.year}年第{chinese_numeral(period.index + 1)}季度"
    if period.kind == "month":
        return f"{period.year}年{period.index + 1}月"
    return f"{period.year}年度"


def bundle_file_name(matter_code: str, period: str) -> str:
    """The name of a draw's bundle inside the notice: "draw-STHJ-01-2026Q1.json"."""
    return f"draw-{matter_code}-{period}.json"


def log_file_name(kind: str, period: str) -> str:
    """The attachment that carries a notice's transparency-log entries, e.g. log-results-2026Q1.json."""
    return f"log-{kind}-{period}.json"


def default_file_name(kind: str, period: str, unit_code: str | None = None) -> str:
    """"抽查名单公示-2026Q1.pdf", or "抽查结果公示-2026-SCJG.pdf" when one notice per unit."""
    base = {"draw": DRAW_NOTICE_FILE, "results": RESULTS_NOTICE_FILE}[kind]  # service.NOTICE_KINDS
    return f"{base}-{period}" + (f"-{unit_code}" if unit_code else "") + ".pdf"


def _title(who_when: str, what: str) -> str:
    """Break a two-line title where the meaning breaks (GB/T 9704: 回行时词意完整), not mid-word."""
    return f"{who_when}\n{what}" if len(who_when) + len(what) > 20 else who_when + what


def _day(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _moment(t: dt.datetime) -> str:
    return f"{_day(t.date())} {t:%H:%M}"


# -- personal data ----------------------------------------------------------------------------------

_D = r"[0-9０-９]"
_SEP = r"[ \-－]?"
_PATTERNS = [
    # 18-character resident ID (check character X), also written in groups 6-8-4.
    re.compile(rf"(?<!{_D}){_D}{{6}}{_SEP}{_D}{{8}}{_SEP}{_D}{{3}}[0-9０-９XxＸｘ](?!{_D})"),
    # 15-digit first-generation ID.
    re.compile(rf"(?<!{_D}){_D}{{15}}(?!{_D})"),
    # Mainland mobile, optionally +86, written whole or 3-4-4.
    re.compile(rf"(?<!{_D})(?:(?:\+|＋|00)?86{_SEP})?[1１][3-9３-９]{_D}(?:{_SEP}{_D}{{4}}){{2}}(?!{_D})"),
    # Landline with area code: 0791-88888888, (0791)8888888, 0791 8888 8888, with an extension.
    re.compile(rf"(?<!{_D})[(（]?[0０]{_D}{{2,3}}[)）]?{_SEP}{_D}{{3,4}}{_SEP}{_D}{{4}}(?:(?:转|-|－){_D}{{1,6}})?(?!{_D})"),
    # E-mail addresses.
    re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"),
]
# A bare 7-8 digit number is a landline only where the text says so.
_CONTACT = re.compile(rf"(电话|手机|座机|联系方式|联系电话|热线|tel|Tel|TEL)([^0-9０-９]{{0,6}}?)"
                      rf"({_D}[{_D[1:-1]} \-－]{{5,14}}{_D}(?:转{_D}{{1,6}})?)")
# A person named after the role that names people: 法定代表人张三, 经营者：李四. Surnames that are
# also common words (于, 和, 方, 单 ...) are left out: "业主方未提供" must stay readable.
_ROLES = "法定代表人|法人代表|法人|负责人|经营者|业主|联系人|店主|户主|实际控制人"
_SURNAMES = ("欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|司徒|令狐|长孙|宇文|夏侯|"
             + "|".join("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
                        "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎"
                        "贺顾毛郝龚邵万钱严覃武戴莫孔汤温康施牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申"
                        "欧耿兰焦俞左柳甘祝包尚符舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝游辛靳管柴"
                        "蒙鲍华喻祁蒲房滕屈饶牟艾尤阳穆农卓缪芦麦褚娄窦戚岑费卜冷晏席"
                        "卫米柏宗瞿桂佟臧闵苟邬边卞姬仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩佘池麻苑迟"
                        "邝胥洪"))
# Characters that end a name rather than continue it (张三拒绝 → 张三, not 张三拒).
_AFTER_NAME = set("拒未不在称于已对表承签说无是等和及与的因为到现同当要将把被让向从自也都还又就才曾正仍均亦系经以并即"
                  "、，。；：！？（）()")
_PERSON = re.compile(rf"({_ROLES})([：:\s为是]{{0,2}})(?!单位|资格|组织|机构|主体|登记|证书|营业|身份)"
                     rf"((?:{_SURNAMES})[\u4e00-\u9fff]{{1,2}})")


def _mask_person(m: re.Match[str]) -> str:
    name = m.group(3)
    if len(name) == 3 and name[2] in _AFTER_NAME and not name.startswith(("欧阳", "司马", "上官", "诸葛")):
        return f"{m.group(1)}{m.group(2)}***{name[2]}"
    return f"{m.group(1)}{m.group(2)}***"


def scrub(text: str | None, private: PrivateValues | None = None) -> str:
    """``text`` with the registries' own private values masked first ("龙芳秀表示将整改" →
    "龙**表示将整改", see `privacy.mask`: legal representatives, officers' names, phones), then
    phone numbers, ID-card numbers, e-mail addresses and names given after a role (法定代表人张三)
    replaced by "***". Errs on the side of masking: a public notice loses little if a 15-digit
    number or a word containing a 2-character name is hidden, and must never show a person's
    name or number. ``private`` is loaded by the service (`service.private_values`)."""
    if not text:
        return ""
    out = mask(text, private) if private else text
    out = _CONTACT.sub(lambda m: f"{m.group(1)}{m.group(2)}***", out)
    for pattern in _PATTERNS:
        out = pattern.sub("***", out)
    return _PERSON.sub(_mask_person, out)


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def looks_like_resident_id(value: str) -> bool:
    """True for a valid 18-character resident ID (GB 11643: plausible birth date, mod 11-2 check)."""
    if not re.fullmatch(r"\d{17}[\dX]", value or ""):
        return False
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if not 1900 <= born.year <= 2100:
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS))
    return "10X98765432"[total % 11] == value[17]


_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]{2,4}")
_BUSINESS = re.compile(r"店|铺|部|行|馆|厂|场|坊|社|站|所|院|吧|屋|园|中心|公司|记|号|堂|阁|楼|庄|居|苑|厅|摊|档|室|处|队|组|户")


def public_entity_name(name: str, identifier: str = "", category: str | None = None) -> str:
    """The entity name as printed: a sole proprietor (USCC 92…, or a category with 个体) registered
    under a bare personal name (2–4 Han characters, no shop word) shows only the surname: "张**"."""
    sole = identifier.startswith("92") or "个体" in (category or "")
    if sole and _HAN.fullmatch(name) and not _BUSINESS.search(name):
        return name[0] + "*" * (len(name) - 1)
    return name


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
    # The procedure (inspect_kit.draw.record): the commitment block of the bundle, the public seed
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
        calc = (f"第{k}期，本年此前已抽{before}家、剩余{N}家：⌊{k}×{before + N}/{periods}⌋−{before}"
                f"={(k * (before + N)) // periods - before}" + ("，已超进度，本期不抽" if n == 0 and N else ""))
        return standard, calc
    from inspect_kit.draw.quota import Quota

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


def _id_label(id_scheme: str) -> str:
    return "统一社会信用代码" if id_scheme == "uscc" else "识别码"


def log_head_paragraph(head: str | None) -> list[str]:
    """The transparency-log head a notice prints, and how to use it."""
    if not head:
        return []
    n, _, h = head.partition(":")
    return [texts.LOG_HEAD.format(n=n, hash=h, head=head)]


def draw_notice(issuer: str, period: Period, draws: Sequence[DrawRecord], issue_date: dt.date, *,
                id_scheme: str = "uscc", doc_number: str | None = None, log_head: str | None = None) -> Notice:
    """The drawn-list notice of ``period`` for one issuer; ``draws`` in the order to print.

    ``Notice.files`` is left empty: the service embeds the bundles (it has their bytes).
    """
    when = period_text(period)
    id_label = _id_label(id_scheme)
    total = sum(len(d.entities) for d in draws)
    sealed = [d for d in draws if d.sealed_hidden]
    one_step = [d for d in draws if d.commitment and d.commitment.get("one_step")]
    intro = [texts.DRAW_INTRO.format(legal_basis=texts.LEGAL_BASIS, issuer=issuer, when=when, matters=len(draws),
                                     total=total), texts.DRAW_PROCEDURE]
    if sealed:
        intro.append(texts.DRAW_SEALED.format(matters="、".join(d.matter_name for d in sealed)))
    if one_step:
        intro.append(texts.DRAW_ONE_STEP.format(matters="、".join(d.matter_name for d in one_step)))
    sections: list[Section] = []
    number = 0
    for d in draws:
        number += 1
        N = sum(int(s["N"]) for s in d.strata)
        lead = (f"事项编号：{d.matter_code}。检查依据：{d.legal_basis}。检查方式：{d.method}。"
                f"检查实施机关：{d.authority}。")
        if d.sealed_hidden:
            table = None
            lead += (f"本期从{N}家检查对象中抽取{sum(int(s['n']) for s in d.strata)}家。本事项为保密抽查，"
                     "名单在检查完成后解密公示。")
        elif d.entities:
            rows = [[str(k), public_entity_name(e.name, e.identifier, e.category), e.identifier, e.township or DASH,
                     e.stratum] for k, e in enumerate(d.entities, 1)]
            table = Table(["序号", "单位名称", id_label, "所属乡镇", "抽取层"], rows,
                          align=["center", "left", "left", "center", "center"])
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
    sections.append(Section(f"{heading_number(number)}复核方法", [
        texts.CHECK_FILES.format(count=len(names), names="、".join(names)),
        texts.CHECK_TOOL.format(command=VERIFY_COMMAND, first=first),
        texts.CHECK_BROWSER,
        texts.CHECK_PACKAGE.format(version=draws[0].algorithm_version if draws else "1.0.10"),
    ], Table(["Python代码"], [[line] for line in verification_snippet(first)], align=["left"])))
    if log_head:
        number += 1
        sections.append(Section(f"{heading_number(number)}透明日志", log_head_paragraph(log_head)))
    return Notice(
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
            ["公开承诺", f"{_moment(dt.datetime.fromisoformat(c['committed_at']))}承诺：名录SHA-256和种子来源在种子产生前确定"
                        + ("（一步完成，承诺与抽取同时进行，未事先公布）" if c.get("one_step") else "")],
            ["承诺校验码", str(c.get("sha256"))],
            ["种子来源", scrub(d.source_text or "")],
            ["公开随机数", d.public_seed or ""],
        ]
        if c.get("sealed"):
            facts.append(["保密抽查", f"抽取另加密钥，密钥SHA-256为{c.get('salt_sha256')}；"
                                  + ("密钥已于解密时公布，见抽取数据文件" if not d.sealed_hidden
                                     else "密钥在检查完成后公布，届时任何人均可复核名单")])
        if not d.sealed_hidden:
            facts.append(["本事项种子", f"{d.seed}（由公开随机数、事项分组“{c.get('ticket_group')}”和期别按"
                                     "公开规则计算，见抽取数据文件seed_derivation）"])
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
        facts.append(["名录冻结记录", f"本期共冻结名录{len(d.frames)}次：" + "；".join(
            f"第{i}次{_moment(dt.datetime.fromisoformat(f['prepared_at']))}，{f['N']}家，SHA-256 {str(f['sha256'])[:16]}…"
            + ("（本次抽取所用）" if f.get("sha256") == d.frame_sha256 and f.get("drawn") else
               ("（已用于抽取）" if f.get("drawn") else "（未用于抽取）"))
            for i, f in enumerate(d.frames, 1))])
    if d.excluded:
        facts.append(["未纳入名录", "；".join(f"{_excluded_text(r)}{n}家" for r, n in d.excluded.items())])
    if len(d.history) > 1:
        facts.append(["重新抽取", f"本期共抽取{len(d.history)}次，以第{len(d.history)}次（最后一次）为准，"
                                  "此前各次抽取记录保留并公示如下"])
    else:
        facts.append(["重新抽取", "无"])
    out = [Section(f"{heading_number(k, 2)}{d.matter_name}（{d.matter_code}）",
                   table=Table(["项目", "内容"], facts, col_widths_mm=[30, 126], align=["center", "left"]),
                   level=2)]
    rows = []
    for s in d.strata:
        standard, calc = _quota_parts(s, d.on_duty_inspectors)
        rows.append([str(s["stratum"]), str(s["N"]), standard, calc, str(s["n"])])
    out.append(Section(paragraphs=["各抽取层的对象数、抽取标准和抽取数："],
                       table=Table(["抽取层", "对象数N", "抽取标准", "计算过程", "抽取数n"], rows,
                                   align=["center", "right", "left", "left", "right"])))
    if len(d.history) > 1 and not d.sealed_hidden:
        hist = []
        for i, step in enumerate(d.history, 1):
            hist.append([f"第{i}次", _moment(step.drawn_at), step.seed, scrub(step.seed_source),
                         scrub(step.reason) if step.reason else ("首次抽取" if i == 1 else DASH),
                         "现行" if step is current else "已作废"])
        out.append(Section(paragraphs=["抽取记录（含重新抽取及其原因）："],
                           table=Table(["次序", "抽取时间", "随机种子", "种子来源", "重新抽取原因", "状态"], hist,
                                       align=["center", "left", "left", "left", "left", "center"])))
    return out


# -- the results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskOutcome:
    """One task of a results notice; ``recorded=False`` means no finding yet (待录入).

    ``results`` and ``follow_ups`` are labels (the codebook's Chinese); ``problems`` is the raw
    description (scrubbed when printed); ``rectified`` is as of the issue date.
    """

    task_no: str
    identifier: str
    name: str
    recorded: bool
    category: str | None = None
    inspection_start: dt.date | None = None
    inspection_end: dt.date | None = None
    results: Sequence[str] = ()
    problems: str | None = None
    follow_ups: Sequence[str] = ()
    problem_found: bool = False
    rectification_ordered: bool = False
    rectification_deadline: dt.date | None = None
    rectified: bool = False


@dataclass(frozen=True)
class MatterResults:
    matter_code: str
    matter_name: str
    authority: str  # 检查实施机关
    tasks: Sequence[TaskOutcome]

    @property
    def inspected(self) -> int:
        return sum(t.recorded for t in self.tasks)

    @property
    def problems(self) -> int:
        return sum(t.recorded and t.problem_found for t in self.tasks)

    @property
    def rectified(self) -> int:
        return sum(t.recorded and t.rectified for t in self.tasks)

    @property
    def pending(self) -> list[str]:
        return [t.task_no for t in self.tasks if not t.recorded]


def _inspection_days(t: TaskOutcome) -> str:
    if t.inspection_start is None:
        return DASH
    if t.inspection_end is None or t.inspection_end == t.inspection_start:
        return t.inspection_start.isoformat()
    return f"{t.inspection_start.isoformat()}至\n{t.inspection_end.isoformat()}"


def _result_cell(t: TaskOutcome) -> str:
    if not t.recorded:
        return PENDING
    text = "；".join(t.results) or DASH
    problems = scrub(t.problems).strip()
    return f"{text}\n问题：{problems}" if problems else text


def _follow_up_cell(t: TaskOutcome) -> str:
    if not t.recorded:
        return DASH
    text = "；".join(t.follow_ups) or DASH
    if t.rectification_ordered:
        if t.rectified:
            text += "（已整改）"
        elif t.rectification_deadline is not None:
            text += f"（整改期限{t.rectification_deadline.isoformat()}）"
    return text


def results_notice(issuer: str, period: Period, matters: Sequence[MatterResults], issue_date: dt.date, *,
                   id_scheme: str = "uscc", doc_number: str | None = None, log_head: str | None = None) -> Notice:
    """The results notice of ``period`` for one issuer; tasks without a finding print as 待录入."""
    when = period_text(period)
    id_label = _id_label(id_scheme)
    drawn = sum(len(m.tasks) for m in matters)
    inspected = sum(m.inspected for m in matters)
    problems = sum(m.problems for m in matters)
    rectified = sum(m.rectified for m in matters)
    pending = [no for m in matters for no in m.pending]
    summary = (f"{when}，{issuer}共对{len(matters)}个抽查事项随机抽取检查对象{drawn}家，已完成检查并录入结果{inspected}家，"
               f"其中发现问题{problems}家，截至发布之日已整改{rectified}家")
    summary += f"；另有{len(pending)}家检查结果待录入，录入后另行公示。" if pending else "。"
    rows = [[m.matter_name, m.authority, str(len(m.tasks)), str(m.inspected), str(m.problems), str(m.rectified),
             str(len(m.pending))] for m in matters]
    if len(matters) > 1:
        rows.append(["合计", "", str(drawn), str(inspected), str(problems), str(rectified), str(len(pending))])
    sections = [Section(
        f"{heading_number(1)}抽查结果汇总", [summary],
        Table(["抽查事项", "检查实施机关", "抽取", "已检查", "发现问题", "已整改", PENDING], rows,
              align=["left", "left", "right", "right", "right", "right", "right"]),
        notes=[texts.RESULTS_NOTE],
    ), Section(f"{heading_number(2)}检查结果明细")]
    for k, m in enumerate(matters, 1):
        # 检查实施机关 and 抽查事项 are the same for every task of a matter: stated once above its
        # table, since eight columns cannot be read on the 156 mm measure.
        rows = [[t.task_no, f"{public_entity_name(t.name, t.identifier, t.category)}\n{t.identifier}",
                 _inspection_days(t), _result_cell(t), _follow_up_cell(t)] for t in m.tasks]
        sections.append(Section(
            f"{heading_number(k, 2)}{m.matter_name}（{m.matter_code}）",
            [f"抽查事项：{m.matter_name}。检查实施机关：{m.authority}。本事项抽取{len(m.tasks)}家，"
             f"已检查{m.inspected}家，发现问题{m.problems}家，已整改{m.rectified}家"
             + (f"，待录入{len(m.pending)}家。" if m.pending else "。")],
            Table(["任务编号", f"单位名称\n{id_label}", "检查日期", "检查结果", "后续处置"], rows,
                  align=["left"] * 5) if rows else None,
            level=2))
    if pending:
        sections.append(Section(f"{heading_number(3)}待录入的检查任务", [
            f"以下{len(pending)}项检查任务的检查结果尚未录入（{PENDING}），录入后将另行公示：{'、'.join(pending)}。"]))
    if log_head:
        sections.append(Section(f"{heading_number(4 if pending else 3)}透明日志", log_head_paragraph(log_head)))
    return Notice(
        issuer=issuer,
        title=_title(f"{issuer}{when}", "“双随机、一公开”抽查结果公示"),
        issue_date=issue_date,
        doc_number=doc_number,
        intro=[texts.RESULTS_INTRO.format(issuer=issuer, when=when)],
        sections=sections,
        closing=[texts.CLOSING],
        keywords=("双随机、一公开", "抽查结果", period.label, *(m.matter_code for m in matters)),
    )
