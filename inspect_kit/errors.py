"""User-facing errors.

Anything a user can cause (bad file, bad config, missing database) raises `InspectError`; the CLI
prints its message and exits with code 1, no traceback. Programming errors stay ordinary exceptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class InspectError(Exception):
    """An error caused by input, configuration or state; the message is for the user."""


@dataclass(frozen=True)
class Problem:
    """One reason a row, cell or key was rejected, with where it is."""

    reason: str
    file: str | None = None
    row: int | None = None  # 1-based line/row number as the user sees it in the file
    column: str | None = None
    key: str | None = None  # config key path, e.g. "matter[2].quota"

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column!r}")
        if self.key:
            parts.append(f"key {self.key!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.reason}" if where else self.reason


class ValidationFailed(InspectError):
    """Input was refused as a whole; `problems` lists every reason, nothing was written."""

    def __init__(self, summary: str, problems: Sequence[Problem]):
        self.summary = summary
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self, limit: int = 200) -> str:
        lines = [f"{self.summary} ({len(self.problems)} problem(s); nothing was written)"]
        for p in self.problems[:limit]:
            lines.append(f"  - {p}")
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        return "\n".join(lines)
