"""The findings policy: what the rules depend on besides the data (code lists, holiday calendar,
publicity days), from settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from inspect_kit.errors import InspectError
from inspect_kit.findings.calendar import WorkingCalendar, default_calendar
from inspect_kit.findings.codes import DEFAULT_CODEBOOK, Codebook
from inspect_kit.findings.deadlines import PUBLICITY_WORKING_DAYS


@dataclass(frozen=True)
class FindingsPolicy:
    """What the rules depend on besides the data: code lists, holiday calendar, publicity days."""

    codebook: Codebook = DEFAULT_CODEBOOK
    calendar: WorkingCalendar = field(default_factory=default_calendar)
    publicity_days: int = PUBLICITY_WORKING_DAYS
    roll_to_working_day: bool = True  # a rectification deadline on a holiday moves to the next working day


def policy_from_config(config: Any, codes: Mapping[str, Any] | None = None) -> FindingsPolicy:
    """The policy of a loaded Config: settings.findings (publicity_working_days, extra_holidays,
    extra_workdays) and code lists from `codes` or, once settings has it, settings.findings.codes
    (a dict for `Codebook.from_dict`); without either the default code lists."""
    fs = config.settings.findings
    try:
        calendar = WorkingCalendar(fs.extra_holidays, fs.extra_workdays)
    except ValueError as exc:
        raise InspectError(
            f"settings.toml [findings] extra_holidays / extra_workdays: {exc} (use YYYY-MM-DD)"
        ) from None
    if codes is None:
        codes = getattr(fs, "codes", None)
        if codes is not None and hasattr(codes, "model_dump"):
            codes = codes.model_dump(exclude_none=True)
    codebook = Codebook.from_dict(codes, key_prefix="findings.codes.") if codes else DEFAULT_CODEBOOK
    return FindingsPolicy(codebook=codebook, calendar=calendar, publicity_days=fs.publicity_working_days)


DEFAULT_POLICY = FindingsPolicy()
