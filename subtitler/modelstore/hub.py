"""The Hugging Face hub's HTTP API, as much as a download needs: a repository's files at a
revision (size, LFS sha256, git blob id) and one file's bytes from an offset. The endpoint is
HF_ENDPOINT (as huggingface_hub reads it), HF_TOKEN is sent when set. Blocking: run in a thread.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from subtitler.errors import SubtitlerError

DEFAULT_ENDPOINT = "https://huggingface.co"
CHUNK = 1 << 20


class HubError(SubtitlerError):
    status = 502
    code = "model_download_failed"


@dataclass(frozen=True)
class RemoteFile:
    repo: str
    revision: str  # the commit the listing resolved to
    name: str
    size: int
    sha256: str | None  # LFS files
    blob_id: str | None  # git's sha1 of the blob (small, non-LFS files)

    def verify(self, path: Path) -> str | None:
        """None when the file on disk is this one; else what is wrong."""
        if path.stat().st_size != self.size:
            return f"{self.name}: {path.stat().st_size} bytes, the hub lists {self.size}"
        if self.sha256:
            digest = hashlib.sha256()
            expected = self.sha256
        elif self.blob_id:
            digest = hashlib.sha1(f"blob {self.size}\0".encode(), usedforsecurity=False)
            expected = self.blob_id
        else:
            return None
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(CHUNK), b""):
                digest.update(block)
        if digest.hexdigest() != expected:
            kind = "sha256" if self.sha256 else "git blob id"
            return f"{self.name}: {kind} {digest.hexdigest()} does not match the hub's {expected}"
        return None


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def _headers() -> dict[str, str]:
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    return {"Authorization": f"Bearer {token}"} if token else {}


class Hub:
    def __init__(self, *, timeout: float = 30.0) -> None:
        self.base = endpoint()
        self._http = httpx.Client(timeout=timeout, follow_redirects=True, headers=_headers())

    def close(self) -> None:
        self._http.close()

    def files(self, repo: str, revision: str = "main") -> list[RemoteFile]:
        url = f"{self.base}/api/models/{repo}/revision/{quote(revision, safe='')}"
        try:
            resp = self._http.get(url, params={"blobs": "true"})
        except httpx.HTTPError as exc:
            raise HubError(f"the hub at {self.base} cannot be reached ({exc})") from None
        if resp.status_code in (401, 403, 404):
            raise HubError(
                f"{repo}@{revision} is not on the hub at {self.base} ({resp.status_code})"
            )
        if resp.status_code != 200:
            raise HubError(f"the hub answered {resp.status_code} for {repo}")
        data = resp.json()
        commit = str(data.get("sha") or revision)
        out = []
        for sib in data.get("siblings") or []:
            lfs = sib.get("lfs") or {}
            size = sib.get("size", lfs.get("size"))
            if size is None:
                raise HubError(f"the hub lists no size for {repo}/{sib.get('rfilename')}")
            out.append(
                RemoteFile(
                    repo=repo,
                    revision=commit,
                    name=str(sib["rfilename"]),
                    size=int(size),
                    sha256=lfs.get("sha256"),
                    blob_id=sib.get("blobId"),
                )
            )
        return out

    def download(
        self,
        file: RemoteFile,
        dest: Path,
        *,
        on_bytes: Callable[[int], None],
        cancelled: Callable[[], bool],
    ) -> None:
        """Append file's bytes to `dest` from its current size (a Range request: an interrupted
        download resumes); a server that ignores the range starts it over."""
        have = dest.stat().st_size if dest.exists() else 0
        if have > file.size:
            dest.unlink()
            have = 0
        if have == file.size:
            return
        url = f"{self.base}/{file.repo}/resolve/{quote(file.revision, safe='')}/{quote(file.name)}"
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with self._http.stream("GET", url, headers=headers) as resp:
                if resp.status_code == 416:
                    return  # nothing left to send; verification decides
                if resp.status_code not in (200, 206):
                    raise HubError(f"the hub answered {resp.status_code} for {file.name}")
                mode = "ab" if resp.status_code == 206 else "wb"
                if mode == "wb" and have:
                    on_bytes(-have)
                with dest.open(mode) as out:
                    for block in resp.iter_bytes():  # as received: a break keeps it
                        if cancelled():
                            raise HubError("the download was cancelled")
                        out.write(block)
                        on_bytes(len(block))
        except httpx.HTTPError as exc:
            raise HubError(
                f"{file.name}: the download broke off ({exc}); download again to resume"
            ) from None
