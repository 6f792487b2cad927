"""Draws (random 1).

Pure — no database, files or clock, so a draw can be re-run by anyone from the published seed,
frame and quotas: sampler (tickets), quota, coverage, frame (canonical rows and hash), bundle,
record (the commitment and the checks of a bundle's record), seeds (sources and the per-draw
seed rule). Re-exported below.

Stored — against the database: service (commit, draw, unseal, list), frames (the frame read from
the registry), export (bundles and verification from the database), indb (tickets computed inside
PostgreSQL), tasks (the current tasks of a period), listfile (a draw from a spreadsheet).
"""

from .bundle import BUNDLE_FORMAT, BUNDLE_VERSION, VerifyReport, build_bundle, size_strata, verify_bundle
from .coverage import CoverageRule, coverage_size, explain_coverage, period_sizes
from .frame import (
    DrawResult,
    StratumDraw,
    canonical_frame_bytes,
    canonical_rows,
    draw_stratified,
    frame_problems,
    frame_sha256,
)
from .quota import Quota, QuotaKind, QuotaRule, Rounding, SizeExplanation, allocate_largest_remainder, sample_size
from .sampler import (
    ALGORITHM_NAME,
    ALGORITHM_VERSION,
    Selected,
    format_ticket,
    select,
    ticket,
    ticket_key,
    ticket_keys,
    tickets,
)

__all__ = [
    "ALGORITHM_NAME",
    "ALGORITHM_VERSION",
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "CoverageRule",
    "DrawResult",
    "Quota",
    "QuotaKind",
    "QuotaRule",
    "Rounding",
    "Selected",
    "SizeExplanation",
    "StratumDraw",
    "VerifyReport",
    "allocate_largest_remainder",
    "build_bundle",
    "canonical_frame_bytes",
    "canonical_rows",
    "coverage_size",
    "draw_stratified",
    "explain_coverage",
    "format_ticket",
    "frame_problems",
    "frame_sha256",
    "period_sizes",
    "sample_size",
    "select",
    "size_strata",
    "ticket",
    "ticket_key",
    "ticket_keys",
    "tickets",
    "verify_bundle",
]
