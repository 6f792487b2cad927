"""`inspect serve`: the web application (staff pages, the public side and the JSON API)."""

from __future__ import annotations

from pathlib import Path

import typer

from inspect_kit.cli import common


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (behind a reverse proxy: 127.0.0.1)"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes (PostgreSQL for more than one)"),
    secure_cookies: bool = typer.Option(
        False, "--secure-cookies", help="Mark cookies Secure: served over HTTPS by a reverse proxy"
    ),
    notices_dir: Path = typer.Option(
        Path("notices"), "--notices-dir", help="Folder for the notices coordinators publish in the browser"
    ),
) -> None:
    """Serve the web application for staff, the public pages and the /api on HOST:PORT.

    Example: inspect --db postgresql://inspect@127.0.0.1/county serve --workers 4 --secure-cookies
    """
    from inspect_kit.web.server import run

    common.engine()  # fails early, with the CLI's message, on a missing or outdated database
    run(
        db_url=common.state.db_url,
        config_dir=common.state.config_path(),
        host=host,
        port=port,
        workers=workers,
        secure_cookies=secure_cookies,
        notices_dir=notices_dir,
    )
