"""From media to job requests: the rules engine over a batch of files, with a memo that makes an
unchanged rescan skip the engine, and the queue's columns for a request."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from subtitler.jobs.states import JobType, Task
from subtitler.library.index import StoredRow
from subtitler.library.verdict import FileState, decide
from subtitler.media.probe import MediaInfo
from subtitler.rules.engine import JobRequest, UnknownLanguagePolicy
from subtitler.rules.models import RuleOut
from subtitler.scanner.library import History, Produced
from subtitler.scanner.walker import MediaCandidate
from subtitler.translation.planning import SettingsLike, subtitle_job


def job_fields(
    req: JobRequest, settings: SettingsLike | None = None, *, channel: str = "scan"
) -> dict[str, Any]:
    """The queue's columns for a rule's job request (rule context kept in `options`)."""
    translate = req.task == Task.TRANSLATE
    fields = {
        "file_path": req.file_path,
        "file_name": req.file_name,
        "job_type": JobType.TRANSLATION if translate else JobType.TRANSCRIPTION,
        "source_lang": req.source_lang,
        "target_lang": req.target_lang,
        "quality_preset": req.quality_preset,
        "transcribe_or_translate": req.task,
        "priority": req.priority,
        "is_manual_request": False,
        "channel": channel,
        "rule_id": req.rule_id,
        "rule_name": req.rule_name,
        "variant": req.variant,
        "options": {
            "rule_id": req.rule_id,
            "rule_name": req.rule_name,
            "audio_track": req.audio_track,
            "source_lang_must_be": req.source_lang_must_be,
            "source_lang_must_not_be": req.source_lang_must_not_be,
            **({"diarize": req.diarize} if req.diarize is not None else {}),
        },
    }
    return subtitle_job(fields, sources=req.subtitle_sources, audio_language=req.source_lang,
                        wants_subtitle=req.wants_subtitle, settings=settings)  # fmt: skip


Verdict = tuple[list[JobRequest], bool, int]  # (requests, matched, matches already produced)


class PlanMemo:
    """The last verdict per file, reused while nothing it depends on changed: the file (size,
    mtime), its sidecars, what subtitler produced for it, the rules and the language policy. An
    unchanged rescan then skips the rules engine (a pure function) entirely."""

    def __init__(self) -> None:
        self._context: str | None = None
        self._verdicts: dict[str, tuple[tuple[Any, ...], Verdict]] = {}

    def bind(self, rules: Sequence[RuleOut], policy: UnknownLanguagePolicy) -> None:
        context = json.dumps([r.model_dump(mode="json") for r in rules]) + repr(policy)
        if context != self._context:
            self._context, self._verdicts = context, {}

    def get(self, path: str, key: tuple[Any, ...]) -> Verdict | None:
        hit = self._verdicts.get(path)
        return hit[1] if hit is not None and hit[0] == key else None

    def put(self, path: str, key: tuple[Any, ...], verdict: Verdict) -> None:
        self._verdicts[path] = (key, verdict)


def plan(
    rules: Sequence[RuleOut],
    media: Iterable[MediaInfo],
    produced: Produced,
    policy: UnknownLanguagePolicy,
    memo: PlanMemo | None = None,
    *,
    detected: Mapping[str, dict[int | None, str]] | None = None,
) -> tuple[list[JobRequest], int, int]:
    """(job requests, matched files, matches already produced): pure, run off the loop. The
    rules see each file as `decide` (subtitler.library.verdict) does: with the audio languages
    jobs detected on its untagged tracks."""
    requests: list[JobRequest] = []
    matched = already = 0
    for info in media:
        verdict = file_verdict(rules, info, produced, policy, memo, detected=detected)
        requests.extend(verdict[0])
        matched += verdict[1]
        already += verdict[2]
    return requests, matched, already


def file_verdict(
    rules: Sequence[RuleOut],
    info: MediaInfo,
    produced: Produced,
    policy: UnknownLanguagePolicy,
    memo: PlanMemo | None = None,
    *,
    detected: Mapping[str, dict[int | None, str]] | None = None,
) -> Verdict:
    """One file's (job requests, matched, matches already produced); see `plan`."""
    done = produced.get(info.path, set())
    found = (detected or {}).get(info.path, {})
    key = (
        info.size,
        info.mtime_ns,
        tuple(s.path for s in info.external_subtitles),
        frozenset(done),
        tuple(sorted(found.items(), key=str)),
    )
    verdict = memo.get(info.path, key) if memo is not None else None
    if verdict is None:
        verdicts = decide(rules, info, FileState(produced=done, detected=found), policy).evaluations
        verdict = (
            [v.job for v in verdicts if v.job is not None],
            any(v.matched for v in verdicts),
            sum(1 for v in verdicts if (v.skipped_reason or "").startswith("subtitler")),
        )
        if memo is not None:
            memo.put(info.path, key, verdict)
    return verdict


