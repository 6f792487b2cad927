"""`inspect draw list-file`: a verifiable draw straight from a spreadsheet (专项检查)."""

import json
from pathlib import Path
from typing import Optional

import typer

from inspect_kit.cli import common


def list_file(
    file: Path = typer.Argument(..., help="A .csv or .xlsx list."),
    id_column: str = typer.Option(..., "--id-column", help="The column with the identifiers."),
    stratum_column: Optional[str] = typer.Option(
        None, "--stratum-column", help="A column that splits the list into strata."
    ),
    rate: Optional[str] = typer.Option(None, "--rate", help="A quota per stratum: 25%, 0.25, 1:10 or 5×inspectors."),
    n: Optional[int] = typer.Option(None, "--n", help="A fixed number per stratum."),
    rounding: str = typer.Option("ceil", "--rounding", help="ceil, floor or round."),
    seed: str = typer.Option(..., "--seed", help="The public seed."),
    seed_source: str = typer.Option("", "--seed-source", help="Where the seed came from."),
    id_scheme: Optional[str] = typer.Option(
        None, "--id-scheme", help="uscc (统一社会信用代码, checked) or other \\[default: the registry's setting]."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON (the full bundle with -o)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Also write the verification bundle here."),
) -> None:
    """A verifiable draw straight from a spreadsheet, for special inspections (专项检查).

    Example: inspect draw list-file 专项名单.xlsx --id-column 统一社会信用代码 --rate 10% --seed "8812 0031 7765 2290 4418"
    """
    from inspect_kit.config import load_config
    from inspect_kit.draw.service import draw_from_file

    settings = load_config(common.state.config_path()).settings
    result = draw_from_file(
        file,
        id_column=id_column,
        stratum_column=stratum_column,
        rate=rate,
        n=n,
        rounding=rounding,
        seed=seed,
        seed_source=seed_source,
        min_seed_length=settings.draw.min_seed_length,
        id_scheme=id_scheme or settings.registry.id_scheme,
        other_id_pattern=settings.registry.other_id_pattern,
    )
    if output:
        output.write_text(json.dumps(result.bundle, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if json_out:
        common.print_json(result.summary())
        return
    for s in result.summary()["strata"]:
        common.info(f"[bold]{s['stratum']}[/]: {s['explanation']}")
        common.print_table(
            None, ["rank", "identifier", "ticket"], [(x["rank"], x["identifier"], x["ticket"]) for x in s["selected"]]
        )
    common.info(
        f"frame SHA-256 {result.bundle['frame']['sha256']}" + (f"; bundle written to {output}" if output else "")
    )


def register(draw_app: typer.Typer) -> None:
    draw_app.command("list-file")(list_file)
