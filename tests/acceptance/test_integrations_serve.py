"""`subtitler serve` as a real process with real workers: Sonarr's import webhook (with the key in
the URL, as Sonarr sends it) queues the mapped file, faster-whisper writes the subtitle, then an
in-test Jellyfin records the refresh with Jellyfin's own path, and a signed webhook receiver gets
`job.completed` whose signature verifies with the documented recipe."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import start_server
from tests.fakeservers import Request, fake_server
from tests.speechgen import ENGLISH, MediaFactory, Track

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks" / "sonarr_download.json"
EPISODE = "The Expanse/Season 01/The Expanse - S01E01 - Dulcinea WEBDL-1080p.mkv"


def jellyfin(req: Request) -> tuple[int, Any]:
    """Jellyfin 12: the token only in `Authorization: MediaBrowser ..., Token="..."`."""
    auth = req.headers.get("authorization", "")
    if not auth.startswith("MediaBrowser ") or 'Token="jf-key"' not in auth:
        return 401, None
    if req.path == "/Library/VirtualFolders":
        return 200, [{"Name": "Shows", "Locations": ["/data/tv"], "CollectionType": "tvshows"}]
    return (204, None) if req.path == "/Library/Media/Updated" else (404, None)


def test_sonarr_import_to_subtitle_to_jellyfin_refresh(tmp_path: Path) -> None:
    media = MediaFactory(tmp_path / "media")
    tv = tmp_path / "library" / "tv"
    video = tv / EPISODE
    video.parent.mkdir(parents=True)
    shutil.copyfile(media.mkv([Track(media.speech(ENGLISH), language="eng")]), video)
    srv = start_server(tmp_path / "data")
    with fake_server(jellyfin) as jf, fake_server(lambda req: (200, None)) as receiver:
        try:
            url = srv.url
            key = httpx.get(f"{url}/api/settings/api_key").json()["value"]
            secret = httpx.post(f"{url}/api/connections/notifications/secret").json()["secret"]
            settings = {
                "path_mappings": [["/tv", str(tv)], ["/data/tv", str(tv)]],
                "jellyfin_url": jf.url,
                "jellyfin_api_key": "jf-key",
                "notify_webhooks": [{"url": receiver.url + "/hook", "events": ["job.completed"]}],
            }
            for name, value in settings.items():
                assert httpx.put(f"{url}/api/settings/{name}", json={"value": value}).is_success
            rule = {"name": "English", "conditions": {"audio_language_is": "eng"},
                    "action": {"target_language": "eng", "quality_preset": "fast"}}  # fmt: skip
            assert httpx.post(f"{url}/api/scan-rules", json=rule).status_code == 201

            body = FIXTURE.read_bytes()
            hook = httpx.post(f"{url}/api/webhooks/sonarr", params={"apikey": key}, content=body,
                              headers={"Content-Type": "application/json"}, timeout=30)  # fmt: skip
            assert hook.status_code == 200, hook.text
            assert hook.json()["status"] == "queued"
            (job_id,) = hook.json()["job_ids"]

            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                job = httpx.get(f"{url}/api/jobs/{job_id}").json()
                if job["status"] in ("completed", "failed"):
                    break
                time.sleep(0.5)
            assert job["status"] == "completed", job
            srt = Path(job["output_path"])
            assert srt.is_file() and srt.parent == video.parent

            updates = jf.wait_for(3)  # VirtualFolders, then Media/Updated
            posted = [r for r in updates if r.path == "/Library/Media/Updated"]
            assert posted, [r.path for r in updates]
            paths = [u["Path"] for u in posted[0].json()["Updates"]]
            assert paths == [f"/data/tv/{Path(EPISODE).parent}/{srt.name}", f"/data/tv/{EPISODE}"]

            (delivery,) = receiver.wait_for(1)
            fields = dict(
                p.split("=", 1) for p in delivery.headers["x-subtitler-signature"].split(",")
            )
            mac = hmac.new(
                secret.encode(), f"{fields['t']}.".encode() + delivery.body, hashlib.sha256
            )
            assert hmac.compare_digest(mac.hexdigest(), fields["v1"])
            sent = json.loads(delivery.body)
            assert sent["event"] == "job.completed" and sent["data"]["id"] == job_id

            log = httpx.get(f"{url}/api/jobs/{job_id}/log").json()
            assert any(line["message"].startswith("asked jellyfin:") for line in log), log
        finally:
            srv.stop()
