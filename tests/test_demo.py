"""`inspect demo`, the README's main job, end to end on a new SQLite database."""

from __future__ import annotations

import re
import subprocess
import sys

from sqlalchemy import func, select

from inspect_kit.draw.core.caps import CAP_REASON
from inspect_kit.storage.db import make_engine
from inspect_kit.storage.models import (
    Assignment,
    Commitment,
    Draw,
    Finding,
    Frame,
    JointVisit,
    Notice,
    ScoringRun,
    Task,
)
from tests.conftest import ROOT


def test_demo_runs_the_whole_pipeline(demo_run):
    # The session's demo run, shared with the privacy tests; the second run below rewrites the
    # same folder with the same bytes (the notices and the log name the files by their paths).
    out, r = demo_run
    assert r.returncode == 0, r.stderr[-3000:]
    assert "demo complete" in r.stdout
    for name in ("抽查名单公示-2026Q1.pdf", "抽查结果公示-2026Q1.pdf", "考评结果-2026.pdf"):
        assert (out / name).stat().st_size > 10_000, name
    engine = make_engine(f"sqlite:///{out / 'inspect.db'}")
    with engine.connect() as c:
        count = lambda m: c.execute(select(func.count()).select_from(m)).scalar_one()  # noqa: E731
        assert count(Draw) == 12  # 2 quarterly matters × 4 quarters + 4 yearly matters
        assert count(Task) > 300 and count(Assignment) == 6 and count(Finding) > 100
        assert count(Notice) >= 3 and count(ScoringRun) == 1
        # issue 16's demo: coordinated draws (STHJ-01 with LH-01), joint visits, a binding cap
        commitments = c.execute(select(Commitment.matter_code, Commitment.coordination)).all()
        assert sorted(m for m, coord in commitments if coord) == ["LH-01"] + ["STHJ-01"] * 4
        lh01 = set(c.execute(select(Task.identifier).join(Draw).where(Draw.matter_code == "LH-01")).scalars())
        q1 = select(Task.identifier).join(Draw).where(Draw.matter_code == "STHJ-01", Draw.period == "2026Q1")
        assert len(lh01) == 3 and lh01 <= set(c.execute(q1).scalars())  # positive: inside STHJ-01's Q1 sample
        assert count(JointVisit) == 3
        capped = [e.get(CAP_REASON, 0) for e in c.execute(select(Frame.excluded)).scalars()]
        assert sum(capped) == 3 + 6 + 9  # STHJ-02's 2026Q2–Q4 frames leave out what earlier quarters drew
    engine.dispose()
    # Everything the demo drew and assigned re-derives from the stored records.
    v = subprocess.run(
        [sys.executable, "-m", "inspect_kit", "--db", str(out / "inspect.db"), "verify"], capture_output=True, text=True
    )
    assert v.returncode == 0 and "FAIL" not in v.stdout and v.stdout.count("OK") == 19
    assert "OK  transparency log" in v.stdout  # 12 draws, 6 assignments and the log
    # A second run starts afresh and prints the same thing (fixed dates and seeds).
    again = subprocess.run(
        [sys.executable, "-m", "inspect_kit", "demo", "--out", str(out)], cwd=ROOT, capture_output=True, text=True
    )
    # ... except the demo accounts' passwords, which are new on every run (never fixed in the code).
    passwords = [line.split("\t")[3].strip() for line in (out / "demo-accounts.txt").read_text("utf-8").splitlines()]
    assert len(set(passwords)) == len(passwords) >= 5 and all(len(p) >= 10 for p in passwords)
    masked = lambda text: re.sub(r"(│ [^│]+│ [a-z]+ +│ [A-Z]* *│ )\S+( +│)", r"\1***\2", text)  # noqa: E731
    assert again.returncode == 0 and masked(again.stdout) == masked(r.stdout)
    assert again.stdout != r.stdout  # the passwords did change
