"""The options of a registry import (see registry.importer)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from inspect_kit.registry.rules import RuleContext


@dataclass
class ImportOptions:
    now: dt.datetime  # the clock is the caller's, so that imports are reproducible in tests
    dry_run: bool = False
    skip_duplicate_rows: bool = False  # drop rows identical to an earlier row instead of refusing
    encoding: str | None = None
    sheet: str | None = None
    known_categories: frozenset[str] | None = None  # None: accept any category
    id_scheme: str = "uscc"  # uscc | other
    other_id_pattern: str = r"^[0-9A-Z][0-9A-Z\-]{3,31}$"
    # Validate clean blocks of entity rows column by column and insert all-new chunks column by
    # column (registry.columns, writers.EntityWriter). Off: every row one by one; same results.
    columnwise: bool = True
    # A coordinator imports for its own unit only: every row's department must be this unit code
    # (entities and inspectors; conflicts have no unit). None: any configured unit (the CLI).
    unit: str | None = None
    by: str | None = None  # the web user importing (recorded on import_batches.by)

    @classmethod
    def from_config(cls, config: Any, now: dt.datetime, **kw: Any) -> "ImportOptions":
        """The options the configuration implies (categories, identifier scheme), plus ``kw``."""
        reg = config.settings.registry
        return cls(
            now=now,
            known_categories=config.categories,
            id_scheme=reg.id_scheme,
            other_id_pattern=reg.other_id_pattern,
            **kw,
        )

    def rule_context(self, present: frozenset[str], units: dict[str, str]) -> RuleContext:
        return RuleContext(present, units, self.known_categories, self.id_scheme, self.other_id_pattern, self.unit)
