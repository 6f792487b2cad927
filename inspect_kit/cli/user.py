"""`inspect user`: the accounts of the web application (add, list, disable, enable, password, token).

A password is read from standard input with --password-stdin (for scripts: `echo … | inspect user
add …`), or asked twice at the terminal; it is never an option (it would stay in the shell history
and the process list). A new API token is printed once.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Optional

import typer

from inspect_kit.cli import common
from inspect_kit.cli.options import JSON

user_app = typer.Typer(help="Accounts of the web application (inspect serve): roles, passwords, API tokens.")

PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="Read the password from standard input (one line).")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")


def _now() -> dt.datetime:
    from inspect_kit.web.context import china_now

    return china_now()


def _password(from_stdin: bool) -> str:
    from inspect_kit.errors import InspectError

    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise InspectError("--password-stdin: standard input is empty")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InspectError("give --password-stdin to read the password from standard input")
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Again", hide_input=True) != first:
        raise InspectError("the two passwords differ")
    return str(first)


@user_app.command("add")
def add(
    name: str = typer.Argument(..., help="Login name"),
    role: str = typer.Option(..., "--role", help="admin | coordinator | inspector | reviewer | assessor"),
    unit: Optional[str] = typer.Option(None, "--unit", help="Unit code (coordinator, reviewer)"),
    cert: Optional[str] = typer.Option(None, "--cert", help="执法证号 in the inspectors registry (inspector)"),
    password_stdin: bool = PASSWORD_STDIN,
) -> None:
    """Create an account.

    Example: echo 'a long password' | inspect user add zhang.san --role coordinator --unit STHJ --password-stdin
    """
    from inspect_kit.accounts.service import add_user

    account = add_user(common.engine(), name, role, _password(password_stdin), _now(), unit_code=unit, cert_no=cert)
    common.info(f"user {common.escape(account.name)} added ({account.role_label} {account.role})")


@user_app.command("list")
def list_(as_json: bool = JSON) -> None:
    """Every account with its role, unit, 执法证号 and state.

    Example: inspect user list --json
    """
    from inspect_kit.accounts.service import list_users

    users = list_users(common.engine())
    if as_json:
        common.print_json(
            [
                {"name": u.name, "role": u.role, "unit": u.unit_code, "cert_no": u.cert_no, "disabled": u.disabled}
                for u in users
            ]
        )
        return
    rows = [(u.name, u.role, u.unit_code, u.cert_no, "disabled" if u.disabled else "active") for u in users]
    common.print_table("Users", ["name", "role", "unit", "cert", "state"], rows)


@user_app.command("disable")
def disable(name: str = typer.Argument(...)) -> None:
    """Disable an account: its sessions end and its API tokens are revoked.

    Example: inspect user disable zhang.san
    """
    from inspect_kit.accounts.service import set_disabled

    set_disabled(common.engine(), name, True, _now())
    common.info(f"user {common.escape(name)} disabled")


@user_app.command("enable")
def enable(name: str = typer.Argument(...)) -> None:
    """Enable a disabled account again.

    Example: inspect user enable zhang.san
    """
    from inspect_kit.accounts.service import set_disabled

    set_disabled(common.engine(), name, False, _now())
    common.info(f"user {common.escape(name)} enabled")


@user_app.command("password")
def password(name: str = typer.Argument(...), password_stdin: bool = PASSWORD_STDIN) -> None:
    """Set a new password; the account's sessions end.

    Example: inspect user password zhang.san   (asks twice at the terminal)
    """
    from inspect_kit.accounts.service import set_password

    set_password(common.engine(), name, _password(password_stdin), _now())
    common.info(f"password of {common.escape(name)} changed")


@user_app.command("token")
def token(
    name: str = typer.Argument(..., help="The account the API client acts as"),
    label: str = typer.Option("api", "--name", help="What the token is for"),
    days: Optional[int] = typer.Option(None, "--days", min=1, help="Valid for this many days [default: until revoked]"),
    revoke: bool = typer.Option(False, "--revoke", help="Revoke every token of the account instead"),
) -> None:
    """Print a new API token (shown once), or revoke the account's tokens.

    Example: inspect user token platform.bot --name provincial-platform --days 90
    """
    from inspect_kit.accounts.service import create_token, revoke_tokens

    if revoke:
        common.info(f"{revoke_tokens(common.engine(), name, _now())} token(s) of {common.escape(name)} revoked")
        return
    valid = dt.timedelta(days=days) if days else None
    typer.echo(create_token(common.engine(), name, label, _now(), valid))
