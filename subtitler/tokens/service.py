"""Named API tokens: create (the secret is shown once), list, revoke; the key check.

Secrets are random (`stk_` + 40 hex); only their SHA-256 is stored (a random 160-bit secret
needs no slow hash). The valid hashes live in memory too, so the auth middleware checks a key
without a database round trip and a revoke takes effect on the next request. The settings'
`api_key` is the first admin token ("default"); changing the setting rotates it. The default
token cannot be revoked (that would lock the API key out for good): regenerate the key instead.
It is re-created (or un-revoked) at start-up when missing. Last use reaches the database at most
once a minute per token.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from subtitler.db import Database
from subtitler.db.models import utcnow
from subtitler.db.models_jobs import ApiToken
from subtitler.errors import BadRequest, Conflict, NotFound

logger = logging.getLogger(__name__)

SCOPES = ("admin", "asr")
DEFAULT_NAME = "default"
# What an `asr` token may call: the Bazarr and OpenAI-style routes.
ASR_PREFIXES = ("/asr", "/detect-language", "/v1/")
MAX_TOKENS = 200
LAST_USED_WRITE_SECONDS = 60.0  # a token's last use is written at most this often


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return "stk_" + secrets.token_hex(20)


def scope_allows(scope: str, path: str) -> bool:
    if scope == "admin":
        return True
    return scope == "asr" and any(path == p.rstrip("/") or path.startswith(p) for p in ASR_PREFIXES)


@dataclass(frozen=True)
class KeyVerdict:
    """The key check's answer: `allowed`, or a known token without the scope (`forbidden`)."""

    allowed: bool
    forbidden: bool = False
    token_id: int | None = None


