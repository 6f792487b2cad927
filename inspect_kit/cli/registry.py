"""`inspect registry ...`: import, list, show and export the two registries (两库) and conflicts."""

import time
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Optional

import typer

from inspect_kit.cli import common
from inspect_kit.cli.options import JSON

registry_app = typer.Typer(
    help="The registries (两库): entities, inspectors, declared conflicts.", no_args_is_help=True
)


class Kind(str, Enum):
    entities = "entities"
    inspectors = "inspectors"
    conflicts = "conflicts"


class Headers(str, Enum):
    zh = "zh"
    en = "en"


def _progress() -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A progress callback that shows a bar only once an import has run for more than a second."""
    started = time.monotonic()
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in state:
            if time.monotonic() - started < 1.0:
                return
            from rich.progress import Progress

            bar = Progress(console=common.console(stderr=True), transient=True)
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task("importing", total=total or None)
        state["bar"].update(state["task"], completed=done)

    def close() -> None:
        if "bar" in state:
            state["bar"].stop()

    return update, close


@registry_app.command("import")
def import_(
    kind: Kind = typer.Argument(..., help="entities, inspectors or conflicts"),
    file: Path = typer.Argument(..., help=".csv (UTF-8, UTF-8 with BOM, GBK/GB18030, UTF-16) or .xlsx"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and count, write nothing."),
    skip_duplicate_rows: bool = typer.Option(
        False, "--skip-duplicate-rows", help="Drop rows identical to an earlier row instead of refusing the file."
    ),
    encoding: Optional[str] = typer.Option(None, help="Override the detected encoding of a CSV file."),
    sheet: Optional[str] = typer.Option(None, help="The .xlsx sheet to read \\[default: the first]."),
) -> None:
    """Import a registry file: validated in full, upserted by identifier, all or nothing.

    Any bad row refuses the whole file, with a report naming file, row, column and reason.

    Example: inspect registry import entities registries/entities_scjg.csv --dry-run
    """
    import datetime as dt

    from inspect_kit.config import load_config
    from inspect_kit.registry.importer import ImportOptions, import_registry

    cfg = load_config(common.state.config_path())
    opts = ImportOptions.from_config(
        cfg,
        dt.datetime.now(),
        dry_run=dry_run,
        skip_duplicate_rows=skip_duplicate_rows,
        encoding=encoding,
        sheet=sheet,
    )
    engine = common.engine()
    update, close = _progress()
    try:
        summary = import_registry(engine, kind.value, file, opts, progress=update)
    finally:
        close()
    common.info(summary.line())
    if summary.ignored_columns:
        common.info(f"ignored columns (not part of the {kind.value} registry): {', '.join(summary.ignored_columns)}")


@registry_app.command("list")
def list_(
    kind: Kind = typer.Argument(Kind.entities),
    category: Optional[str] = typer.Option(None, help="Only this category (entities)."),
    township: Optional[str] = typer.Option(None, help="Only this township (entities)."),
    department: Optional[str] = typer.Option(None, help="Only this department (unit code)."),
    status: Optional[str] = typer.Option(None, help="active, closed, cancelled / active, on_leave, retired."),
    search: Optional[str] = typer.Option(None, help="Name contains this text."),
    limit: int = typer.Option(50, help="Rows per page (0: all)."),
    offset: int = typer.Option(0, help="Skip this many rows."),
    json_out: bool = JSON,
) -> None:
    """List registry records as a table, or JSON.

    Example: inspect registry list entities --category 重点排污单位 --json
    """
    from inspect_kit.registry.query import LIST_COLUMNS, list_records

    total, rows = list_records(
        common.engine(),
        kind.value,
        limit=limit or None,
        offset=offset,
        category=category,
        township=township,
        department=department,
        status=status,
        search=search,
    )
    if json_out:
        common.print_json({"total": total, "offset": offset, "records": rows})
        return
    cols = LIST_COLUMNS[kind.value]
    common.print_table(
        f"{kind.value}: {len(rows)} of {total}",
        cols,
        [["；".join(r[c]) if isinstance(r.get(c), list) else r.get(c) for c in cols] for r in rows],
    )


@registry_app.command("show")
def show(
    kind: Kind = typer.Argument(..., help="entities or inspectors"),
    key: str = typer.Argument(..., help="统一社会信用代码 or 执法证号"),
    json_out: bool = JSON,
) -> None:
    """Show one record with its conflicts and its full change history.

    Example: inspect registry show entities 913601990401060297
    """
    from inspect_kit.registry.query import show_record
    from inspect_kit.text import clean_code

    rec = show_record(common.engine(), kind.value, clean_code(key))
    if json_out:
        common.print_json(rec)
        return
    history, conflicts = rec.pop("history"), rec.pop("conflicts")
    common.print_table(
        None, ["field", "value"], [(k, "；".join(v) if isinstance(v, list) else v) for k, v in rec.items()]
    )
    if conflicts:
        common.print_table(
            "declared conflicts (回避)",
            ["执法证号", "inspector", "identifier", "entity", "reason"],
            [(c["cert_no"], c["inspector"], c["identifier"], c["entity"], c["reason"]) for c in conflicts],
        )
    common.print_table(
        "history",
        ["at", "action", "changes"],
        [
            (h["at"], h["action"], "; ".join(f"{k}: {o!r} → {n!r}" for k, (o, n) in h["changes"].items()))
            for h in history
        ],
    )


@registry_app.command("export")
def export(
    kind: Kind = typer.Argument(...),
    output: Path = typer.Option(..., "-o", "--output", help="FILE.csv or FILE.xlsx"),
    headers: Headers = typer.Option(Headers.zh, help="Column headers: Chinese (zh) or English field names (en)."),
    no_private: bool = typer.Option(
        False, "--no-private", help="Leave out personal data (phone, legal representative)."
    ),
) -> None:
    """Export a registry in the import format (export, then import, round-trips exactly).

    Example: inspect registry export entities -o entities.xlsx
    """
    from inspect_kit.registry.query import export_registry

    n = export_registry(common.engine(), kind.value, output, headers=headers.value, include_private=not no_private)
    common.info(f"wrote {n} {kind.value} to {output}")


def register(app: typer.Typer) -> None:
    app.add_typer(registry_app, name="registry")