FileKey = tuple[Any, ...]


def file_key(cand: MediaCandidate, history: History) -> FileKey | None:
    """Everything a file's verdict and Library row depend on besides the rules, the policy and
    the library folders: the file (size, mtime, inode), its sidecars and what subtitler did for
    it. None for a file modified after subtitler's subtitle (`History.forget_stale`): planned
    afresh on every scan."""
    path = cand.path
    done = history.done_at.get(path)
    if done is not None and cand.mtime_ns > done:
        return None
    return (
        cand.size,
        cand.mtime_ns,
        cand.inode,
        tuple(s.path for s in cand.sidecars),
        *state_key(history, path),
    )


def state_key(history: History, path: str) -> tuple[Any, ...]:
    return (
        frozenset(history.produced.get(path, ())),
        frozenset(history.ours.get(path, ())),
        history.live.get(path),
        tuple(sorted(history.detected.get(path, {}).items(), key=str)),
        history.done_at.get(path),
        frozenset(history.ours_paths.get(path, ())),
    )


_NO_VERDICT: Verdict = ([], False, 0)  # most files: shared, not one list each


class ScanMemo:
    """Per file, what the last scan saw (`file_key`), decided (the plan's verdict) and left in
    the Library index (the row), while the rules, the policy and the folders stay the same. A
    file whose key and stored row match is unchanged: a rescan reuses its verdict without
    decoding its probe, deciding or writing anything. Key and row are kept as hashes (a few
    ints a file, whatever its sidecars and row hold)."""

    def __init__(self) -> None:
        self._context: str | None = None
        # path -> (size, mtime_ns, inode, hash(key), hash(row), verdict)
        self._files: dict[str, tuple[int, int, int, int, int, Verdict]] = {}

    def bind(self, rules: Sequence[RuleOut], policy: UnknownLanguagePolicy, roots: Any) -> None:
        context = json.dumps([r.model_dump(mode="json") for r in rules]) + repr((policy, roots))
        if context != self._context:
            self._context, self._files = context, {}

    def unchanged(self, path: str, key: FileKey | None, row: StoredRow | None) -> Verdict | None:
        hit = self._files.get(path)
        if key is None or hit is None or hit[3] != hash(key) or hit[4] != hash(row):
            return None
        return hit[5]

    def replaced(self, cand: MediaCandidate) -> bool:
        """The file has the size and mtime the last scan saw, under another inode: replaced in
        place by a tool that kept its mtime (the probe cache, keyed on size and mtime, would
        not notice)."""
        hit = self._files.get(cand.path)
        if hit is None:
            return False
        return (hit[0], hit[1]) == (cand.size, cand.mtime_ns) and hit[2] != cand.inode

    def put(self, path: str, key: FileKey, verdict: Verdict, row: StoredRow | None) -> None:
        if verdict == _NO_VERDICT:
            verdict = _NO_VERDICT
        self._files[path] = (key[0], key[1], key[2], hash(key), hash(row), verdict)

    def forget_unseen(self, roots: Sequence[str], *, seen: Collection[str]) -> None:
        """Drop the files under `roots` a full walk did not find as media."""
        if len(self._files) <= len(seen):  # every file it holds was seen (the usual case)
            return
        bases = tuple(r.rstrip("/") + "/" for r in roots)
        for path in [p for p in self._files if p.startswith(bases) and p not in seen]:
            del self._files[path]
