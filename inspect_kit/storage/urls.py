"""Show database URLs without their credentials — the one redaction used for every message.

`show_url(url)` renders a URL for a message (`postgresql://user:***@host:5432/db`);
`redact(text)` removes credentials from any text that may hold a URL (an error message from a
driver, a URL that does not even parse); `hide(text, url)` also removes any piece of `url`'s
password that a driver quoted back. Both hide the password of `scheme://user:password@host`
and a `password=` query parameter. Kept free of SQLAlchemy at import time, so that the CLI's error
printer can use it cheaply.
"""

from __future__ import annotations

import re

HIDDEN = "***"

# scheme://user:password@ — the password runs up to the LAST "@" of the token, so that an
# unescaped "@" or "/" in a password (a URL that fails to parse) is still hidden entirely.
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:'\"]*):(?P<pw>[^\s'\"]*)@")
_QUERY_PASSWORD = re.compile(r"(?P<head>(?:(?<=[?&;\s])|^)(?:password|passwd|pwd)=)(?P<pw>[^&\s'\"]*)", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with every URL password (userinfo or `password=` parameter) replaced by ***."""
    text = _USERINFO.sub(lambda m: f"{m['head']}:{HIDDEN}@" if m["pw"] else m[0], text)
    return _QUERY_PASSWORD.sub(lambda m: f"{m['head']}{HIDDEN}" if m["pw"] else m[0], text)


def secrets_of(url: str) -> list[str]:
    """The password of `url` as typed, and its pieces between "@" or ":" (longest first): a driver
    may quote part of a malformed password back as a host name, port or option."""
    found: set[str] = set()
    for m in _USERINFO.finditer(url):
        found.add(m["pw"])
        found.update(re.split(r"[@:/]", m["pw"]))
    for m in _QUERY_PASSWORD.finditer(url):
        found.add(m["pw"])
    return sorted((s for s in found if len(s) >= 3), key=len, reverse=True)


def hide(text: str, url: str) -> str:
    """`text` (e.g. a driver's message about `url`) with no credentials and no piece of `url`'s password."""
    text = redact(text)
    for secret in secrets_of(url):
        text = text.replace(secret, HIDDEN)
    return text


def show_url(url: object) -> str:
    """A database URL (str or sqlalchemy URL) as messages show it: no password, even if malformed.

    A string is redacted as typed, not parsed first: a parser would take the part of a password
    after an unescaped "@" for the host or database name and show it."""
    if not isinstance(url, str):
        try:
            return redact(url.render_as_string(hide_password=True))  # type: ignore[attr-defined]
        except AttributeError:
            url = str(url)
    return redact(url)
