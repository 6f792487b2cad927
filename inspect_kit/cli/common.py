"""What every command shares: the chosen database and config folder, output helpers.

Kept light: importing this module must not import SQLAlchemy, numpy or reportlab, so that
`inspect --help` stays fast. Heavy imports happen inside the functions that need them.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Literal, Sequence, overload

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Engine

    from inspect_kit.periods import Period

CONFIG_ENV = "INSPECT_CONFIG_DIR"


@dataclass
class State:
    db_url: str | None = None
    config_dir: Path | None = None
    busy_timeout: float | None = None  # seconds (SQLite); None: INSPECT_DB_BUSY_TIMEOUT or 10

    def config_path(self) -> Path:
        return self.config_dir or Path(os.environ.get(CONFIG_ENV, "configs"))


state = State()


def engine() -> Engine:
    """The database named by --db / INSPECT_DB_URL, checked to be at the current schema."""
    from inspect_kit.storage.db import open_database

    return open_database(state.db_url, busy_timeout=state.busy_timeout)


def new_engine(url: str | None = None) -> Engine:
    """An engine on `url` (default: --db / INSPECT_DB_URL) whatever its schema (init, db upgrade)."""
    from inspect_kit.storage.db import make_engine

    return make_engine(url or state.db_url, busy_timeout=state.busy_timeout)


@overload
def period_from_options(
    quarter: str | None, month: str | None, year: str | int | None, period: str | None, required: Literal[True] = True
) -> Period: ...
@overload
def period_from_options(
    quarter: str | None, month: str | None, year: str | int | None, period: str | None, required: bool
) -> Period | None: ...
def period_from_options(
    quarter: str | None, month: str | None, year: str | int | None, period: str | None, required: bool = True
) -> Period | None:
    """The one period given by --quarter, --month, --year or --period (a Period), or None."""
    from inspect_kit.errors import InspectError
    from inspect_kit.periods import parse_period

    given = [str(p) for p in (quarter, month, year, period) if p not in (None, "")]
    if len(given) > 1:
        raise InspectError("give only one of --quarter, --month, --year or --period")
    if not given:
        if required:
            raise InspectError("which period? give --quarter 2026Q1, --month 2026-03, --year 2026 or --period")
        return None
    return parse_period(given[0])


def check_args(args: Sequence[str]) -> None:
    """Refuse a command line whose options or arguments hold characters no text may hold (see
    inspect_kit.text: control characters, bidirectional controls, undecodable bytes), naming the
    option (or the argument) before anything runs. Every text option of every command passes here."""
    from inspect_kit.text import check_text, text_problem

    for i, arg in enumerate(args):
        if text_problem(arg) is None:
            continue
        if arg.startswith("--") and "=" in arg:
            name = arg.split("=", 1)[0]
        elif i > 0 and args[i - 1].startswith("-") and args[i - 1] != "--" and not arg.startswith("-"):
            name = args[i - 1]
        else:
            name = f"the argument {arg[:40].encode('unicode_escape').decode()}"
        check_text(arg, name)


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    con = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not con.is_terminal and "COLUMNS" not in os.environ:
        con.width = 160  # piped or redirected: don't squeeze tables into 80 columns
    return con


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console().print(table)


def escape(text: str) -> str:
    """Text shown inside a Rich-markup message: brackets such as [findings] stay visible."""
    from rich.markup import escape as rich_escape

    return rich_escape(str(text))


def info(message: str) -> None:
    console().print(message)
