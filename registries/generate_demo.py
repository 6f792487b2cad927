"""Generate the demo county's registries (青山县, fictitious). Deterministic: run it again and the
files come out the same. Every name is invented; every 统一社会信用代码 has a valid check character.

The files are written the way bureaus really hold them, so that the demo exercises the importer:
  entities_sthj.csv    生态环境: UTF-8 with BOM (Excel "CSV UTF-8")
  entities_jyty.xlsx   教育体育: .xlsx with a title row above the header
  entities_scjg.csv    市场监管: GBK (Excel "CSV" on a Chinese Windows), some full-width digits and stray spaces
  inspectors.xlsx      执法检查人员名录库
  conflicts.csv        declared conflicts (回避)

    python registries/generate_demo.py [--out registries] [--market 3000]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from pathlib import Path

DIVISION = "360199"
TOWNSHIPS = ["城关镇", "清水镇", "白沙乡", "龙潭镇", "石桥乡"]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁亮成志翔建国文新春雪梅海峰晨阳晓东"
WORDS = [
    "鑫源",
    "恒达",
    "兴旺",
    "宏图",
    "金山",
    "青云",
    "绿洲",
    "瑞丰",
    "华泰",
    "永盛",
    "众诚",
    "天成",
    "嘉禾",
    "润田",
    "远航",
    "明德",
    "博雅",
    "启航",
    "星辰",
    "佳和",
    "盛世",
    "晨光",
    "富民",
    "祥瑞",
    "安泰",
    "德润",
    "康辉",
    "联创",
]
POLLUTERS = ["化工", "造纸", "印染", "制革", "电镀", "水泥", "陶瓷", "酿造", "食品", "冶炼", "污水处理", "养殖"]
TRADES = [
    "商贸",
    "建材",
    "餐饮",
    "五金",
    "农资",
    "服饰",
    "电器",
    "物流",
    "药房",
    "超市",
    "汽修",
    "食品",
    "家具",
    "茶业",
]
INDUSTRY = {
    "化工": "化学原料和化学制品制造业",
    "造纸": "造纸和纸制品业",
    "印染": "纺织业",
    "制革": "皮革制品业",
    "电镀": "金属制品业",
    "水泥": "非金属矿物制品业",
    "陶瓷": "非金属矿物制品业",
    "酿造": "酒、饮料和精制茶制造业",
    "食品": "农副食品加工业",
    "冶炼": "有色金属冶炼和压延加工业",
    "污水处理": "水的生产和供应业",
    "养殖": "畜牧业",
}


def org_code(rng: random.Random) -> str:
    """A 9-character organisation code (GB 11714) with its mod-11 check character."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    c = 11 - sum(int(d) * w for d, w in zip(body, weights)) % 11
    return body + ("X" if c == 10 else "0" if c == 11 else str(c))


def uscc(rng: random.Random, prefix: str, seen: set[str]) -> str:
    while True:
        first17 = prefix + DIVISION + org_code(rng)
        total = sum(USCC_ALPHABET.index(ch) * pow(3, i, 31) for i, ch in enumerate(first17))
        code = first17 + USCC_ALPHABET[(31 - total % 31) % 31]
        if code not in seen:
            seen.add(code)
            return code


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def phone(rng: random.Random) -> str:
    return rng.choice(["138", "139", "150", "187", "135"]) + "".join(rng.choice("0123456789") for _ in range(8))


def company(rng: random.Random, trade: str, names: set[str], suffix: str = "有限公司") -> str:
    while True:
        name = f"青山县{rng.choice(WORDS)}{rng.choice(WORDS)}{trade}{suffix}"
        if name not in names:
            names.add(name)
            return name


ENTITY_HEADER = [
    "统一社会信用代码",
    "单位名称",
    "类别",
    "监管部门",
    "所属乡镇",
    "行业",
    "信用等级",
    "状态",
    "豁免原因",
    "豁免起始日期",
    "豁免截止日期",
    "联系电话",
    "法定代表人",
]


def sthj(rng: random.Random, seen: set[str], names: set[str]) -> list[list[str]]:
    rows = []
    for i in range(50):
        cat = "重点排污单位" if i < 16 else "一般排污单位"
        trade = rng.choice(POLLUTERS)
        exempt = (
            ["纳入监督执法正面清单（污染治理设施运行稳定、自动监控全覆盖）", "2026-01-01", "2026-12-31"]
            if 16 <= i < 21
            else ["", "", ""]
        )
        rows.append(
            [
                uscc(rng, "91", seen),
                company(rng, trade, names),
                cat,
                "STHJ",
                rng.choice(TOWNSHIPS),
                INDUSTRY[trade],
                rng.choice("AABBBC"),
                "存续",
                *exempt,
                phone(rng),
                person(rng),
            ]
        )
    return rows


def jyty(rng: random.Random, seen: set[str], names: set[str]) -> list[list[str]]:
    rows = []
    for _ in range(24):
        name = company(rng, rng.choice(["艺术培训", "体育培训", "科技培训", "书法培训", "音乐培训"]), names, "中心")
        rows.append(
            [
                uscc(rng, "52", seen),
                name,
                "校外培训机构",
                "JYTY",
                rng.choice(TOWNSHIPS),
                "教育",
                "",
                "存续",
                "",
                "",
                "",
                phone(rng),
                person(rng),
            ]
        )
    for i in range(131):
        private = i < 5
        town = TOWNSHIPS[i % len(TOWNSHIPS)]
        name = f"青山县{rng.choice(WORDS)}幼儿园" if private else f"青山县{town}第{i // 5 + 1}幼儿园"
        while name in names:
            name = f"青山县{rng.choice(WORDS)}{rng.choice(WORDS)}幼儿园"
        names.add(name)
        rows.append(
            [
                uscc(rng, "52" if private else "12", seen),
                name,
                "民办幼儿园" if private else "公办幼儿园",
                "JYTY",
                town,
                "学前教育",
                "",
                "存续",
                "",
                "",
                "",
                phone(rng),
                person(rng),
            ]
        )
    return rows


