"""The pure draw core: tickets, quotas, coverage, frames and verification bundles.

No database, files or clock: every function here is a pure function of its arguments, so a
draw can be re-run by anyone from the published seed, frame and quotas.
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
