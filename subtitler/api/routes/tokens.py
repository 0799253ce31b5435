"""Named API tokens: /api/tokens (admin scope only, like every /api route)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, status

from subtitler.api.deps import get_daemon
from subtitler.api.schemas_jobs import TokenCreate, TokenCreated, TokenOut
from subtitler.daemon import Daemon
from subtitler.db.models_jobs import ApiToken
from subtitler.jobs.schemas import as_utc_iso

router = APIRouter(prefix="/api/tokens", tags=["tokens"])


def _out(row: ApiToken) -> TokenOut:
    return TokenOut(
        id=row.id, name=row.name, scope=row.scope, prefix=row.prefix,
        created_at=as_utc_iso(row.created_at) or "", last_used_at=as_utc_iso(row.last_used_at),
        revoked_at=as_utc_iso(row.revoked_at),
    )  # fmt: skip


@router.get("", response_model=list[TokenOut])
async def list_tokens(daemon: Daemon = Depends(get_daemon)) -> list[TokenOut]:
    return [_out(row) for row in await daemon.tokens.list_tokens()]


@router.post("", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
async def create_token(body: TokenCreate, daemon: Daemon = Depends(get_daemon)) -> TokenCreated:
    row, secret = await daemon.tokens.create(name=body.name, scope=body.scope)
    return TokenCreated(**_out(row).model_dump(), secret=secret)


@router.delete("/{token_id}", response_model=TokenOut)
async def revoke_token(
    token_id: int = Path(ge=1, le=2**31 - 1), daemon: Daemon = Depends(get_daemon)
) -> TokenOut:
    return _out(await daemon.tokens.revoke(token_id))
