"""Running the application under uvicorn, one process or several.

Workers are separate processes: each builds its own app from the environment (``app_from_env``),
so the settings travel as INSPECT_* variables. Sessions, the login throttle and every record live
in the database, so any worker can answer any request; with several workers use PostgreSQL (a
SQLite file serialises writers).
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

ENV_SECURE = "INSPECT_WEB_SECURE_COOKIES"
ENV_NOTICES = "INSPECT_NOTICES_DIR"


def app_from_env() -> FastAPI:
    from inspect_kit.storage.db import open_database
    from inspect_kit.web.app import create_app
    from inspect_kit.web.context import Services

    engine = open_database(os.environ.get("INSPECT_DB_URL"))
    config = Path(os.environ.get("INSPECT_CONFIG_DIR", "configs"))
    notices = Path(os.environ.get(ENV_NOTICES, "notices"))
    return create_app(Services(engine, config, secure_cookies=os.environ.get(ENV_SECURE) == "1", notices_dir=notices))


def run(
    db_url: str | None,
    config_dir: Path,
    host: str,
    port: int,
    workers: int = 1,
    secure_cookies: bool = False,
    notices_dir: Path = Path("notices"),
) -> None:
    import uvicorn

    from inspect_kit.storage.db import resolve_url

    os.environ["INSPECT_DB_URL"] = resolve_url(db_url)
    os.environ["INSPECT_CONFIG_DIR"] = str(config_dir.resolve())
    os.environ[ENV_SECURE] = "1" if secure_cookies else "0"
    os.environ[ENV_NOTICES] = str(notices_dir.resolve())
    uvicorn.run(
        "inspect_kit.web.server:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        log_level="info",
    )
