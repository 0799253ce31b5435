"""Rule schemas: validation with 422s that name the field, and the ScanRule row round trip."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from subtitler.db.models import ScanRule
from subtitler.errors import Unprocessable
from subtitler.rules import (
    RuleAction,
    RuleConditions,
    RuleCreate,
    RuleUpdate,
    apply_update,
    row_from_create,
    rule_from_row,
)

SPEC_BODY: dict[str, Any] = {
    "name": "Japanese anime without Spanish subs",
    "enabled": True,
    "priority": 10,
    "conditions": {
        "audio_language_is": "jpn",
        "missing_embedded_subtitle_lang": "spa",
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


def test_spec_example_round_trips_through_the_row() -> None:
    body = RuleCreate.model_validate(SPEC_BODY)
    row = row_from_create(body)
    assert (row.audio_language_is, row.file_extension, row.target_language) == (
        "jpn",
        ".mkv,.mp4",
        "spa",
    )
    row.id, row.created_at = 1, datetime(2025, 1, 12, 10)
    out = rule_from_row(row).model_dump(mode="json")
    assert out["conditions"] == {
        "audio_language_is": "jpn",
        "audio_language_not": None,
        "audio_track_count_min": None,
        "has_embedded_subtitle_lang": None,
        "missing_embedded_subtitle_lang": "spa",
        "missing_external_subtitle_lang": "spa",
        "file_extension": ".mkv,.mp4",
    }
    assert out["action"] == {**SPEC_BODY["action"], "diarize": None}  # None: the setting
    assert out["created_at"] == "2025-01-12T10:00:00+00:00" and out["updated_at"] is None
    assert set(out) == {"id", "name", "enabled", "priority", "conditions", "action"} | {
        "created_at",
        "updated_at",
    }


@pytest.mark.parametrize(
    ("field", "raw", "stored"),
    [
        ("audio_language_is", "Japanese", "jpn"),
        ("audio_language_is", "ger", "deu"),
        ("has_embedded_subtitle_lang", "en", "eng"),
        ("missing_external_subtitle_lang", "pt-BR", "por"),
        ("audio_language_not", "en, fre ,eng", "eng,fra"),
        ("file_extension", "MKV, .Mp4,mkv", ".mkv,.mp4"),
        ("file_extension", "", None),
        ("audio_language_is", "  ", None),
    ],
)
def test_conditions_are_normalised(field: str, raw: str, stored: str | None) -> None:
    assert getattr(RuleConditions.model_validate({field: raw}), field) == stored


@pytest.mark.parametrize(
    ("model", "data", "code", "text"),
    [
        (
            RuleConditions,
            {"audio_language_is": "klingonx"},
            "unknown_language",
            "audio_language_is",
        ),
        (RuleConditions, {"audio_language_not": "eng,zzzz"}, "unknown_language", "zzzz"),
        (RuleConditions, {"file_extension": ".tar.gz"}, "unprocessable", "file_extension"),
        (RuleAction, {"action_type": "dub"}, "unknown_action", "action_type"),
        (RuleAction, {"quality_preset": "ultra"}, "unknown_quality_preset", "quality_preset"),
        (RuleAction, {"action_type": "translate"}, "missing_target_language", "target_language"),
        (RuleAction, {"target_language": "xx-nope"}, "unknown_language", "target_language"),
    ],
)
def test_invalid_rules_are_422_with_detail(
    model: type, data: dict[str, Any], code: str, text: str
) -> None:
    with pytest.raises(Unprocessable) as err:
        model.model_validate(data)
    assert err.value.status == 422 and err.value.code == code and text in err.value.detail


def test_partial_update_merges_and_revalidates() -> None:
    row = row_from_create(RuleCreate.model_validate(SPEC_BODY))
    row.id, row.created_at = 1, datetime(2025, 1, 1)
    apply_update(row, RuleUpdate(priority=3, conditions={"audio_language_is": "de"}))
    assert (row.priority, row.audio_language_is, row.missing_external_subtitle_lang) == (
        3,
        "deu",
        "spa",
    )
    apply_update(row, RuleUpdate(conditions={"missing_external_subtitle_lang": None}))
    assert row.missing_external_subtitle_lang is None and row.name == SPEC_BODY["name"]
    with pytest.raises(Unprocessable, match="target_language"):
        apply_update(row, RuleUpdate(action={"action_type": "translate", "target_language": None}))
    with pytest.raises(Unprocessable, match="unknown field"):
        RuleUpdate(conditions={"audio_lang": "eng"})


def test_row_defaults_become_a_valid_rule() -> None:
    row = row_from_create(RuleCreate(name="minimal"))
    assert isinstance(row, ScanRule)
    assert (row.action_type, row.quality_preset, row.target_language) == (
        "transcribe",
        "balanced",
        None,
    )
