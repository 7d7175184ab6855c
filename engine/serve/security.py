"""Who may ask, and how much: the bearer key (from ``CVM_SERVE_KEY`` or a key file, compared
in constant time, never logged) and the request body limit, as one ASGI layer in front of
everything but ``/health`` and the agent screen's static files (which hold no data)."""

from __future__ import annotations

import hmac
import os
import shlex
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem, UsageError
from engine.serve.ready import dumps

KEY_VAR = "CVM_SERVE_KEY"
MIN_KEY = 16  # characters: shorter keys are guessable
MAX_BODY = 16 * 1024  # bytes of a request body
PUBLIC = ("/health", "/agent")
PUBLIC_PREFIXES = ("/agent/",)
# the API's documentation: no customer data, and a browser cannot send a bearer header to read
# it (its Authorize button sends the key with the requests tried from it)
DOCS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def load_key(key_file: Path | None, environ: dict[str, str] | None = None) -> str:
    """The key: the file's first line with ``--key-file``, else ``CVM_SERVE_KEY``."""
    environ = dict(os.environ) if environ is None else environ
    if key_file is not None:
        try:
            text = key_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)  # a path to nothing: an input
            raise InputError(Problem(f"cannot read the key file: {why}", file=str(key_file),
                                     key="--key-file",
                                     hint="give a readable file holding the key on its first "
                                          "line")) from None
        key, where = (text.splitlines() or [""])[0].strip(), "--key-file"
        if not key:
            raise UsageError(Problem(
                "its first line is empty: the key is read from the first line" if text.strip()
                else "the file is empty: no key", file=str(key_file), key=where,
                hint="write the key on the file's first line (e.g. python3 -c 'import "
                     "secrets; print(secrets.token_urlsafe(32))' > "
                     f"{shlex.quote(str(key_file))}); --key-file is read instead of {KEY_VAR}"))
    else:
        key, where = environ.get(KEY_VAR, "").strip(), KEY_VAR
    if not key:
        raise UsageError(Problem(
            "no key: the service needs a key for its clients", key=where,
            hint=f"set {KEY_VAR} (e.g. export {KEY_VAR}=$(python3 -c 'import secrets; "
                 f"print(secrets.token_urlsafe(32))')) or pass --key-file FILE"))
    if len(key) < MIN_KEY:
        raise UsageError(Problem(
            f"the key is too short: {len(key)} characters, at least {MIN_KEY} needed",
            key=where, hint="use a long random key, e.g. python3 -c 'import secrets; "
                            "print(secrets.token_urlsafe(32))'"))
    return key


def _public(path: str, also: tuple[str, ...] = ()) -> bool:
    return path in PUBLIC or path == "/" or path.startswith(PUBLIC_PREFIXES) or path in also


async def _reply(send: Send, status: int, body: dict[str, Any],
                 headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    data = dumps(body)  # compact, as every other answer of the service
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()), *headers]})
    await send({"type": "http.response.body", "body": data})


class Guard:
    """401 without the key (the same answer whatever the path names), 413 past the limit."""

    def __init__(self, app: ASGIApp, key: str, max_body: int = MAX_BODY,
                 public: tuple[str, ...] = ()) -> None:
        self.app = app
        self.public = public
        self._key = key.encode()
        self.max_body = max_body

    def __repr__(self) -> str:  # never show the key
        return "Guard(key=***)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not _public(scope["path"], self.public) and not self._allowed(scope):
            await _reply(send, 401, {"error": "unauthorized: send the key as "
                                              "'Authorization: Bearer KEY'"},
                         ((b"www-authenticate", b"Bearer"),))
            return
        if scope["method"] in ("POST", "PUT", "PATCH"):
            body = await self._body(scope, receive)
            if body is None:
                await _reply(send, 413, {"error": f"request body too large: at most "
                                                  f"{self.max_body} bytes"})
                return
            sent = False

            async def replay() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(),
                                                                            self._key)
        return False

    async def _body(self, scope: Scope, receive: Receive) -> bytes | None:
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                return None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)
