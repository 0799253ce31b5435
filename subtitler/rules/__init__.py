"""Scan rules: condition + action models and a pure engine (`evaluate(rules, media)`)."""

from subtitler.rules.engine import (
    ConditionResult,
    JobRequest,
    RuleEvaluation,
    UnknownLanguagePolicy,
    evaluate,
    explain,
)
from subtitler.rules.models import (
    RuleAction,
    RuleConditions,
    RuleCreate,
    RuleOut,
    RuleUpdate,
    apply_update,
    row_from_create,
    rule_from_row,
)

__all__ = [
    "ConditionResult",
    "JobRequest",
    "RuleAction",
    "RuleConditions",
    "RuleCreate",
    "RuleEvaluation",
    "RuleOut",
    "RuleUpdate",
    "UnknownLanguagePolicy",
    "apply_update",
    "evaluate",
    "explain",
    "row_from_create",
    "rule_from_row",
]
