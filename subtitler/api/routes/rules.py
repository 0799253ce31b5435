"""Scan Rules API: /api/scan-rules (plus a preview of what a rule matches, saved or not).

Bodies are taken as JSON objects and validated by RulesService, so an invalid rule is always a
422 whose `detail` is a sentence naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, status

from subtitler.api.deps import get_daemon
from subtitler.api.schemas import Message
from subtitler.daemon import Daemon
from subtitler.rules.models import RuleOut
from subtitler.rules.service import RulePreview

RuleId = Annotated[int, Path(ge=1, le=2**63 - 1, description="A rule id")]

router = APIRouter(prefix="/api/scan-rules", tags=["scan-rules"])

_RULE_BODY = Body(
    ...,
    examples=[
        {
            "name": "Japanese anime without Spanish subs",
            "enabled": True,
            "priority": 10,
            "conditions": {
                "audio_language_is": "jpn",
                "missing_external_subtitle_lang": "spa",
                "file_extension": ".mkv,.mp4",
            },
            "action": {
                "action_type": "transcribe",
                "target_language": "spa",
                "quality_preset": "fast",
                "job_priority": 5,
            },
        }
    ],
)


@router.get("", response_model=list[RuleOut])
async def list_rules(
    enabled_only: bool = Query(default=False), daemon: Daemon = Depends(get_daemon)
) -> list[RuleOut]:
    return await daemon.rules.list_rules(enabled_only=enabled_only)


@router.post("", response_model=RuleOut, status_code=status.HTTP_201_CREATED)
async def create_rule(
    body: dict[str, Any] = _RULE_BODY, daemon: Daemon = Depends(get_daemon)
) -> RuleOut:
    return await daemon.rules.create(body)


@router.post("/preview", response_model=RulePreview)
async def preview_unsaved(
    body: dict[str, Any] = _RULE_BODY,
    page: int = Query(default=1, ge=1, le=1_000_000),
    page_size: int = Query(default=50, ge=1, le=500),
    show: Literal["matches", "all"] = Query(default="matches", description="all: non-matches too"),
    daemon: Daemon = Depends(get_daemon),
) -> RulePreview:
    return await daemon.rules.preview_unsaved(
        body, page=page, page_size=page_size, show_all=show == "all"
    )


@router.get("/{rule_id}", response_model=RuleOut)
async def get_rule(rule_id: RuleId, daemon: Daemon = Depends(get_daemon)) -> RuleOut:
    return await daemon.rules.get(rule_id)


@router.get("/{rule_id}/preview", response_model=RulePreview)
async def preview_saved(
    rule_id: RuleId,
    page: int = Query(default=1, ge=1, le=1_000_000),
    page_size: int = Query(default=50, ge=1, le=500),
    show: Literal["matches", "all"] = Query(default="matches", description="all: non-matches too"),
    daemon: Daemon = Depends(get_daemon),
) -> RulePreview:
    return await daemon.rules.preview_saved(
        rule_id, page=page, page_size=page_size, show_all=show == "all"
    )


@router.put("/{rule_id}", response_model=RuleOut)
async def update_rule(
    rule_id: RuleId,
    body: dict[str, Any] = Body(...),
    daemon: Daemon = Depends(get_daemon),
) -> RuleOut:
    return await daemon.rules.update(rule_id, body)


@router.delete("/{rule_id}", response_model=Message)
async def delete_rule(rule_id: RuleId, daemon: Daemon = Depends(get_daemon)) -> Message:
    await daemon.rules.delete(rule_id)
    return Message(message=f"Scan rule {rule_id} deleted successfully")


@router.post("/{rule_id}/toggle", response_model=RuleOut)
async def toggle_rule(rule_id: RuleId, daemon: Daemon = Depends(get_daemon)) -> RuleOut:
    return await daemon.rules.toggle(rule_id)
