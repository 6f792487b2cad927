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

inspect_kit.publish.service reads the database and calls these; tests call them directly. The two
notices live in notice_draw.py and notice_results.py; this module holds what they share (names,
periods, file names, the scrubbing of personal data) and re-exports both.
"""

from __future__ import annotations

import datetime as dt
import re

from inspect_kit.periods import Period
from inspect_kit.publish import texts
from inspect_kit.publish.document import chinese_numeral
from inspect_kit.publish.privacy import PrivateValues, mask

__all__ = [
    "DRAW_NOTICE_FILE",
    "RESULTS_NOTICE_FILE",
    "VERIFY_COMMAND",
    "DrawEntity",
    "DrawStep",
    "DrawRecord",
    "TaskOutcome",
    "MatterResults",
    "bundle_file_name",
    "default_file_name",
    "draw_notice",
    "period_text",
    "public_entity_name",
    "log_file_name",
    "log_head_paragraph",
    "results_notice",
    "scrub",
    "looks_like_resident_id",
    "verification_snippet",
    "coordinated_snippet",
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
    """ "抽查名单公示-2026Q1.pdf", or "抽查结果公示-2026-SCJG.pdf" when one notice per unit."""
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
    re.compile(
        rf"(?<!{_D})[(（]?[0０]{_D}{{2,3}}[)）]?{_SEP}{_D}{{3,4}}{_SEP}{_D}{{4}}(?:(?:转|-|－){_D}{{1,6}})?(?!{_D})"
    ),
    # E-mail addresses.
    re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"),
]
# A bare 7-8 digit number is a landline only where the text says so.
_CONTACT = re.compile(
    rf"(电话|手机|座机|联系方式|联系电话|热线|tel|Tel|TEL)([^0-9０-９]{{0,6}}?)"
    rf"({_D}[{_D[1:-1]} \-－]{{5,14}}{_D}(?:转{_D}{{1,6}})?)"
)
# A person named after the role that names people: 法定代表人张三, 经营者：李四. Surnames that are
# also common words (于, 和, 方, 单 ...) are left out: "业主方未提供" must stay readable.
_ROLES = "法定代表人|法人代表|法人|负责人|经营者|业主|联系人|店主|户主|实际控制人"
_SURNAMES = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|司徒|令狐|长孙|宇文|夏侯|" + "|".join(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎"
    "贺顾毛郝龚邵万钱严覃武戴莫孔汤温康施牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申"
    "欧耿兰焦俞左柳甘祝包尚符舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝游辛靳管柴"
    "蒙鲍华喻祁蒲房滕屈饶牟艾尤阳穆农卓缪芦麦褚娄窦戚岑费卜冷晏席"
    "卫米柏宗瞿桂佟臧闵苟邬边卞姬仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩佘池麻苑迟"
    "邝胥洪"
)
# Characters that end a name rather than continue it (张三拒绝 → 张三, not 张三拒).
_AFTER_NAME = set(
    "拒未不在称于已对表承签说无是等和及与的因为到现同当要将把被让向从自也都还又就才曾正仍均亦系经以并即"
    "、，。；：！？（）()"
)
_PERSON = re.compile(
    rf"({_ROLES})([：:\s为是]{{0,2}})(?!单位|资格|组织|机构|主体|登记|证书|营业|身份)"
    rf"((?:{_SURNAMES})[\u4e00-\u9fff]{{1,2}})"
)


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
_BUSINESS = re.compile(
    r"店|铺|部|行|馆|厂|场|坊|社|站|所|院|吧|屋|园|中心|公司|记|号|堂|阁|楼|庄|居|苑|厅|摊|档|室|处|队|组|户"
)


def public_entity_name(name: str, identifier: str = "", category: str | None = None) -> str:
    """The entity name as printed: a sole proprietor (USCC 92…, or a category with 个体) registered
    under a bare personal name (2–4 Han characters, no shop word) shows only the surname: "张**"."""
    sole = identifier.startswith("92") or "个体" in (category or "")
    if sole and _HAN.fullmatch(name) and not _BUSINESS.search(name):
        return name[0] + "*" * (len(name) - 1)
    return name


def _id_label(id_scheme: str) -> str:
    return "统一社会信用代码" if id_scheme == "uscc" else "识别码"


def log_head_paragraph(head: str | None) -> list[str]:
    """The transparency-log head a notice prints, and how to use it."""
    if not head:
        return []
    n, _, h = head.partition(":")
    return [texts.LOG_HEAD.format(n=n, hash=h, head=head)]


# The two notices, re-exported here (they use the helpers above).
from inspect_kit.publish.notice_draw import (  # noqa: E402
    DrawEntity,
    DrawRecord,
    DrawStep,
    coordinated_snippet,
    draw_notice,  # noqa: E402
    verification_snippet,
)
from inspect_kit.publish.notice_results import MatterResults, TaskOutcome, results_notice  # noqa: E402