def scjg(rng: random.Random, seen: set[str], names: set[str], n: int) -> list[list[str]]:
    rows = []
    for _ in range(n):
        sole = rng.random() < 0.45
        trade = rng.choice(TRADES)
        name = company(rng, trade, names, "店" if sole else "有限公司")
        status = "存续" if rng.random() > 0.03 else rng.choice(["注销", "吊销", "停业"])
        credit = rng.choices("ABCD", weights=(30, 50, 15, 5))[0]
        rows.append(
            [
                uscc(rng, "92" if sole else "91", seen),
                name,
                "个体工商户" if sole else "企业",
                "SCJG",
                rng.choice(TOWNSHIPS),
                trade,
                credit,
                status,
                "",
                "",
                "",
                phone(rng),
                person(rng),
            ]
        )
    return rows


INSPECTOR_HEADER = [
    "执法证号",
    "姓名",
    "所属部门",
    "户籍乡镇",
    "人员类别",
    "状态",
    "证件有效期起",
    "证件有效期至",
    "每期任务上限",
    "执法资格",
    "联系电话",
]


def inspectors(rng: random.Random) -> list[list[str]]:
    rows, used = [], set()
    plan = [("STHJ", "生态环境执法", 12), ("JYTY", "教育督导", 10), ("SCJG", "市场监管执法", 16)]
    for dep, qual, count in plan:
        for i in range(count):
            name = person(rng)
            while name in used:
                name = person(rng)
            used.add(name)
            cert = f"36{DIVISION[2:]}{dep[:2]}{len(rows) + 1:04d}"
            status = "在岗"
            valid_to = "2028-12-31"
            if dep == "STHJ" and i == 11:
                status = "休假"  # on leave: never assigned
            if dep == "SCJG" and i == 15:
                valid_to = "2025-12-31"  # expired certificate: never assigned
            quals = qual + ("；重点排污单位" if dep == "STHJ" and i < 6 else "")
            rows.append(
                [
                    cert,
                    name,
                    dep,
                    rng.choice(TOWNSHIPS),
                    "执法人员",
                    status,
                    "2023-01-01",
                    valid_to,
                    "",
                    quals,
                    phone(rng),
                ]
            )
    for dep, qual in (("STHJ", "生态环境执法"), ("JYTY", "教育督导")):
        rows.append(
            [f"ZJ{DIVISION}{len(rows) + 1:03d}", person(rng), dep, "", "专家", "在岗", "", "", "", qual, phone(rng)]
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent)
    ap.add_argument("--market", type=int, default=3000, help="number of market entities (市场监管)")
    args = ap.parse_args()
    rng = random.Random(20260101)
    seen: set[str] = set()
    names: set[str] = set()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    sthj_rows = sthj(rng, seen, names)
    with open(out / "entities_sthj.csv", "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([ENTITY_HEADER, *sthj_rows])

    import openpyxl

    jyty_rows = jyty(rng, seen, names)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名录库"
    ws.append(["青山县教育体育局检查对象名录库（2026年）"])
    ws.append(ENTITY_HEADER)
    for r in jyty_rows:
        ws.append(r)
    wb.properties.created = dt.datetime(2026, 1, 1)
    wb.save(out / "entities_jyty.xlsx")

    full = str.maketrans("0123456789", "０１２３４５６７８９")
    scjg_rows = scjg(rng, seen, names, args.market)
    with open(out / "entities_scjg.csv", "w", encoding="gbk", newline="") as f:
        w = csv.writer(f)
        w.writerow(ENTITY_HEADER)
        for i, r in enumerate(scjg_rows):
            r = list(r)
            if i % 97 == 0:
                r[0] = r[0].translate(full)  # typed with a Chinese IME
            if i % 89 == 0:
                r[1] = f" {r[1]} "
            if i % 83 == 0:
                r[0] = r[0].lower()
            w.writerow(r)

    insp = inspectors(rng)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "执法人员"
    ws.append(INSPECTOR_HEADER)
    for r in insp:
        ws.append(r)
    wb.properties.created = dt.datetime(2026, 1, 1)
    wb.save(out / "inspectors.xlsx")

    # Declared conflicts: an officer's relative runs a key source, prior dealings, and so on.
    reasons = ["近亲属在该单位任职", "曾为该单位提供环评咨询服务", "与该单位负责人存在利害关系", "配偶持有该单位股份"]
    key_sources = [r[0] for r in sthj_rows[:16]]
    sthj_officers = [r[0] for r in insp if r[2] == "STHJ" and r[4] == "执法人员"]
    market = [r[0] for r in scjg_rows[:40]]
    scjg_officers = [r[0] for r in insp if r[2] == "SCJG" and r[4] == "执法人员"]
    conflicts = [
        [sthj_officers[0], key_sources[0], reasons[0]],
        [sthj_officers[3], key_sources[5], reasons[1]],
        [sthj_officers[7], key_sources[9], reasons[2]],
        [scjg_officers[2], market[3], reasons[3]],
        [scjg_officers[5], market[10], reasons[0]],
        [scjg_officers[5], key_sources[2], reasons[2]],
    ]
    with open(out / "conflicts.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["执法证号", "统一社会信用代码", "回避原因"], *conflicts])
    print(
        f"wrote {len(sthj_rows) + len(jyty_rows) + len(scjg_rows)} entities, {len(insp)} inspectors, "
        f"{len(conflicts)} conflicts to {out}"
    )


if __name__ == "__main__":
    main()
