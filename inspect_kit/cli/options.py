"""Options every command shares, declared once (sqlite-utils style), and the one date parser.

Importing this module imports typer only (it is read while `inspect --help` is built).
"""

import datetime as dt
from typing import Optional

import typer

QUARTER = typer.Option(None, "--quarter", help="e.g. 2026Q1 (quarterly matters)")
MONTH = typer.Option(None, "--month", help="e.g. 2026-03 (monthly matters)")
YEAR = typer.Option(None, "--year", help="e.g. 2026 (yearly matters)")
PERIOD = typer.Option(None, "--period", help="2026Q1, 2026-03 or 2026")
MATTER = typer.Option(None, "--matter", help="One matter code \\[default: every matter of the period's kind].")
JSON = typer.Option(False, "--json", help="Print JSON.")
CSV = typer.Option(False, "--csv", help="Print CSV.")


def date_value(text: Optional[str], option: str, default: Optional[dt.date] = None) -> Optional[dt.date]:
    """A date option in any form the registries accept (2026-01-05, 2026/1/5, 2026年1月5日,
    20260105 ...); ``default`` when the option is not given; an error naming the option otherwise."""
    from inspect_kit.errors import InspectError
    from inspect_kit.text import parse_date

    if text is None or not str(text).strip():
        return default
    try:
        value = parse_date(text)
    except ValueError as exc:
        raise InspectError(f"{option}: {exc}") from None
    return value if value is not None else default
