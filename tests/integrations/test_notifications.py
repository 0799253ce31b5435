"""Signed webhooks (the recipe in subtitler/integrations/signing.py verifies them), retries with
backoff visible in the delivery log, per-job callbacks, worker and scan events, and Apprise
through a json:// URL to an in-test server, with a digest instead of a message per failure."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import shutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from subtitler.daemon import Daemon
from subtitler.db.models import Job
from subtitler.integrations.signing import verify
from tests.fakeservers import Request, fake_server
from tests.integrations.conftest import Lib


async def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.05)


def recipe(secret: str, req: Request) -> bool:
    """The documented recipe, written out by hand: HMAC-SHA256(secret, f"{t}.{raw body}")."""
    fields = dict(part.split("=", 1) for part in req.headers["x-subtitler-signature"].split(","))
    mac = hmac.new(secret.encode(), f"{fields['t']}.".encode() + req.body, hashlib.sha256)
    return hmac.compare_digest(mac.hexdigest(), fields["v1"])


async def run_job(daemon: Daemon, lib: Lib, *, ok: bool, path: Path | None = None) -> Job:
    path = path or (lib.movie if ok else lib.episode)
    job = await daemon.queue.enqueue(file_path=str(path), file_name=path.name)
    await daemon.queue.claim(worker_id="w-test")
    if ok:
        srt = path.with_suffix(".en.srt")
        srt.write_text("1\n00:00:00,100 --> 00:00:00,900\nHi\n\n", encoding="utf-8")
        await daemon.queue.complete(job.id, worker_id="w-test", output_path=str(srt))
    else:
        await daemon.queue.fail(
            job.id, worker_id="w-test", error="decoder exploded", error_code="engine_error"
        )
    return job


async def test_signed_webhooks_for_chosen_events(wired: Daemon, lib: Lib) -> None:
    secret = wired.settings.get("notify_signing_secret")
    assert len(secret) == 64  # generated at first start
    with fake_server(lambda req: (200, {"ok": True})) as receiver:
        await wired.settings.update(
            "notify_webhooks",
            [
                {"url": receiver.url + "/all"},
                {"url": receiver.url + "/failures", "events": ["job.failed"]},
            ],
        )
        done = await run_job(wired, lib, ok=True)
        failed = await run_job(wired, lib, ok=False)
        await eventually(lambda: len(receiver.requests) >= 3)
        await wired.integrations.idle()
        await asyncio.sleep(0.2)
        got = sorted((r.path, r.json()["event"], r.json()["data"]["id"]) for r in receiver.requests)
    assert got == sorted(
        [
            ("/all", "job.completed", done.id),
            ("/all", "job.failed", failed.id),
            ("/failures", "job.failed", failed.id),
        ]
    )
    for req in receiver.requests:
        assert recipe(secret, req) and verify(
            secret, req.body, req.headers["x-subtitler-signature"]
        )
        assert not recipe("another secret", req)
        assert req.headers["x-subtitler-event"] == req.json()["event"]
    completed = next(r for r in receiver.requests if r.json()["event"] == "job.completed")
    assert completed.json()["data"]["output_path"] == str(lib.movie.with_suffix(".en.srt"))


async def test_receiver_down_retries_with_backoff_in_the_delivery_log(
    wired: Daemon, lib: Lib
) -> None:
    answers = iter([503, 503])
    with fake_server(lambda req: (next(answers, 200), None)) as flaky:
        await wired.settings.update("notify_webhooks", [{"url": flaky.url + "/hook?token=s3cret"}])
        await run_job(wired, lib, ok=False)
        await eventually(lambda: len(flaky.requests) >= 3)
        await asyncio.sleep(0.1)
    first, second, third = (r.at for r in flaky.requests[:3])
    assert second - first >= 0.2 and third - second >= 0.4  # base 0.2 s, doubling
    (row,) = await wired.integrations.log.recent(direction="out", channel="webhook")
    assert row["status"] == "delivered" and row["attempts"] == 3
    assert row["target"] == flaky.url + "/hook"  # no query string (tokens live there)

    # Nobody listening at all: three retries, then given up, each attempt counted.
    with fake_server(lambda req: (200, None)) as gone:
        dead_url = gone.url + "/hook"
    await wired.settings.update("notify_webhooks", [{"url": dead_url}])
    await wired.settings.update("notify_retry_seconds", 0.05)
    await run_job(wired, lib, ok=True)

    async def given_up() -> dict[str, Any]:
        while True:
            rows = await wired.integrations.log.recent(direction="out", channel="webhook")
            if rows[0]["target"] == dead_url and rows[0]["status"] == "failed":
                return rows[0]
            await asyncio.sleep(0.05)

    row = await asyncio.wait_for(given_up(), 15)
    assert row["attempts"] == 4 and "giving up" in row["detail"]
    assert "ConnectError" in row["detail"]


async def test_send_test_and_secret_rotation(remote: httpx.AsyncClient, wired: Daemon) -> None:
    key = {"apikey": wired.settings.get("api_key")}
    with fake_server(lambda req: (204, None)) as receiver:
        await wired.settings.update("notify_webhooks", [{"url": receiver.url, "events": []}])
        rotated = (await remote.post("/api/connections/notifications/secret", params=key)).json()
        answer = await remote.post("/api/connections/notifications/test", params=key)
    assert answer.status_code == 200
    (delivery,) = answer.json()["deliveries"]
    assert delivery["status"] == "delivered" and delivery["event"] == "test"
    (req,) = receiver.requests
    assert req.json()["event"] == "test" and recipe(rotated["secret"], req)


async def test_worker_errors_and_scans_are_announced_once(wired: Daemon, lib: Lib) -> None:
    with fake_server(lambda req: (200, None)) as receiver:
        await wired.settings.update("notify_webhooks", [{"url": receiver.url}])
        error = {"worker_id": "cpu-1", "status": "error", "error": "restarted 5 times in 60 s"}
        wired.bus.publish("worker_updated", error)
        wired.bus.publish("worker_updated", error)  # the same error again: no second message
        await wired.settings.update("library_paths", [str(lib.root)])
        await wired.scanner.scan(paths=[str(lib.root)])
        await eventually(lambda: len(receiver.requests) >= 2)
        await wired.integrations.idle()
        await asyncio.sleep(0.2)
    events = sorted(r.json()["event"] for r in receiver.requests)
    assert events == ["scan.finished", "worker.error"]
    scan = next(r.json()["data"] for r in receiver.requests if r.json()["event"] == "scan.finished")
    assert scan["paths_scanned"] == [str(lib.root)] and scan["jobs_created"] == 3


async def test_job_callback_url_is_signed_and_delivered(wired: Daemon, lib: Lib) -> None:
    """Branch `jobs` adds the callback_url column; until then a job-like object stands in."""
    secret = wired.settings.get("notify_signing_secret")
    await wired.settings.update("callback_allow_loopback", True)  # the receiver is on 127.0.0.1
    with fake_server(lambda req: (200, None)) as receiver:
        stand_in = SimpleNamespace(id="f" * 32, callback_url=receiver.url + "/cb")
        row = await wired.integrations.callback(
            stand_in, event="job.completed", data={"id": stand_in.id, "status": "completed"}
        )
        assert (
            await wired.integrations.callback(SimpleNamespace(id="x"), event="e", data={}) is None
        )
    assert row is not None and row["status"] == "delivered" and row["channel"] == "callback"
    (req,) = receiver.requests
    assert req.path == "/cb" and req.json()["data"]["id"] == "f" * 32 and recipe(secret, req)


async def test_job_callback_url_column(wired: Daemon, lib: Lib) -> None:
    await wired.settings.update("callback_allow_loopback", True)  # the receiver is on 127.0.0.1
    with fake_server(lambda req: (200, None)) as receiver:
        job = await wired.queue.enqueue(
            file_path=str(lib.movie), file_name=lib.movie.name, callback_url=receiver.url + "/done"
        )
        await wired.queue.claim(worker_id="w-test")
        await wired.queue.fail(job.id, worker_id="w-test", error="x", error_code="engine_error")
        await eventually(lambda: len(receiver.requests) >= 1)
    assert receiver.requests[0].json()["event"] == "job.failed"


async def test_apprise_json_url_with_a_digest(wired: Daemon, lib: Lib) -> None:
    with fake_server(lambda req: (200, None)) as phone:
        host = phone.url.removeprefix("http://")
        await wired.settings.bulk_update(
            {"apprise_urls": [f"json://{host}/notify"], "apprise_digest_seconds": 1.5}
        )
        for n in range(4):  # a failing library: 4 failures in a row
            copy = lib.movies / f"Film {n}.mkv"
            shutil.copyfile(lib.movie, copy)
            await run_job(wired, lib, ok=False, path=copy)
        await eventually(lambda: len(phone.requests) >= 2, timeout=20)
        await asyncio.sleep(0.3)
    assert len(phone.requests) == 2  # one at once, then one digest of the other three
    first, digest = (r.json() for r in phone.requests)
    assert first["type"] == "failure" and "decoder exploded" in first["message"]
    assert "3 more event(s), 3 failure(s)" in digest["title"]
    assert digest["message"].count("failed:") == 3
    rows = await wired.integrations.log.recent(channel="apprise")
    assert [r["status"] for r in rows] == ["delivered", "delivered"]


async def test_a_pending_delivery_survives_a_restart(config: Any, tmp_path: Path) -> None:
    """The row holds what to send; a daemon stopped mid-backoff resumes it at start."""
    answers = iter([503])
    with fake_server(lambda req: (next(answers, 200), None)) as receiver:
        first = Daemon(config)
        await first.start()
        try:
            await first.settings.bulk_update({"notify_retry_seconds": 1.0, "notify_retries": 3})
            row = await first.integrations.signed.send(
                channel="webhook", url=receiver.url + "/r?k=1", event="job.failed", data={"id": "j"}
            )
            assert row["status"] == "retrying" and row["attempts"] == 1
        finally:
            await first.stop()  # before the retry is due
        assert len(receiver.requests) == 1
        second = Daemon(config)
        await second.start()
        try:
            await eventually(lambda: len(receiver.requests) == 2)
            await asyncio.sleep(0.2)
            (done,) = await second.integrations.log.recent(channel="webhook")
        finally:
            await second.stop()
    assert done["status"] == "delivered" and done["attempts"] == 2
    assert receiver.requests[0].body == receiver.requests[1].body
    assert receiver.requests[1].path == "/r" and receiver.requests[1].query == {"k": ["1"]}
