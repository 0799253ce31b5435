"""Cue text <-> the short texts a provider translates, keeping what a viewer sees.

Inside subtitler a cue's lines carry inline `<i>`, `<b>`, `<u>` tags (SRT style). A line-level ASS
override at the start of a cue (`{\\an8}` for a top position) is kept aside and put back. A cue
whose every line starts with a dash is a dialogue: each line is translated on its own and keeps
its dash; any other cue is joined into one sentence and re-flowed after translation. A unit that
is italic as a whole is sent without the tags and re-wrapped, so italics survive any provider.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_ASS_INLINE = {"i": "i", "b": "b", "u": "u"}
_ASS_BLOCK = re.compile(r"\{([^}]*)\}")
_ASS_TOGGLE = re.compile(r"\\([ibu])([01])")
_TAG = re.compile(r"</?([ibu])>", re.I)
_DASH = re.compile(r"^\s*[-\u2010\u2011\u2012\u2013\u2014]\s*")


@dataclass(frozen=True, slots=True)
class Unit:
    text: str  # what is sent (inline tags allowed)
    italic: bool = False  # the whole unit was in <i>...</i>


@dataclass(frozen=True, slots=True)
class SourceCue:
    start: float
    end: float
    lines: tuple[str, ...]  # with inline <i>/<b>/<u> tags
    prefix: str = ""  # a line-level ASS override such as {\an8}

    @property
    def dialogue(self) -> bool:
        return len(self.lines) > 1 and all(_DASH.match(strip_tags(line)) for line in self.lines)

    def units(self) -> list[Unit]:
        if self.dialogue:
            return [_unit(_DASH.sub("", line, count=1)) for line in self.lines]
        joined = " ".join(line.strip() for line in self.lines if line.strip())
        joined = re.sub(r"</([ibu])>\s+<\1>", r" ", joined)  # a tag closed and reopened per line
        return [_unit(joined)]


def _unit(text: str) -> Unit:
    text = " ".join(text.split())
    match = re.fullmatch(r"<i>(.*)</i>", text, flags=re.S)
    if match and "<i>" not in match.group(1) and "</i>" not in match.group(1):
        return Unit(text=match.group(1).strip(), italic=True)
    return Unit(text=text)


def to_html(text: str) -> str:
    """Escape everything but our inline tags (for providers that translate HTML)."""
    escaped = html.escape(text, quote=False)
    return re.sub(r"&lt;(/?[ibu])&gt;", r"<\1>", escaped)


def from_html(text: str) -> str:
    return html.unescape(text).strip()


def strip_tags(text: str) -> str:
    return _TAG.sub("", text)


def balanced(text: str) -> bool:
    """Every <i>/<b>/<u> opened is closed in order (a provider may mangle tags)."""
    stack: list[str] = []
    for match in re.finditer(r"<(/?)([ibu])>", text, flags=re.I):
        closing, name = match.group(1) == "/", match.group(2).lower()
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def clean_translation(text: str) -> str:
    """One line of translated text: whitespace collapsed, unbalanced tags dropped."""
    text = " ".join(text.split())
    return text if balanced(text) else strip_tags(text)


def from_ass(text: str) -> tuple[str, tuple[str, ...]]:
    """(line-level prefix, lines with inline tags) of a pysubs2 event's text."""
    prefix = ""
    lead = re.match(r"^(\{[^}]*\})+", text)
    if lead:
        kept = [b for b in _ASS_BLOCK.findall(lead.group(0)) if re.search(r"\\(an?\d|pos)", b)]
        prefix = "".join("{" + re.sub(r"\\[ibu][01]", "", b) + "}" for b in kept)

    def block(match: re.Match[str]) -> str:
        out = ""
        for name, state in _ASS_TOGGLE.findall(match.group(1)):
            out += f"<{_ASS_INLINE[name]}>" if state == "1" else f"</{_ASS_INLINE[name]}>"
        return out

    body = _ASS_BLOCK.sub(block, text).replace("\\n", "\n").replace("\\N", "\n")
    body = body.replace("\\h", " ")
    lines = tuple(line.strip() for line in body.split("\n") if strip_tags(line).strip())
    return prefix, tuple(_close_per_line(lines))


def _close_per_line(lines: tuple[str, ...]) -> list[str]:
    """Tags that span a line break are closed at the end of the line and reopened after."""
    out: list[str] = []
    carried: list[str] = []
    for line in lines:
        text = "".join(f"<{t}>" for t in carried) + line
        stack: list[str] = []
        for match in re.finditer(r"<(/?)([ibu])>", text):
            if match.group(1):
                if match.group(2) in stack:
                    stack.remove(match.group(2))
            else:
                stack.append(match.group(2))
        carried = list(stack)
        out.append(text + "".join(f"</{t}>" for t in reversed(stack)))
    return [re.sub(r"<([ibu])></\1>", "", line) for line in out]


def to_ass(line: str) -> str:
    """A line with inline tags as ASS override tags (what pysubs2 writes back as <i> in SRT)."""

    def tag(match: re.Match[str]) -> str:
        state = "0" if match.group(0)[1] == "/" else "1"
        return "{\\" + match.group(1).lower() + state + "}"

    return _TAG.sub(tag, line)
