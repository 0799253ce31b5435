"""Upload limits on the ASR routes: size (413), disk floor and spool quota (507), form fields
(400); nothing stays in the spool after a refusal. Bazarr's video_file outside the library is
never looked at."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from subtitler.daemon import Daemon

MIB = 1024 * 1024


def _spool(daemon: Daemon) -> list[Path]:
    return [p for p in daemon.config.spool_dir.iterdir() if p.name.startswith("upload-")]


async def test_upload_larger_than_max_upload_is_413(
    client: httpx.AsyncClient, daemon: Daemon
) -> None:
    await daemon.settings.update("max_upload_mib", 1)
    audio = os.urandom(2 * MIB)
    for path in ("/asr?encode=false", "/detect-language?encode=false"):
        resp = await client.post(path, files={"audio_file": ("a.pcm", audio)})
        assert resp.status_code == 413, resp.text
        assert "max_upload_mib" in resp.json()["detail"] or "larger" in resp.json()["detail"]
    openai = await client.post(
        "/v1/audio/transcriptions", files={"file": ("a.wav", audio)}, data={"model": "whisper-1"}
    )
    assert openai.status_code == 413
    assert _spool(daemon) == []


async def test_chunked_upload_is_counted_while_streaming(
    client: httpx.AsyncClient, daemon: Daemon
) -> None:
    await daemon.settings.update("max_upload_mib", 1)
    boundary = "b0undary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="audio_file"; '
            'filename="a"\r\n\r\n').encode()  # fmt: skip

    async def body():  # no Content-Length: only the stream tells the size
        yield head
        for _ in range(3):
            yield os.urandom(MIB)
        yield f"\r\n--{boundary}--\r\n".encode()

    resp = await client.post(
        "/asr?encode=false",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert resp.status_code == 413
    assert _spool(daemon) == []


@pytest.mark.parametrize(
    ("setting", "value", "code"),
    [("min_free_disk_mib", 1048576, "disk_full"), ("spool_quota_mib", 1, "spool_full")],
)
async def test_disk_floor_and_spool_quota_are_507(
    client: httpx.AsyncClient, daemon: Daemon, setting: str, value: int, code: str
) -> None:
    waiting = daemon.config.spool_dir / "queued-upload.pcm"
    waiting.write_bytes(os.urandom(MIB))  # a queued request's audio counts against the quota
    await daemon.settings.update(setting, value)
    resp = await client.post("/asr?encode=false", files={"audio_file": ("a", os.urandom(MIB))})
    assert resp.status_code == 507 and resp.json()["code"] == code
    assert _spool(daemon) == [] and waiting.exists()


async def test_too_many_form_fields_is_400(client: httpx.AsyncClient, daemon: Daemon) -> None:
    fields = {f"f{n}": "x" for n in range(200)}
    resp = await client.post(
        "/asr?encode=false", data=fields, files={"audio_file": ("a", b"\0\1" * 100)}
    )
    assert resp.status_code == 400 and resp.json()["code"] == "too_many_fields"
    big = await client.post(
        "/v1/audio/transcriptions", data={"prompt": "y" * 200_000}, files={"file": ("a", b"1")}
    )
    assert big.status_code == 400 and len(big.content) < 1000
    assert _spool(daemon) == []


async def test_video_file_outside_the_library_is_never_looked_at(
    daemon: Daemon, media_file: Path
) -> None:
    assert daemon.asr._map_path("/etc/passwd") is None
    assert daemon.asr._map_path("/etc/missing-file") is None
    assert daemon.asr._map_path("/x\x00y") is None
    assert daemon.asr._map_path(str(media_file)) == str(media_file)


async def test_video_file_is_looked_at_where_this_node_sees_it(
    daemon: Daemon, media_file: Path, tmp_path: Path
) -> None:
    from subtitler.cluster.paths import PathMapper

    mount = tmp_path / "mnt"
    mount.symlink_to(media_file.parent)
    daemon.asr.paths = PathMapper.from_config(f"{media_file.parent}={mount}")
    assert daemon.asr._map_path(str(media_file)) == str(mount / media_file.name)
