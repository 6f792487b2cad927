"""`inspect config ...`: check the config files and load them into the database."""

from pathlib import Path
from typing import Optional

import typer

from inspect_kit.cli import common
from inspect_kit.cli.options import JSON

config_app = typer.Typer(help="Settings, units and the matters list (一单).", no_args_is_help=True)


@config_app.command("check")
def check(
    path: Optional[Path] = typer.Argument(None, help="A config file or folder \\[default: the config folder]"),
) -> None:
    """Validate config files; errors name the file, the key and the problem.

    Example: inspect config check configs/matters.toml
    """
    from inspect_kit.config import check_file

    common.info(check_file(path or common.state.config_path()))


@config_app.command("load")
def load() -> None:
    """Store the config's units and matters in the database (history kept).

    Example: inspect --config configs config load
    """
    import datetime as dt

    from inspect_kit.config import load_config
    from inspect_kit.config.sync import sync_config

    cfg = load_config(common.state.config_path())
    common.info(sync_config(common.engine(), cfg, dt.datetime.now()).line())


@config_app.command("show")
def show(json_out: bool = JSON) -> None:
    """List the matters with their periods and quotas.

    Example: inspect config show --json
    """
    from inspect_kit.config import load_config

    cfg = load_config(common.state.config_path())
    if json_out:
        common.print_json(
            {"units": [u.model_dump() for u in cfg.units], "matters": [m.model_dump() for m in cfg.matters]}
        )
        return
    common.print_table(
        "Matters (一单)",
        ["code", "name", "unit", "period", "quota", "per stratum", "coverage", "team"],
        [
            (
                m.code,
                m.name,
                m.unit,
                m.period,
                m.quota,
                ", ".join(f"{k}={v}" for k, v in m.stratum_quota.items()),
                m.coverage,
                "+".join(f"{d}×{n}" for d, n in m.team_demand().items()),
            )
            for m in cfg.matters
        ],
    )


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
