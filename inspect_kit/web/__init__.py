"""What inspect-kit serves to browsers. Today: the standalone draw verifier (static/verify.html with
its own JavaScript implementation of the consistent-sampler tickets), written out by
`inspect publish verifier -o DIR` for a bureau's website or a USB stick."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).with_name("static")
VERIFIER_FILES = ("verify.html", "verify.css", "verify.js", "verify-page.js")


def write_verifier(folder: Path | str) -> list[Path]:
    """Copy the verification page into ``folder`` (created if needed); returns the files written."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in VERIFIER_FILES:
        target = out / name
        target.write_bytes((STATIC / name).read_bytes())
        written.append(target)
    return written