class TokenService:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._valid: dict[str, tuple[int, str]] = {}  # sha256 -> (token id, scope)
        self._default_id: int | None = None
        # Last use per token, in memory (a write per request would cost more than it tells);
        # shown by the list, lost at a restart.
        self._last_used: dict[int, datetime] = {}
        self._written: dict[int, float] = {}  # token id -> monotonic time of the last write
        self._pending: set[asyncio.Task[None]] = set()

    async def load(self, *, api_key: str | None) -> None:
        """Start-up: make the settings' key the default admin token, then cache valid hashes."""
        if api_key:
            await self.sync_default(api_key)
        await self._reload()

    async def sync_default(self, api_key: str) -> None:
        """The `default` admin token follows the api_key setting (created or rotated)."""
        digest = hash_secret(api_key)
        async with self._db.write() as session:
            row = await session.scalar(
                select(ApiToken).where(ApiToken.name == DEFAULT_NAME, ApiToken.revoked_at.is_(None))
            )
            if row is None:
                clash = await session.scalar(select(ApiToken).where(ApiToken.secret_hash == digest))
                if clash is not None and clash.name == DEFAULT_NAME:
                    # revoked by an older version: the key must work again
                    clash.revoked_at = None
                    logger.warning("the default API token had been revoked: restored")
                elif clash is not None:
                    return
                else:
                    session.add(ApiToken(name=DEFAULT_NAME, scope="admin", prefix=api_key[:6],
                                         secret_hash=digest))  # fmt: skip
            elif row.secret_hash != digest:
                row.secret_hash, row.prefix = digest, api_key[:6]
        await self._reload()

    async def create(self, *, name: str, scope: str) -> tuple[ApiToken, str]:
        name = name.strip()
        if not name or len(name) > 100:
            raise BadRequest("name: 1-100 characters", code="bad_token_name")
        if scope not in SCOPES:
            raise BadRequest(f"scope must be one of {', '.join(SCOPES)}", code="bad_scope")
        secret = new_secret()
        async with self._db.write() as session:
            live = (await session.scalars(
                select(ApiToken.name).where(ApiToken.revoked_at.is_(None))
            )).all()  # fmt: skip
            if name in live:
                raise Conflict(f"a token named {name!r} exists", code="token_exists")
            if len(live) >= MAX_TOKENS:
                raise Conflict(f"at most {MAX_TOKENS} tokens; revoke some", code="too_many_tokens")
            row = ApiToken(
                name=name, scope=scope, prefix=secret[:8], secret_hash=hash_secret(secret)
            )
            session.add(row)
            await session.flush()
        await self._reload()
        logger.info("API token %r created (scope %s)", name, scope)
        return row, secret

    async def list_tokens(self, *, include_revoked: bool = False) -> list[ApiToken]:
        stmt = select(ApiToken).order_by(ApiToken.id)
        if not include_revoked:
            stmt = stmt.where(ApiToken.revoked_at.is_(None))
        async with self._db.read() as session:
            rows = list((await session.scalars(stmt)).all())
        for row in rows:
            seen = self._last_used.get(row.id)
            if seen is not None and (row.last_used_at is None or seen > row.last_used_at):
                row.last_used_at = seen
        return rows

    async def revoke(self, token_id: int) -> ApiToken:
        async with self._db.write() as session:
            row = await session.get(ApiToken, token_id)
            if row is None:
                raise NotFound(f"Token {token_id} not found", code="token_not_found")
            if row.name == DEFAULT_NAME and row.revoked_at is None:
                raise Conflict(
                    "The default token is the API key and cannot be revoked (the key would stop "
                    "working for good). To replace it, regenerate the API key: Settings, API key, "
                    "Regenerate (asks to confirm), or `subtitler api-key --regenerate`",
                    code="default_token_not_revocable",
                )
            if row.revoked_at is None:
                row.revoked_at = utcnow()
        self._valid = {h: v for h, v in self._valid.items() if v[0] != token_id}  # at once
        await self._reload()
        logger.info("API token %r revoked", row.name)
        return row

    def check(self, keys: list[str], path: str) -> KeyVerdict:
        """The one key-verifying callable the auth middleware asks (no I/O)."""
        forbidden = False
        for key in keys:
            hit = self._valid.get(hash_secret(key))
            if hit is None:
                continue
            if scope_allows(hit[1], path):
                self._used(hit[0])
                return KeyVerdict(allowed=True, token_id=hit[0])
            forbidden = True
        return KeyVerdict(allowed=False, forbidden=forbidden)

    def _used(self, token_id: int) -> None:
        """Remember the use; write it to the database at most once a minute per token."""
        now = utcnow()
        self._last_used[token_id] = now
        clock = time.monotonic()
        last = self._written.get(token_id)
        if last is not None and clock - last < LAST_USED_WRITE_SECONDS:
            return
        self._written[token_id] = clock
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._write_last_used(token_id, now))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write_last_used(self, token_id: int, when: datetime) -> None:
        try:
            async with self._db.write() as session:
                await session.execute(
                    update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=when)
                )
        except Exception as exc:  # a busy or read-only database must not fail a request
            logger.debug("token %s last use not written: %s", token_id, exc)

    async def flush(self) -> None:
        """Wait for pending last-use writes (tests, shutdown)."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def on_api_key_changed(self, _key: str, value: Any) -> None:
        """Settings listener: the new key works (and the old one stops) on the next request."""
        if not value:
            return
        if self._default_id is not None:
            kept = {h: v for h, v in self._valid.items() if v[0] != self._default_id}
            self._valid = kept | {hash_secret(str(value)): (self._default_id, "admin")}
        task = asyncio.get_running_loop().create_task(self.sync_default(str(value)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _reload(self) -> None:
        async with self._db.read() as session:
            rows = (await session.execute(
                select(ApiToken.secret_hash, ApiToken.id, ApiToken.scope, ApiToken.name)
                .where(ApiToken.revoked_at.is_(None))
            )).all()  # fmt: skip
        self._valid = {digest: (token_id, scope) for digest, token_id, scope, _ in rows}
        self._default_id = next((i for _, i, _, name in rows if name == DEFAULT_NAME), None)

    def describe(self, row: ApiToken) -> dict[str, Any]:
        return {"id": row.id, "name": row.name, "scope": row.scope, "prefix": row.prefix}
