"""The registry of built-in settings. Each spec is read by the code its description names.

Specs live per category in `subtitler/settings/specs/<category>.py` (a `SPECS` list each), so the
part of the daemon that reads a setting declares it next to its siblings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from subtitler.settings.types import dump_value, parse_value


@dataclass(frozen=True, kw_only=True)
class SettingSpec:
    key: str
    category: str
    value_type: str
    default: Any
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    check: Callable[[Any], None] | None = None  # raises ValueError with a user-facing message
    # A secret (API key, provider token) is write-only: the settings API never reads it back in
    # clear (masking is done where settings are serialised for the API).
    secret: bool = False
    # internal: state the daemon keeps (never shown in the Settings page, not editable there);
    # advanced: shown only behind the Settings page's "Advanced" toggle.
    internal: bool = False
    advanced: bool = False

    def parse(self, raw: Any) -> Any:
        """Parse and validate a user's value; ValueError names what is wrong (not the key)."""
        value = parse_value(self.value_type, raw)
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"must be >= {_num(self.minimum)}, got {_num(value)}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"must be <= {_num(self.maximum)}, got {_num(value)}")
        if self.choices is not None:
            values = value if isinstance(value, list) else [value]
            for item in values:
                if item not in self.choices:
                    raise ValueError(f"must be one of {', '.join(self.choices)}; got {item!r}")
        if self.check is not None:
            self.check(value)
        return value

    @property
    def default_text(self) -> str:
        return dump_value(self.value_type, self.default)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def build_registry(groups: Iterable[list[SettingSpec]]) -> dict[str, SettingSpec]:
    registry: dict[str, SettingSpec] = {}
    for group in groups:
        for spec in group:
            if spec.key in registry:
                raise RuntimeError(f"setting {spec.key} is declared twice")
            spec.parse(spec.default)  # a default that fails its own validation is a bug
            registry[spec.key] = spec
    return registry


def _load() -> dict[str, SettingSpec]:
    from subtitler.settings.everyday import EVERYDAY
    from subtitler.settings.specs import ALL_GROUPS

    registry = build_registry(ALL_GROUPS)
    # The Settings page's front is the household's settings; the rest waits behind Advanced.
    return {
        key: spec if spec.internal else replace(spec, advanced=key not in EVERYDAY)
        for key, spec in registry.items()
    }


REGISTRY: dict[str, SettingSpec] = _load()
