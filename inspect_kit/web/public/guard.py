"""The public-output guard on every response under /public (an ASGI middleware).

Every response whose path starts with ``/public`` is held back whole and passed through
`publish.privacy.check_public` against the database's private values (the same values
`publish.guard.guard_public` reads) before one byte is sent: HTML, JSON, PDF or text. A response
that quotes a private value (a legal representative, a phone, an officer's name, a resident ID
number) is replaced by a 500 page that names only the kind of value. The witnesses named in the
seed sources and the salts of unsealed draws are published on purpose and allowed
(`queries.declared_public`).

The private values are cached per application and reloaded when the registries change (the latest
import batch — every import and config load writes one, whatever clock it was given — the count
and latest update of entities and inspectors, and the number of commitments and unsealings, are the
cache key); a body that already passed against the same values (same SHA-256) is not scanned again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from sqlalchemy import Engine, func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inspect_kit.errors import InspectError

PREFIX = "/public"
KINDS = (("text/html", "html"), ("application/json", "json"), ("application/pdf", "pdf"))
REFUSED = "本页内容未通过公开信息检查（含不应公开的个人信息），已拦截。请联系发布单位。".encode()
PASSED_KEPT = 4096
log = logging.getLogger("inspect_kit.web.public")


class PublicValues:
    """The private values to refuse, with the declared public phrases allowed; cached."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._values: Any = None
        self._passed: dict[bytes, None] = {}  # SHA-256 of bodies that passed against these values

    def _fingerprint(self) -> tuple[Any, ...]:
        from inspect_kit.storage.models import Commitment, Entity, ImportBatch, Inspector, Unsealing

        with self.engine.connect() as conn:
            b = conn.execute(select(func.max(ImportBatch.id))).scalar()
            e = conn.execute(select(func.count(), func.max(Entity.updated_at))).one()
            i = conn.execute(select(func.count(), func.max(Inspector.updated_at))).one()
            c = conn.execute(select(func.count()).select_from(Commitment)).scalar_one()
            u = conn.execute(select(func.count()).select_from(Unsealing)).scalar_one()
        return (b, *e, *i, c, u)

    def current(self) -> tuple[tuple[Any, ...], Any]:
        from inspect_kit.publish.guard import private_values
        from inspect_kit.web.public.queries import declared_public

        key = self._fingerprint()
        with self._lock:
            if key != self._key:
                self._values = private_values(self.engine).allowing(declared_public(self.engine))
                self._key = key
                self._passed.clear()
            return key, self._values

    def check(self, artefact: str, body: bytes, kind: str) -> None:
        """Raise InspectError if ``body`` quotes a private value. A body that passed against the
        same values is not scanned again (its SHA-256 is remembered, up to PASSED_KEPT bodies)."""
        import hashlib

        from inspect_kit.publish import privacy

        key, values = self.current()
        digest = hashlib.sha256(kind.encode() + b"\0" + body).digest()
        if digest in self._passed:
            return
        privacy.check_public(artefact, body, kind, values)
        with self._lock:
            if key == self._key:
                if len(self._passed) >= PASSED_KEPT:
                    self._passed.pop(next(iter(self._passed)))
                self._passed[digest] = None


def kind_of(content_type: str) -> str:
    return next((k for prefix, k in KINDS if content_type.startswith(prefix)), "text")


class PublicGuard:
    def __init__(self, app: ASGIApp, values: PublicValues):
        self.app = app
        self.values = values

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._release(path, start, b"".join(chunks), send)
            else:
                await send(message)

        await self.app(scope, receive, hold)

    async def _release(self, path: str, start: Message | None, body: bytes, send: Send) -> None:
        assert start is not None
        headers = dict((k.lower(), v) for k, v in start.get("headers", []))
        kind = kind_of(headers.get(b"content-type", b"").decode("latin-1"))
        if body:
            try:
                await asyncio.to_thread(self.values.check, path, body, kind)
            except InspectError as exc:
                log.error("public output refused: %s", exc)
                start = {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(REFUSED)).encode()),
                    ],
                }
                body = REFUSED
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})
