"""Benchmark of the public side: pages under concurrent clients, and verification in the browser.

    .venv/bin/python benchmarks/bench_public.py                  # everything
    .venv/bin/python benchmarks/bench_public.py --requests 500   # a shorter load phase

1. `inspect demo` builds the demo county's database (in a temporary folder).
2. `inspect serve` runs in a subprocess (uvicorn, one worker, SQLite) on a free local port.
3. Load: ``--clients`` concurrent clients (httpx, asyncio) each request the page in a bounded loop
   until ``--requests`` requests are done; per page: requests per second and the 50th/95th
   percentile latency. Pages: the draw page of the demo's largest draw (SCJG-01 2026, 283 tasks),
   the verify page, and that draw's bundle (the file the verify page fetches).
4. In the browser (Playwright, Debian's chromium): the time ``InspectVerify.verifyBundle`` takes
   on the demo's largest draw (2,915 entities), fetched from the server, and on a 100,000-entity
   bundle made by ``inspect draw list-file`` (10 strata, rate 10 %), passed in as text. The figure
   is the verification only (the download and JSON parsing are reported apart).

Every figure is one run on whatever machine runs it; the shared development machine gives ±30 %.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
LARGEST = ("SCJG-01", "2026")


def cli(*args: str, cwd: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([PY, "-m", "inspect_kit", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"inspect {' '.join(args)} failed:\n{r.stderr[-2000:]}")
    return r.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(db: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [PY, "-m", "inspect_kit", "--db", str(db), "--config", str(ROOT / "configs"), "serve", "--port", str(port)]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/public", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start: " + (proc.stderr.read().decode()[-2000:] if proc.stderr else ""))


async def load(url: str, clients: int, total: int) -> dict[str, float]:
    import httpx

    latencies: list[float] = []
    left = total
    failures = 0

    async def client(c: httpx.AsyncClient) -> None:
        nonlocal left, failures
        while left > 0:  # bounded: the requests are shared out until `total` are done
            left -= 1
            t0 = time.perf_counter()
            try:
                r = await c.get(url)
                failures += r.status_code != 200
            except httpx.TransportError:  # a connection the server closed (reported, not retried)
                failures += 1
            latencies.append(time.perf_counter() - t0)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120) as c:
        await c.get(url)  # warm
        t0 = time.perf_counter()
        await asyncio.gather(*(client(c) for _ in range(clients)))
        wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "requests": len(latencies),
        "failures": failures,
        "rps": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
    }


def big_bundle(folder: Path, n: int) -> Path:
    """A bundle of ``n`` entities (free identifiers, 10 strata) drawn by `inspect draw list-file`."""
    rng = random.Random(20261129)
    path = folder / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["统一社会信用代码", "乡镇"])
        for i in range(n):
            w.writerow([f"QS{i:08d}{rng.randrange(10**6):06d}", f"第{rng.randrange(10) + 1}镇"])
    out = folder / "big-bundle.json"
    cli("--config", str(ROOT / "configs"), "draw", "list-file", str(path), "--id-column", "统一社会信用代码", "--stratum-column", "乡镇",
        "--rate", "10%", "--id-scheme", "other", "--seed", "8812 0031 7765 2290 4418 3307",
        "--seed-source", "benchmark", "-o", str(out), cwd=folder)  # fmt: skip
    return out


VERIFY_FETCHED = """async (url) => {
  const t0 = performance.now();
  const b = await (await fetch(url)).json();
  const t1 = performance.now();
  const r = await InspectVerify.verifyBundle(b);
  return {load_s: (t1 - t0) / 1000, verify_s: (performance.now() - t1) / 1000, ok: r.ok, rows: b.frame.rows.length};
}"""
VERIFY_TEXT = """async (text) => {
  const t0 = performance.now();
  const b = JSON.parse(text);
  const t1 = performance.now();
  const r = await InspectVerify.verifyBundle(b);
  return {load_s: (t1 - t0) / 1000, verify_s: (performance.now() - t1) / 1000, ok: r.ok, rows: b.frame.rows.length};
}"""


def in_browser(base: str, big: Path) -> dict[str, dict[str, float]]:
    from playwright.sync_api import sync_playwright

    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.goto(f"{base}/public/verify")
        out["demo largest"] = page.evaluate(VERIFY_FETCHED, f"/public/bundles/{LARGEST[0]}/{LARGEST[1]}.json")
        out["large bundle"] = page.evaluate(VERIFY_TEXT, big.read_text(encoding="utf-8"))
        browser.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--requests", type=int, default=2000, help="requests per page")
    ap.add_argument("--big", type=int, default=100_000, help="entities of the large bundle")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-public-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        cli("demo", "--out", str(folder / "demo"), cwd=folder)
        print(f"demo database built in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        big = big_bundle(folder, a.big)
        print(f"{a.big:,}-entity bundle drawn in {time.perf_counter() - t0:.1f} s ({big.stat().st_size / 1e6:.1f} MB)")
        port = free_port()
        proc = serve(folder / "demo" / "inspect.db", port)
        base = f"http://127.0.0.1:{port}"
        try:
            pages = {
                "draw page (SCJG-01 2026)": f"{base}/public/draws/{LARGEST[0]}/{LARGEST[1]}",
                "verify page": f"{base}/public/verify",
                "bundle (SCJG-01 2026)": f"{base}/public/bundles/{LARGEST[0]}/{LARGEST[1]}.json",
            }
            print(f"\n{a.clients} concurrent clients, {a.requests} requests per page (uvicorn, 1 worker, SQLite)")
            for name, url in pages.items():
                r = asyncio.run(load(url, a.clients, a.requests))
                print(f"  {name:28} {r['rps']:8.1f} req/s   p50 {r['p50_ms']:7.0f} ms   p95 {r['p95_ms']:7.0f} ms"
                      f"   failures {r['failures']}")  # fmt: skip
            print("\nverification in the browser (chromium, InspectVerify.verifyBundle)")
            for name, r in in_browser(base, big).items():
                print(f"  {name:18} {r['rows']:>7,} entities: verify {r['verify_s']:.2f} s "
                      f"(download/parse {r['load_s']:.2f} s), ok={r['ok']}")  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
