"""The `inspect` command: a thin Typer shell over the inspect_kit library.

Exit codes: 0 success, 1 a user error (message, no traceback), 2 usage.
"""

import sys
from pathlib import Path
from typing import Any, Optional

import typer
import typer.core

from inspect_kit import __version__
from inspect_kit.cli import common


def _skip_coercion_of_unset_options() -> None:
    """Let an option left unset (None) through without building its pydantic TypeAdapter.

    Typer 0.29 coerces every parameter of every group on the way to a subcommand, so
    `inspect draw --help` coerced the root's unset options (--db, --config, --help ...) and imported
    pydantic for it (~0.1 s). For None, typer's own coercion returns None (or () for a
    multi-value option) without consulting the adapter, so skipping it changes no result; a given
    value is coerced exactly as before. Guarded: on a typer without this hook nothing is patched,
    and tests/test_startup.py notices the slower path.
    """
    param = getattr(typer.core, "_TyperParameter", None)
    process = getattr(param, "process_value", None)
    if param is None or process is None or getattr(process, "_inspect_kit_lazy", False):
        return

    def process_value(self: Any, ctx: Any, value: Any) -> Any:
        if value is not None or self.required:
            return process(self, ctx, value)
        value = () if (self.multiple or self.nargs == -1) else None  # what the coercion returns
        return value if self.callback is None else self.callback(ctx, self, value)

    process_value._inspect_kit_lazy = True  # type: ignore[attr-defined]
    param.process_value = process_value


_skip_coercion_of_unset_options()


class _CheckedGroup(typer.core.TyperGroup):
    """The root command: its arguments (every option and argument of every subcommand) are
    checked for characters no text may hold before they are parsed (common.check_args)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        common.check_args(args)
        return super().parse_args(ctx, args)


app = typer.Typer(
    name="inspect",
    cls=_CheckedGroup,
    help="Verifiable 双随机、一公开 random inspections: registries, draws, teams, findings, notices, scoring.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"inspect-kit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    db: Optional[str] = typer.Option(
        None, "--db", envvar="INSPECT_DB_URL", help="SQLAlchemy URL or SQLite file \\[default: sqlite:///inspect.db]"
    ),
    config: Optional[Path] = typer.Option(
        None, "--config", envvar=common.CONFIG_ENV, help="Config folder \\[default: ./configs]"
    ),
    busy_timeout: Optional[float] = typer.Option(
        None,
        "--busy-timeout",
        envvar="INSPECT_DB_BUSY_TIMEOUT",
        metavar="SECONDS",
        help="SQLite: how long a write waits for another program's lock before giving up \\[default: 10]",
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    common.state.db_url = db
    common.state.config_dir = config
    common.state.busy_timeout = busy_timeout


def _register() -> None:
    # Each module defines `register(app)`; a stage that is not built yet is simply absent.
    import importlib

    for name in (
        "base",
        "registry",
        "config",
        "draw",
        "assign",
        "findings",
        "publish",
        "paper",
        "score",
        "burden",
        "user",
        "serve",
        "demo",
    ):
        try:
            mod = importlib.import_module(f"inspect_kit.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"inspect_kit.cli.{name}":
                raise
            continue
        mod.register(app)


_register()


def main() -> None:
    from inspect_kit.errors import InspectError

    try:
        app()
    except InspectError as exc:
        from inspect_kit.storage.urls import redact  # no message ever shows a database password

        common.console(stderr=True).print(
            f"[bold red]error:[/] {common.escape(redact(str(exc)))}", markup=True, highlight=False
        )
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the last resort: a unique key taken by a concurrent writer
        if type(exc).__name__ != "IntegrityError" or not type(exc).__module__.startswith("sqlalchemy"):
            raise
        common.console(stderr=True).print(
            "[bold red]error:[/] someone else wrote the same records at the same "
            "time; nothing was written: run the command again",
            highlight=False,
        )
        sys.exit(1)
