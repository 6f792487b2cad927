"""Draws (random 1).

Layout — pure and stored are separate subpackages:

* ``draw/core/`` — pure: no database, files or clock, so a draw can be re-run by anyone from the
  published seed, frame and quotas: sampler (tickets), quota, coverage, frame (canonical rows and
  hash), bundle, record (the commitment and the checks of a bundle's record), seeds (sources and
  the per-draw seed rule). Re-exported below: the sampler's names at once, the others on first
  use (PEP 562), as they import numpy and the bundle code: `from inspect_kit.draw import select`
  in a fresh process costs milliseconds (with the C extension, a draw needs neither).
* ``draw/store/`` — against the database or files: prepare (freeze and commit), run (draw and
  write the tasks), unseal, read (get and list), locking (serialising writers), frames (the frame
  read from the registry), export (bundles and verification from the database), indb (tickets
  computed inside PostgreSQL), tasks (the current tasks of a period), listfile (a draw from a
  spreadsheet).
* ``draw/service.py`` is the facade the CLI and the web layer call (it re-exports what they use
  from both); ``draw/demo.py`` the demo step.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .core.bundle import BUNDLE_FORMAT, BUNDLE_VERSION, DrawVerifyReport, build_bundle, size_strata, verify_bundle
    from .core.coverage import CoverageRule, coverage_size, explain_coverage, period_sizes
    from .core.frame import (
        DrawResult,
        StratumDraw,
        canonical_frame_bytes,
        canonical_rows,
        draw_stratified,
        frame_problems,
        frame_sha256,
    )
    from .core.quota import (
        Quota,
        QuotaKind,
        QuotaRule,
        Rounding,
        SizeExplanation,
        allocate_largest_remainder,
        sample_size,
    )

from .core.sampler import (
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
    "DrawVerifyReport",
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

_LAZY_MODULES = (".core.bundle", ".core.coverage", ".core.frame", ".core.quota")


def __getattr__(name: str) -> object:
    """A re-exported name not loaded yet: from the first of _LAZY_MODULES that defines it."""
    if name in __all__:
        for module_name in _LAZY_MODULES:
            module = importlib.import_module(module_name, __name__)
            if hasattr(module, name):
                value = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
