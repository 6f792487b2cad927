"""Stored accounts: users, sessions, API tokens and the login throttle.

Library first, like every service: an Engine and plain values in, dataclasses out, the clock the
caller's (``now``). Errors a user can fix are InspectError with the reason.

- Sessions and tokens are random 256-bit values shown once; only their SHA-256 is stored.
- A session ends after ``SessionPolicy.idle`` without a request, after ``absolute`` in any case,
  and at once when its user logs out, is disabled or gets a new password.
- Login is throttled by the failures recorded in ``login_attempts`` (shared by every worker
  process): ``per_account`` failures for one account, or ``per_address`` from one address, within
  ``window`` refuse further attempts until the window has passed — even with the right password,
  so that guessing gains nothing. A wrong name costs the same Argon2 verification as a wrong
  password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Engine, Row, and_, func, insert, select, update

from inspect_kit.accounts.passwords import dummy_hash, hash_password, password_problem, verify_password
from inspect_kit.accounts.roles import ROLES, role_problem
from inspect_kit.errors import InspectError
from inspect_kit.storage.models import ApiToken, Inspector, LoginAttempt, Unit, User, WebSession

NAME_RE = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{2,64}$")


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    role: str
    unit_code: str | None
    cert_no: str | None
    disabled: bool
    created_at: dt.datetime

    @property
    def role_label(self) -> str:
        return ROLES[self.role].label


@dataclass(frozen=True)
class SessionPolicy:
    idle: dt.timedelta = dt.timedelta(hours=2)
    absolute: dt.timedelta = dt.timedelta(hours=12)
    touch_every: dt.timedelta = dt.timedelta(seconds=60)  # write last_seen_at at most this often


@dataclass(frozen=True)
class ThrottlePolicy:
    window: dt.timedelta = dt.timedelta(minutes=15)
    per_account: int = 5
    per_address: int = 30


@dataclass(frozen=True)
class LoginResult:
    account: Account
    token: str  # the cookie value (shown once)
    csrf_token: str


@dataclass(frozen=True)
class SessionInfo:
    account: Account
    csrf_token: str
    expires_at: dt.datetime


class LoginRefused(InspectError):
    """Wrong name or password, a disabled account, or too many failures (``throttled``)."""

    def __init__(self, message: str, throttled: bool = False):
        super().__init__(message)
        self.throttled = throttled


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _account(r: Row[Any]) -> Account:
    return Account(r.id, r.name, r.role, r.unit_code, r.cert_no, bool(r.disabled), r.created_at)


_U = User.__table__


def add_user(
    engine: Engine,
    name: str,
    role: str,
    password: str,
    now: dt.datetime,
    unit_code: str | None = None,
    cert_no: str | None = None,
) -> Account:
    """Create an account; the unit must be in the units registry, the 执法证号 in the inspectors one."""
    if not NAME_RE.match(name):
        raise InspectError(f"user name {name!r}: 2–64 letters, digits, Chinese characters, '_', '.' or '-'")
    problem = role_problem(role, unit_code, cert_no) or password_problem(password)
    if problem:
        raise InspectError(f"user {name}: {problem}")
    with engine.begin() as conn:
        if conn.execute(select(_U.c.id).where(_U.c.name == name)).first():
            raise InspectError(f"user {name} already exists")
        if unit_code and not conn.execute(select(Unit.id).where(Unit.code == unit_code)).first():
            raise InspectError(f"user {name}: unit {unit_code} is not in the units registry")
        if cert_no and not conn.execute(select(Inspector.id).where(Inspector.cert_no == cert_no)).first():
            raise InspectError(f"user {name}: 执法证号 {cert_no} is not in the inspectors registry")
        unit = unit_code or None
        values: dict[str, Any] = dict(
            name=name,
            role=role,
            unit_code=unit,
            cert_no=cert_no,
            password_hash=hash_password(password),
            disabled=False,
            created_at=now,
            password_changed_at=now,
        )
        uid = conn.execute(insert(_U).values(**values).returning(_U.c.id)).scalar_one()
    return Account(uid, name, role, unit, cert_no, False, now)


def list_users(engine: Engine) -> list[Account]:
    with engine.connect() as conn:
        return [_account(r) for r in conn.execute(select(_U).order_by(_U.c.name))]


def get_user(engine: Engine, name: str) -> Account:
    with engine.connect() as conn:
        row = conn.execute(select(_U).where(_U.c.name == name)).first()
    if row is None:
        raise InspectError(f"no user named {name}")
    return _account(row)


def _end_sessions(conn: Connection, user_id: int, now: dt.datetime) -> None:
    S = WebSession.__table__
    conn.execute(update(S).where(and_(S.c.user_id == user_id, S.c.ended_at.is_(None))).values(ended_at=now))


def set_disabled(engine: Engine, name: str, disabled: bool, now: dt.datetime) -> Account:
    """Disable (or enable) an account; disabling ends its sessions and revokes its API tokens.

    The last enabled admin is never disabled (nobody could manage accounts in the browser any
    more); the enabled admins are locked (FOR UPDATE) so that two admins disabling each other at
    once cannot both pass the check."""
    account = get_user(engine, name)
    with engine.begin() as conn:
        if disabled and account.role == "admin" and not account.disabled:
            admins = conn.execute(
                select(_U.c.id).where(_U.c.role == "admin", _U.c.disabled.is_(False)).with_for_update()
            ).scalars()
            if set(admins) <= {account.id}:
                raise InspectError(
                    f"user {name} is the last enabled admin: add or enable another admin first "
                    "(`inspect user add NAME --role admin`), so that someone can still manage accounts"
                )
        conn.execute(update(_U).where(_U.c.id == account.id).values(disabled=disabled))
        if disabled:
            _end_sessions(conn, account.id, now)
            T = ApiToken.__table__
            conn.execute(
                update(T).where(and_(T.c.user_id == account.id, T.c.revoked_at.is_(None))).values(revoked_at=now)
            )
    return get_user(engine, name)


def set_password(engine: Engine, name: str, password: str, now: dt.datetime) -> None:
    """A new password; every session of the account ends."""
    problem = password_problem(password)
    if problem:
        raise InspectError(f"user {name}: {problem}")
    account = get_user(engine, name)
    with engine.begin() as conn:
        conn.execute(
            update(_U)
            .where(_U.c.id == account.id)
            .values(password_hash=hash_password(password), password_changed_at=now)
        )
        _end_sessions(conn, account.id, now)


def _failures(conn: Connection, column: Column[Any], value: str, since: dt.datetime) -> int:
    A = LoginAttempt.__table__
    stmt = select(func.count()).where(and_(column == value, A.c.at >= since, A.c.ok.is_(False)))
    return int(conn.execute(stmt).scalar_one())


def is_throttled(conn: Connection, account: str, address: str, now: dt.datetime, throttle: ThrottlePolicy) -> bool:
    """Too many recent failures for ``account`` (a login name, or another key such as a task's
    verification code "task:<no>") or from ``address``: every attempt is refused until the window
    has passed. One rule for the login and for the public pages' code check."""
    A = LoginAttempt.__table__
    since = now - throttle.window
    return (
        _failures(conn, A.c.account, account[:64], since) >= throttle.per_account
        or _failures(conn, A.c.address, address[:64], since) >= throttle.per_address
    )


