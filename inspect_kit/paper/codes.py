"""The verification code of a task (核验码) and the URL its QR code opens. Pure.

Rule (version 1): ``HMAC-SHA256(secret, "inspect-kit task verification v1\\0" + task_no)``; the
first 50 bits of the MAC, as 10 characters of Crockford's base-32 alphabet (no I, L, O, U),
written in two groups of five: ``7QK2M-X0D9F``. Deterministic (the same task and secret give the
same code, so papers rebuild byte for byte) and unguessable without the secret (2^50 codes; the
public page throttles wrong guesses). Anyone holding the secret can recompute every code: keep
the secret file out of version control and out of public reach. Changing the secret changes
every code (papers already handed out then no longer verify).

The URL: ``{public_base_url}/tasks/{task_no}?code={code}`` (task number percent-encoded), the
task's public page with the code filled in (the page shows the team's certificate numbers only
with the right code).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from inspect_kit.errors import InspectError

RULE = b"inspect-kit task verification v1\0"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32
CODE_BITS = 50
MIN_SECRET_CHARS = 32


def check_secret(secret: str, where: str) -> bytes:
    """The secret as bytes; InspectError naming ``where`` if it is too short to be unguessable."""
    secret = secret.strip()
    if len(secret) < MIN_SECRET_CHARS:
        raise InspectError(
            f"{where}: the verification secret has {len(secret)} characters; it needs at least "
            f'{MIN_SECRET_CHARS} (e.g. python3 -c "import secrets; print(secrets.token_hex(32))")'
        )
    return secret.encode("utf-8")


def verification_code(secret: bytes, task_no: str) -> str:
    mac = hmac.new(secret, RULE + task_no.encode("utf-8"), hashlib.sha256).digest()
    n = int.from_bytes(mac[:8], "big") >> (64 - CODE_BITS)
    chars = "".join(ALPHABET[(n >> (5 * k)) & 31] for k in reversed(range(CODE_BITS // 5)))
    return f"{chars[:5]}-{chars[5:]}"


def verification_url(base: str, task_no: str, code: str) -> str:
    return f"{base.rstrip('/')}/tasks/{quote(task_no, safe='')}?code={code}"
