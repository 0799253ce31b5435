"""Settings API: /api/settings."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, status

from subtitler.api.deps import get_daemon
from subtitler.api.schemas import BulkUpdate, Message, SettingCreate, SettingOut, SettingValue
from subtitler.api.secret_settings import is_mask, public, without_masks
from subtitler.daemon import Daemon

router = APIRouter(prefix="/api/settings", tags=["settings"])


@router.get("", response_model=list[SettingOut])
async def list_settings(
    category: str | None = Query(default=None), daemon: Daemon = Depends(get_daemon)
) -> list[SettingOut]:
    return [public(row) for row in await daemon.settings.list_rows(category)]


@router.post("/bulk-update", response_model=Message)
async def bulk_update(body: BulkUpdate, daemon: Daemon = Depends(get_daemon)) -> Message:
    values = without_masks(body.settings)
    rows = await daemon.settings.bulk_update(values) if values else []
    return Message(message=f"Updated {len(rows)} settings successfully")


@router.post("/init-defaults", response_model=Message)
async def init_defaults(daemon: Daemon = Depends(get_daemon)) -> Message:
    await daemon.settings.init_defaults()
    return Message(message="Default settings initialized successfully")


@router.post("", response_model=SettingOut, status_code=status.HTTP_201_CREATED)
async def create_setting(body: SettingCreate, daemon: Daemon = Depends(get_daemon)) -> SettingOut:
    row = await daemon.settings.create(**body.model_dump())
    return public(row)


@router.get("/{key}", response_model=SettingOut)
async def get_setting(key: str, daemon: Daemon = Depends(get_daemon)) -> SettingOut:
    return public(await daemon.settings.get_row(key))


@router.put("/{key}", response_model=SettingOut)
async def update_setting(
    key: str, body: SettingValue, daemon: Daemon = Depends(get_daemon)
) -> SettingOut:
    if is_mask(key, body.value):  # the mask sent back: nothing changes
        return public(await daemon.settings.get_row(key))
    return public(await daemon.settings.update(key, body.value))


@router.delete("/{key}", response_model=Message)
async def delete_setting(key: str, daemon: Daemon = Depends(get_daemon)) -> Message:
    await daemon.settings.delete(key)
    return Message(message=f"Setting '{key}' deleted successfully")
