"""Where a Bazarr request (/asr, /detect-language) or an OpenAI-compatible one (/v1/audio/*) runs:
here when this node has a worker, else on another node of the cluster that has one, else nowhere
for now (503 with Retry-After).

An ASR job is pinned to the node that spooled its audio, so a node without workers (a NAS with
`SUBTITLER_CPU_WORKERS=0`) would hold Bazarr's request for ever. Instead, after the upload is
received (and checked) here, it is sent on to a node that has a worker (the nodes table has
each node's advertised URL and its workers), authenticated with the cluster's API key, and that
node's answer is streamed back unchanged (heartbeat newlines included). A forwarded request is
never forwarded again.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from subtitler.asr.upload import Upload
from subtitler.cluster.service import LIVE_WORKER, ClusterService

logger = logging.getLogger(__name__)

FORWARDED_BY = "X-Subtitler-Forwarded-By"
RETRY_AFTER_SECONDS = 30
CONNECT_TIMEOUT = 5.0
KEPT_HEADERS = ("content-type", "content-disposition", "asr-engine", "retry-after")


def has_live_worker(workers: Iterable[dict[str, Any]]) -> bool:
    return any(w.get("status") in LIVE_WORKER for w in workers)


def no_worker(detail: str) -> JSONResponse:
    """Bazarr retries later; nothing was queued."""
    return JSONResponse(
        {"detail": detail, "code": "no_worker"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def elsewhere(
    *,
    path: str,
    query: str,
    upload: Upload,
    local_workers: list[dict[str, Any]],
    cluster: ClusterService | None,
    forwarded_by: str | None,
    api_key: str,
    file_field: str = "audio_file",
    form: dict[str, str] | None = None,
) -> Response | None:
    """None: run the request here. Else the answer of the node that ran it, or a 503.
    `file_field` and `form`: the upload's field name and the other form fields, as sent on."""
    if has_live_worker(local_workers):
        return None
    if forwarded_by is not None or cluster is None:
        upload.discard()
        where = "on this node" if forwarded_by is not None else "(no worker is running)"
        return no_worker(f"no worker can run this request {where}; try again later")
    for peer in await cluster.peers_with_workers():
        answer = await _forward(peer, path=path, query=query, upload=upload, api_key=api_key,
                                me=cluster.node_id, file_field=file_field, form=form)  # fmt: skip
        if answer is not None:
            upload.discard()
            return answer
    upload.discard()
    return no_worker(
        "no node of the cluster has a worker running (start one in Workers, or on a worker "
        "node); try again later"
    )


async def _forward(
    peer: dict[str, Any], *, path: str, query: str, upload: Upload, api_key: str, me: str,
    file_field: str = "audio_file", form: dict[str, str] | None = None,
) -> Response | None:  # fmt: skip
    """The peer's answer streamed back; None when it cannot be reached or has no worker now."""
    assert upload.path is not None
    url = f"{peer['url'].rstrip('/')}{path}" + (f"?{query}" if query else "")
    headers = {FORWARDED_BY: me, **({"X-Api-Key": api_key} if api_key else {})}
    timeout = httpx.Timeout(connect=CONNECT_TIMEOUT, read=None, write=120.0, pool=CONNECT_TIMEOUT)
    client = httpx.AsyncClient(timeout=timeout)
    try:
        with upload.path.open("rb") as audio:
            files = {file_field: (upload.filename or file_field, audio,
                                  "application/octet-stream")}  # fmt: skip
            request = client.build_request("POST", url, files=files, data=form or None,
                                           headers=headers)  # fmt: skip
            resp = await client.send(request, stream=True)
    except httpx.HTTPError as exc:
        await client.aclose()
        logger.warning("node %s at %s did not take the request: %s", peer["node_id"], url, exc)
        return None
    if resp.status_code == 503 and resp.headers.get("retry-after"):  # its workers just went
        await resp.aclose()
        await client.aclose()
        return None
    logger.info("%s: no worker here, sent to node %s (%s)", path, peer["node_id"], peer["url"])

    async def close() -> None:  # after the answer, or when Bazarr goes away mid-answer
        await resp.aclose()
        await client.aclose()

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in resp.aiter_bytes():
                yield chunk
        finally:
            await close()

    kept = {k: v for k, v in resp.headers.items() if k.lower() in KEPT_HEADERS}
    kept["X-Subtitler-Node"] = str(peer["node_id"])
    return StreamingResponse(body(), status_code=resp.status_code, headers=kept,
                             background=BackgroundTask(close))  # fmt: skip