def record_attempt(conn: Connection, account: str, address: str, now: dt.datetime, ok: bool) -> None:
    conn.execute(insert(LoginAttempt.__table__).values(account=account[:64], address=address[:64], at=now, ok=ok))


def login(
    engine: Engine,
    name: str,
    password: str,
    address: str,
    now: dt.datetime,
    policy: SessionPolicy = SessionPolicy(),
    throttle: ThrottlePolicy = ThrottlePolicy(),
) -> LoginResult:
    """Check a name and password and open a session, or raise LoginRefused."""
    name = name.strip()[:64]
    with engine.connect() as conn:
        throttled = is_throttled(conn, name, address, now, throttle)
        row = conn.execute(select(_U).where(_U.c.name == name)).first()
    ok = verify_password(row.password_hash if row is not None else dummy_hash(), password)
    ok = ok and row is not None and not row.disabled and not throttled
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with engine.begin() as conn:
        record_attempt(conn, name, address, now, ok)
        if ok:
            assert row is not None
            conn.execute(
                insert(WebSession.__table__).values(
                    id=_sha(token),
                    user_id=row.id,
                    csrf_token=csrf,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + policy.absolute,
                )
            )
    if throttled:
        minutes = int(throttle.window.total_seconds() // 60)
        raise LoginRefused(f"too many failed logins: try again in {minutes} minutes", throttled=True)
    if not ok:
        raise LoginRefused("wrong user name or password, or the account is disabled")
    assert row is not None
    return LoginResult(_account(row), token, csrf)


def session_info(
    engine: Engine, token: str, now: dt.datetime, policy: SessionPolicy = SessionPolicy()
) -> SessionInfo | None:
    """The account behind a session cookie, or None when it is unknown, ended or expired."""
    S = WebSession.__table__
    key = _sha(token)
    with engine.connect() as conn:  # one query: the session's times and its user's account
        row = conn.execute(
            select(
                _U,
                S.c.csrf_token,
                S.c.last_seen_at,
                S.c.expires_at,
                S.c.ended_at,
            )
            .join(S, S.c.user_id == _U.c.id)
            .where(S.c.id == key)
        ).first()
    if row is None or row.ended_at is not None or row.disabled:
        return None
    if now >= row.expires_at or now - row.last_seen_at >= policy.idle:
        return None
    if now - row.last_seen_at >= policy.touch_every:
        with engine.begin() as conn:
            conn.execute(update(S).where(S.c.id == key).values(last_seen_at=now))
    return SessionInfo(_account(row), row.csrf_token, row.expires_at)


def logout(engine: Engine, token: str, now: dt.datetime) -> None:
    S = WebSession.__table__
    with engine.begin() as conn:
        conn.execute(update(S).where(and_(S.c.id == _sha(token), S.c.ended_at.is_(None))).values(ended_at=now))


def create_token(
    engine: Engine, name: str, token_name: str, now: dt.datetime, valid_for: dt.timedelta | None = None
) -> str:
    """A new API token for an account (printed once; only its SHA-256 is kept)."""
    account = get_user(engine, name)
    if account.disabled:
        raise InspectError(f"user {name} is disabled")
    token = "ik_" + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            insert(ApiToken.__table__).values(
                user_id=account.id,
                name=token_name[:64],
                token_sha256=_sha(token),
                created_at=now,
                expires_at=now + valid_for if valid_for else None,
            )
        )
    return token


def token_account(engine: Engine, token: str, now: dt.datetime) -> Account | None:
    """The account behind an API token, or None when unknown, revoked, expired or disabled."""
    T = ApiToken.__table__
    with engine.connect() as conn:
        row = conn.execute(
            select(T.c.revoked_at, T.c.expires_at, _U)
            .join(_U, _U.c.id == T.c.user_id)
            .where(T.c.token_sha256 == _sha(token))
        ).first()
    if row is None or row.revoked_at is not None or row.disabled:
        return None
    if row.expires_at is not None and now >= row.expires_at:
        return None
    return _account(row)


def revoke_tokens(engine: Engine, name: str, now: dt.datetime) -> int:
    account = get_user(engine, name)
    T = ApiToken.__table__
    with engine.begin() as conn:
        result = conn.execute(
            update(T).where(and_(T.c.user_id == account.id, T.c.revoked_at.is_(None))).values(revoked_at=now)
        )
    return int(result.rowcount)
