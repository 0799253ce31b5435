"""Forced subtitles (issue 22) at the API: the per-job option, the output beside the plain one,
the pre-checked file name, and the Apprise line of a completed forced job."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import httpx

from subtitler.integrations.service import _completed_line
from subtitler.subtitles.naming import is_forced_name


async def _create(client: httpx.AsyncClient, path: Path, **extra: object) -> httpx.Response:
    body = {"file_path": str(path), "target_lang": "eng", "source_lang": "eng", **extra}
    return await client.post("/api/jobs", json=body)


async def test_forced_option_is_its_own_output_beside_the_plain_subtitle(
    client: httpx.AsyncClient, media_file: Path
) -> None:
    forced = await _create(client, media_file, forced=True)
    assert forced.status_code == 201, forced.text
    job = forced.json()
    assert job["variant"] == "forced" and job["target_lang"] == "eng"
    assert job["passages"] is None and job["forced_passages"] is None  # known once it ran
    plain = await _create(client, media_file)  # Show S01E01.eng.srt: another file
    assert plain.status_code == 201, plain.text
    assert plain.json()["variant"] == ""
    again = await _create(client, media_file, variant="forced")  # the same output as forced=true
    assert again.status_code == 409 and again.json()["code"] == "duplicate_job"
    clash = await _create(client, media_file, forced=True, variant="director")
    assert clash.status_code == 400 and clash.json()["code"] == "bad_variant"


async def test_a_foreign_forced_file_that_exists_is_refused_before_work(
    client: httpx.AsyncClient, media_file: Path
) -> None:
    (media_file.parent / "Show S01E01.eng.forced.srt").write_text(
        "1\n00:00:01,000 --> 00:00:02,000\nHi\n"
    )
    resp = await _create(client, media_file, forced=True)
    assert resp.status_code == 409 and resp.json()["code"] == "output_exists"
    assert "Show S01E01.eng.forced.srt" in resp.json()["detail"]


def test_forced_names_and_the_apprise_line() -> None:
    assert is_forced_name("/m/Film.eng.forced.srt") and is_forced_name("/m/Film.eng.ai.forced.vtt")
    assert not is_forced_name("/m/Film.eng.srt") and not is_forced_name(None)
    none = SimpleNamespace(variant="forced", output_path=None, file_name="Film.mkv",
                           forced_passages=0)  # fmt: skip
    assert _completed_line(none) == "no foreign passage in Film.mkv: no forced subtitle"
    some = SimpleNamespace(variant="forced", output_path="/m/Film.eng.forced.srt",
                           file_name="Film.mkv", forced_passages=2)  # fmt: skip
    assert _completed_line(some) == "forced subtitle written (2 passage(s)): /m/Film.eng.forced.srt"
    plain = SimpleNamespace(variant="", output_path="/m/Film.eng.srt")
    assert _completed_line(plain) == "subtitle written: /m/Film.eng.srt"
