"""`inspect init` and `inspect db ...`: create and migrate the database."""

import typer

from inspect_kit.cli import common

db_app = typer.Typer(help="Database schema: upgrade an existing database, show its revision.", no_args_is_help=True)


def init() -> None:
    """Create a new database at the current schema.

    Example: inspect --db sqlite:///county.db init
    """
    from inspect_kit.storage.db import init_database
    from inspect_kit.storage.urls import show_url

    engine = common.new_engine()
    init_database(engine)
    common.info(f"created {show_url(engine.url)} at the current schema")


@db_app.command("upgrade")
def upgrade() -> None:
    """Migrate an existing database to the current schema (safe to run twice).

    Example: inspect --db postgresql://inspect@localhost/county db upgrade
    """
    from inspect_kit.storage.db import current_revision, head_revision
    from inspect_kit.storage.db import upgrade as do_upgrade

    engine = common.new_engine()
    before = current_revision(engine)
    do_upgrade(engine)
    common.info(f"database at revision {head_revision()} (was {before or 'empty'})")


@db_app.command("current")
def current() -> None:
    """Show the database's schema revision and the one this version needs.

    Example: inspect db current
    """
    from inspect_kit.storage.db import current_revision, head_revision

    engine = common.new_engine()
    common.info(f"database: {current_revision(engine) or 'no schema'}; this version: {head_revision()}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(db_app, name="db")
