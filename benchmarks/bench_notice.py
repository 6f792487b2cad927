"""Benchmark: a drawn-list notice with one 10,000-row table.

Prints page count, PDF size, wall and CPU time of ``render`` (after a warm-up that loads the
fonts), and the process's peak RSS; ``--tracemalloc`` adds peak Python allocations.

    .venv/bin/python benchmarks/bench_notice.py [--rows 10000] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import resource
import sys
import time
import tracemalloc

from pypdf import PdfReader

from inspect_kit.publish import NoticeDocument, Section, Table, chinese_numeral, doc_number, render

TOWNS = ["城关镇", "东山乡", "西河镇", "南湖街道", "北岭乡"]
TRADES = ["环保科技", "建材", "化工", "食品加工", "机械制造", "纺织印染", "物流"]


def uscc(i: int) -> str:
    """An 18-character code shaped like a 统一社会信用代码 (check character not computed)."""
    return f"913601{i:011d}X"


def drawn_list(rows: int) -> NoticeDocument:
    table_rows = [
        [
            str(i),
            f"某某市{TOWNS[i % 5]}{chinese_numeral(i % 97 + 1)}号{TRADES[i % 7]}有限公司",
            uscc(i),
            TOWNS[i % 5],
            "重点排污单位" if i % 4 == 0 else "一般排污单位",
        ]
        for i in range(1, rows + 1)
    ]
    bundle = json.dumps({"seed": "20260105-0382-1947", "selected": [r[2] for r in table_rows]}).encode()
    return NoticeDocument(
        issuer="某某市生态环境局",
        title="某某市生态环境局关于2026年第一季度“双随机、一公开”抽查对象名单的公示",
        issue_date=dt.date(2026, 1, 5),
        doc_number=doc_number(2026, 5, "某环"),
        intro=[
            "根据《关于在市场监管领域全面推行部门联合“双随机、一公开”监管的意见》（国发〔2019〕5号），"
            "现将本季度抽查对象名单公示如下。"
        ],
        sections=[
            Section(
                "一、排污许可执行情况检查",
                ["抽查比例：重点排污单位25%，一般排污单位1:10，向上取整。"],
                Table(
                    ["序号", "单位名称", "统一社会信用代码", "所属乡镇", "类别"],
                    table_rows,
                    align=["center", "left", "left", "center", "center"],
                ),
            ),
            Section("二、抽取验证信息", ["随机种子：20260105-0382-1947（来源：公开摇号）。"]),
        ],
        closing=["特此公示。"],
        files=[("draw-bundle.json", bundle)],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also report peak Python allocations (slows the traced run ~5x)"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    render(drawn_list(20))  # loads and registers the fonts
    warm_up = time.perf_counter() - started
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    notice = drawn_list(args.rows)
    started = time.perf_counter()
    cpu_started = time.process_time()
    pdf = render(notice)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(f"rows={args.rows} pages={pages} pdf={len(pdf) / 1e6:.2f} MB")
    print(f"render: wall {wall:.2f} s, CPU {cpu:.2f} s (font load + a 20-row notice first: {warm_up:.2f} s)")
    print(f"peak RSS {rss:.0f} MiB (after warm-up {rss_before:.0f} MiB)")
    if args.tracemalloc:
        tracemalloc.start()
        render(notice)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak traced Python allocations during render: {peak / 2**20:.0f} MiB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
